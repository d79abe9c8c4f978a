import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { HealthServer } from '../../../src/observability/http-server.js';

/** The HTTP server's part of the lifecycle contract (src/util/lifecycle.ts). */

function server(): HealthServer {
  return new HealthServer({ port: 0, host: '127.0.0.1', registry: new Registry(), readiness: () => ({ ready: true }) });
}

describe('HealthServer stop', () => {
  it('closes a keep-alive connection at once, and a second close is the same close', async () => {
    const http = server();
    const port = await http.listen();
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'keep-alive' } });
    expect(response.status).toBe(200);
    await response.text();
    const first = http.close();
    expect(http.close()).toBe(first);
    await first;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('is safe before listen, which is refused afterwards; a close during listen leaves nothing listening', async () => {
    const never = server();
    await never.close();
    await expect(never.listen()).rejects.toThrow('closed');

    const racing = server();
    const listening = racing.listen();
    await racing.close();
    const port = await listening;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
