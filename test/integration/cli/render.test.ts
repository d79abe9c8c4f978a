import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';
import { runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mllp-cli-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

const example = (name: string) => join(PACKAGE_ROOT, 'examples', 'events', name);

const configFile = write('render.json', {
  subscriptions: [
    {
      name: 'pix-feed',
      endpoint: 'llp://127.0.0.1:2575',
      settings: { MSH34: 'ACME_EHR|ACME_HOSP', MSH56: 'PIX_MGR|REGION_HIE', SendAs: 'Server', Version: '2.5' },
    },
    {
      name: 'legacy-feed',
      endpoint: 'llp://127.0.0.1:2576',
      when: ['patient.gender=male'],
      settings: { MSH34: 'ACME_EHR|ACME_HOSP', MSH8: 'render-secret', Version: '2.3.1', SendAs: 'Client' },
    },
  ],
});

/** Renders in Europe/Berlin so MSH-7 matches the example A01 (+0100 in March). */
function render(event: string, subscription: string, now: string) {
  return runCli(['render', event, '--config', configFile, '--subscription', subscription, '--now', now], { env: { TZ: 'Europe/Berlin' } });
}

describe('mllp-dispatcher render', () => {
  it('prints the A01 for a create event, one segment per line (the example A01)', async () => {
    const result = await render(example('01-create.json'), 'pix-feed', '2026-03-15T13:30:22Z');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^MSH\|\^~\\&\|ACME_EHR\|ACME_HOSP\|PIX_MGR\|REGION_HIE\|20260315143022\+0100\|\|ADT\^A01\^ADT_A01\|[A-Z0-9]{1,20}\|P\|2\.5$/);
    expect(lines[1]).toBe('EVN||20260315143022+0100|||jdoe|20260315142900+0100');
    expect(lines[2]).toBe(
      "PID|1||PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI||O'Brien-Smith^Anne^Marie^^Dr^^L||19840312|F|||12 King \\T\\ Queen St^Apt 4^Springfield^SP^12345^USA^H||^PRN^PH^^^^^^^^^+1 555 1234567~^NET^Internet^anne@example.org",
    );
    expect(lines[3]).toBe('PV1|1|N');
    expect(result.stdout).not.toContain('\r');
  });

  it('gives the same MSH-10 every time for the same event and subscription, and another for another subscription', async () => {
    const controlId = (stdout: string) => stdout.split('\n')[0]!.split('|')[9]!;
    const first = await render(example('01-create.json'), 'pix-feed', '2026-03-15T13:30:22Z');
    const again = await render(example('01-create.json'), 'pix-feed', '2027-01-01T00:00:00Z');
    const other = await render(example('01-create.json'), 'legacy-feed', '2026-03-15T13:30:22Z');
    expect(controlId(first.stdout).length).toBeLessThanOrEqual(20);
    expect(controlId(again.stdout)).toBe(controlId(first.stdout));
    expect(controlId(other.stdout)).not.toBe(controlId(first.stdout));
  });

  it('prints the A40 of a merge with its MRG segment', async () => {
    const result = await render(example('03-merge.json'), 'pix-feed', '2026-04-05T09:00:00Z');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MSH\|\^~\\&\|ACME_EHR\|ACME_HOSP\|PIX_MGR\|REGION_HIE\|20260405110000\+0200\|\|ADT\^A40\^ADT_A39\|[A-Z0-9]{1,20}\|P\|2\.5$/);
    expect(lines).toContain("PID|1||PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI||O'Brien-Smith^Anne^Marie^^Dr^^L||19840312|F");
    expect(lines).toContain('MRG|PAT-000999^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI||||||OBrien^Anne^^^^^L');
  });

  it('renders version 2.3.1 with MSH-8, EVN-1 and the 2.3.1 telecom layout, and notes (on stderr) a filter that would not match', async () => {
    const result = await render(example('01-create.json'), 'legacy-feed', '2026-03-15T13:30:22Z');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MSH\|\^~\\&\|ACME_EHR\|ACME_HOSP\|\|\|20260315143022\+0100\|render-secret\|ADT\^A01\^ADT_A01\|[A-Z0-9]{1,20}\|P\|2\.3\.1$/);
    expect(lines[1]).toBe('EVN|A01|20260315143022+0100|||jdoe|20260315142900+0100');
    expect(lines[2]).toMatch(/\|\|\+1 555 1234567\^PRN\^PH~\^NET\^Internet\^anne@example\.org$/);
    expect(result.stderr).toMatch(/note: subscription legacy-feed would not send this event \(filtered: /);
  });

  it('prints nothing for an event the trigger table skips (delete with SendAs Client) and says so on stderr, exit 0', async () => {
    const result = await render(example('04-delete.json'), 'legacy-feed', '2026-04-06T06:00:00Z');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no message: the event would be acknowledged as skipped');
    const server = await render(example('04-delete.json'), 'pix-feed', '2026-04-06T06:00:00Z');
    expect(server.stdout.split('\n')[0]).toMatch(/\|ADT\^A38\^ADT_A38\|/);
  });

  it('an invalid event: exit 1 with the reason it would be dead-lettered', async () => {
    const result = await render(example('05-invalid-no-authority.json'), 'pix-feed', '2026-04-06T06:00:00Z');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('invalid event (it would be dead-lettered as invalid-event): patient.identifier: no identifier has both a value and an authority');
    // The reason names no patient data.
    expect(result.stderr).not.toContain('NO-AUTHORITY-42');
    expect(result.stderr).not.toContain('Nobody');

    const notJson = await render(write('not-json.json', '{ "id": '), 'pix-feed', '2026-04-06T06:00:00Z');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('invalid event (it would be dead-lettered as invalid-event): body is not JSON');
  });

  it('a missing event file: exit 1; an unknown subscription: exit 78; several subscriptions and no --subscription: exit 64', async () => {
    const missing = await render(join(dir, 'nope.json'), 'pix-feed', '2026-04-06T06:00:00Z');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot read ${join(dir, 'nope.json')}: ENOENT`);
    const unknown = await render(example('01-create.json'), 'no-such-feed', '2026-04-06T06:00:00Z');
    expect(unknown.code).toBe(78);
    expect(unknown.stderr).toContain('no subscription named "no-such-feed" (configured: pix-feed, legacy-feed)');
    const ambiguous = await runCli(['render', example('01-create.json'), '--config', configFile]);
    expect(ambiguous.code).toBe(64);
    expect(ambiguous.stderr).toContain('--subscription is required: the configuration has 2 subscriptions');
  });

  it('without any configuration renders with the global defaults (MSH-3 MLLP_DISPATCHER, v2.5, SendAs Client)', async () => {
    const result = await runCli(['render', example('01-create.json'), '--now', '2026-03-15T13:30:22Z']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^MSH\|\^~\\&\|MLLP_DISPATCHER\|\|\|\|20260315133022\+0000\|\|ADT\^A01\^ADT_A01\|[A-Z0-9]{1,20}\|P\|2\.5$/);
  });

  it('--charset and --bytes: shows what goes on the wire in that charset, the ISO-8859-1 bytes included', async () => {
    const zoe = write('zoe.json', {
      id: 'evt-zoe-render',
      type: 'create',
      occurredAt: '2026-03-15T14:29:00+01:00',
      patient: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: 'PAT-9', assigner: { display: 'ACME_MPI' } }], name: [{ use: 'official', family: 'Ødegård-Müller', given: ['Zoë', '山田'] }] },
    });
    const args = ['render', zoe, '--config', configFile, '--subscription', 'pix-feed', '--now', '2026-03-15T13:30:22Z'];
    const latin1 = await runCli([...args, '--charset', 'ISO-8859-1', '--bytes'], { env: { TZ: 'Europe/Berlin' } });
    expect(latin1.code).toBe(0);
    expect(latin1.stdout).toContain('|Ødegård-Müller^Zoë^??^^^^L\n');
    expect(latin1.stdout.split('\n')[0]).toMatch(/\|P\|2\.5\|\|\|\|\|\|8859\/1$/);
    // The hex dump: the frame starts with 0x0B, Ø is the single byte d8, ë is eb.
    expect(latin1.stdout).toMatch(/^00000000  0b 4d 53 48 7c /m);
    const dumped = Buffer.from(
      [...latin1.stdout.matchAll(/^[0-9a-f]{8}  (.{49})/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).map((hex) => Number.parseInt(hex, 16))),
    );
    expect(dumped.includes(Buffer.from('Ødegård-Müller^Zoë', 'latin1'))).toBe(true);
    expect(dumped.includes(Buffer.from('Ø', 'utf8'))).toBe(false);
    expect(dumped.at(-2)).toBe(0x1c);
    const utf8 = await runCli(args, { env: { TZ: 'Europe/Berlin' } });
    expect(utf8.stdout).toContain('|Ødegård-Müller^Zoë^山田^^^^L\n');
    expect(utf8.stdout.split('\n')[0]).toMatch(/\|UNICODE UTF-8$/);
    const bad = await runCli([...args, '--charset', 'EBCDIC']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--charset must be one of UTF-8, ISO-8859-1, Windows-1252, ASCII');
  });
});
