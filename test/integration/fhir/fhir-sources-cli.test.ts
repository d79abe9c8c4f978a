import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'i17-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

const subscriptions = [{ name: 'i17-feed', endpoint: 'llp://127.0.0.1:2575' }];

describe('check-config with fhirSources', () => {
  it('prints the sources of a valid configuration (exit 0)', async () => {
    write('token', 'tok-secret-1717\n');
    const file = write('valid.json', { http: { port: 0 }, subscriptions, fhirSources: [{ name: 'ehealth', baseUrl: 'https://fhir.example.org/fhir', bearerTokenFile: 'token' }] });
    const result = await runCli(['check-config', '--config', file]);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { fhirSources: unknown }).fhirSources).toEqual([{ name: 'ehealth', baseUrl: 'https://fhir.example.org/fhir', bearerTokenFile: 'token' }]);
    expect(result.stdout).not.toContain('tok-secret-1717');
  });

  it('lists every fhirSources problem at once and exits 78', async () => {
    const file = write('invalid.json', {
      http: { port: 0 },
      subscriptions,
      fhirSources: [{ name: 'a', baseUrl: 'gopher://fhir.example.org/' }, { name: 'a', baseUrl: 'https://fhir.example.org/', timeoutMs: -1, extra: true }],
    });
    const result = await runCli(['check-config', '--config', file]);
    expect(result.code).toBe(78);
    for (const problem of [
      'fhirSources[0] (a).baseUrl: must be an absolute http:// or https:// URL',
      'fhirSources[1] (a).name: is used by another FHIR source',
      'fhirSources[1] (a).timeoutMs: must be an integer from 1 to 600000',
      'fhirSources[1] (a).extra: is not a known setting',
    ]) {
      expect(result.stderr).toContain(problem);
    }
  });
});
