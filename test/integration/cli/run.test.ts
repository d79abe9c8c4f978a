import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcess } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mllp-cli-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('mllp-dispatcher run: secrets stay out of the logs', () => {
  it('logs the configuration masked and the unreachable broker without its password; SIGTERM while reconnecting exits 0', async () => {
    const brokerPort = await closedPort();
    writeFileSync(join(dir, 'pw'), 'file-pw-4401\n');
    writeFileSync(join(dir, 'msh8'), 'file-msh8-4402\n');
    const configFile = join(dir, 'run.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        amqp: { url: `amqp://svc:url-pw-4400@127.0.0.1:${brokerPort}`, passwordFile: 'pw', reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
        http: { port: 0, host: '127.0.0.1' },
        log: { level: 'debug' },
        subscriptions: [
          { name: 'pix-feed', endpoint: 'llp://127.0.0.1:2575', settings: { MSH8: 'inline-msh8-4403' } },
          { name: 'lab-feed', endpoint: 'llp://127.0.0.1:2576', settings: { MSH8File: 'msh8' } },
        ],
      }),
    );
    const daemon = new CliProcess(['run', '--config', configFile], { env: { AMQP_URL: `amqp://svc:env-pw-4404@127.0.0.1:${brokerPort}` } });
    try {
      // Two failed connection attempts per subscription: the backoff loop is running.
      await daemon.waitForOutput(/cannot connect to the broker[\s\S]*cannot connect to the broker[\s\S]*cannot connect to the broker[\s\S]*cannot connect to the broker/);
    } finally {
      expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    }
    const lines = daemon.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const loaded = lines.find((line) => line.msg === 'configuration loaded') as { config: { amqp: { url: string[] }; subscriptions: Array<{ settings: Record<string, string> }> } };
    expect(loaded.config.amqp.url).toEqual([`amqp://svc:********@127.0.0.1:${brokerPort}`]);
    expect(loaded.config.subscriptions[0]!.settings.MSH8).toBe('********');
    const refused = lines.filter((line) => line.msg === 'cannot connect to the broker');
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(refused[0]).toMatchObject({ broker: `amqp://svc:********@127.0.0.1:${brokerPort}` });
    expect(String(refused[0]!.err)).toMatch(/ECONNREFUSED/);
    for (const secret of ['url-pw-4400', 'file-pw-4401', 'file-msh8-4402', 'inline-msh8-4403', 'env-pw-4404']) {
      expect(daemon.stdout).not.toContain(secret);
      expect(daemon.stderr).not.toContain(secret);
    }
    // The stop was the graceful one.
    expect(lines.some((line) => line.msg === 'mllp-dispatcher stopped')).toBe(true);
  });
});
