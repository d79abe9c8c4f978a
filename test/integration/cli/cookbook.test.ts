import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';
import { runCli } from '../../helpers/cli.js';
import { assertValidHl7 } from '../../helpers/hl7-validator/index.js';

/**
 * The receiver-profile cookbook (README "Fitting a receiver", examples/cookbook.json): it
 * passes check-config, and `render` shows each profile's messages, every one valid HL7 for
 * its version.
 */

const COOKBOOK = join(PACKAGE_ROOT, 'examples', 'cookbook.json');
const event = (name: string): string => join(PACKAGE_ROOT, 'examples', 'events', name);

async function render(subscription: string, eventFile: string): Promise<string[]> {
  const result = await runCli(['render', eventFile, '--config', COOKBOOK, '--subscription', subscription, '--now', '2026-03-15T13:30:22Z']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const messages = result.stdout.trimEnd().split('\n\n').map((message) => `${message.split('\n').join('\r')}\r`);
  for (const message of messages) assertValidHl7(message);
  return messages;
}

const segment = (message: string, name: string): string => message.split('\r').find((s) => s.startsWith(`${name}|`)) ?? '';

describe('the receiver-profile cookbook', () => {
  it('is a valid configuration', async () => {
    const result = await runCli(['check-config', '--config', COOKBOOK]);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).toContain('5 subscription(s): pix-feed, pam-feed, lab-feed, legacy-feed, dmz-feed');
  });

  it('renders each profile as its receiver wants it', async () => {
    const [pix] = await render('pix-feed', event('01-create.json'));
    expect(segment(pix!, 'MSH')).toMatch(/\|PIX_MGR\|REGION_HIE\|.*\|ADT\^A04\^ADT_A01\|[A-Z0-9]{20}\|P\|2\.3\.1$/);

    const [pam] = await render('pam-feed', event('06-two-identifiers.json'));
    expect(segment(pam!, 'MSH')).toContain('|ADT^A28^ADT_A05|');
    expect(segment(pam!, 'PID').split('|')[3]).toBe('PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO~MRN-55501^^^ACME_HOSP_MRN&1.2.3.4.5.6.2&ISO^MR');

    const [lab] = await render('lab-feed', event('06-two-identifiers.json'));
    expect(segment(lab!, 'PV1')).toBe(`PV1|1|I|LAB_WARD${'|'.repeat(16)}VN-7`);
    expect(segment(lab!, 'EVN').split('|')[5]).toBe('');
    expect(segment(lab!, 'MSH').split('|')[17]).toBe('8859/1');

    const [legacy] = await render('legacy-feed', event('06-two-identifiers.json'));
    expect(segment(legacy!, 'PID').split('|').slice(2, 4)).toEqual(['MRN-55501^^^ACME_HOSP_MRN&1.2.3.4.5.6.2&ISO^MR', 'PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO']);
    expect(segment(legacy!, 'ZPI')).toBe('ZPI|f2b9c1|ACME_HOSP');
  });

  it('check-config refuses a profile that leaves out a required segment or names a path the version lacks, naming each (exit 78)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mllp-cookbook-')), 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        profiles: { 'no-visit': { settings: { Version: '2.3.1' }, segments: { omit: ['PV1'] }, fields: { 'PV1-53': 'x' } } },
        subscriptions: [{ name: 'lab', profile: 'no-visit', endpoint: 'llp://lab:2575', events: ['create'] }],
      }),
    );
    const result = await runCli(['check-config', '--config', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('subscriptions[0] (lab).segments.omit: PV1 is required in ADT_A01 (HL7 2.3.1) and cannot be left out');
    expect(result.stderr).toContain('subscriptions[0] (lab).fields.PV1-53: PV1 has 52 fields in HL7 2.3.1');
  });
});
