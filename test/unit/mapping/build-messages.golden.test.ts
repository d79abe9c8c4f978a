import { describe, expect, it } from 'vitest';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import type { OutboundMessage } from '../../../src/mapping/profile.js';
import {
  APRIL_5,
  GOLDEN_CASES,
  MARCH_15,
  VERSIONS,
  acmeProfile,
  eventOf,
  loadEvent,
  readGolden,
  segmentsOf,
  writeGolden,
} from './mapping-fixtures.js';
import type { Hl7Version } from '../../../src/hl7/versions.js';

/**
 * Golden tests: event JSON in, exact HL7 out, for every trigger in every supported version
 * with a fixed BuildTime. `UPDATE_GOLDEN=1 npx vitest run test/unit/mapping/build-messages.golden.test.ts`
 * rewrites the files from the current mapper: review the diff before committing it. The files under test/golden are stored with `\n` between segments
 * (readable, diffable) and turned into the wire's `\r` by readGolden before comparing.
 */

function build(c: (typeof GOLDEN_CASES)[number], version: Hl7Version): OutboundMessage[] {
  const result = buildMessages(eventOf(c), acmeProfile({ ...c.profile, version }), c.time);
  if (result.kind !== 'messages') throw new Error(`expected messages, got skipped: ${result.reason}`);
  return result.messages;
}

describe('buildMessages golden files', () => {
  for (const c of GOLDEN_CASES) {
    for (const version of VERSIONS) {
      it(`${c.golden} (${c.trigger}) in ${version}`, () => {
        const messages = build(c, version);
        if (process.env['UPDATE_GOLDEN']) writeGolden(`${c.golden}.${version}`, messages);
        const expected = readGolden(`${c.golden}.${version}`);
        expect(messages).toHaveLength(c.count);
        expect(expected).toHaveLength(c.count);
        expect(messages.map((m) => m.text)).toEqual(expected);
        for (const m of messages) {
          expect(m.trigger).toBe(c.trigger);
          expect(m.text.split('\r')[0]?.split('|')[9]).toBe(m.controlId); // MSH-10
          expect(m.text.endsWith('\r')).toBe(true);
          expect(m.text).not.toContain('\n');
        }
        expect(new Set(messages.map((m) => m.controlId)).size).toBe(messages.length);
      });
    }
  }

  it('gives the same control ids in both versions (MSH-10 depends on event, subscription and index only)', () => {
    for (const c of GOLDEN_CASES) {
      for (const version of VERSIONS) expect(build(c, version).map((m) => m.controlId)).toEqual(build(c, '2.5').map((m) => m.controlId));
    }
  });
});

/**
 * The two example messages of the project's outbound rules (the A01 and A40 that
 * docs/CODE-MAPPINGS.md describes), copied verbatim, one segment per line. Our MSH-10 is
 * derived from the event id, so it differs from the example's: everything else must match
 * exactly, and MSH-10 is checked for its shape.
 */
const DOC_EXAMPLE_A01 = `MSH|^~\\&|ACME_EHR|ACME_HOSP|PIX_MGR|REGION_HIE|20260315143022+0100||ADT^A01^ADT_A01|K7Q2M9X4TB1C8D3E5F6G|P|2.5
EVN||20260315143022+0100||||20260315142900+0100
PID|1||PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI~1203841234^^^NATID&1.2.3.4.5.6.2&ISO^NI||O'Brien-Smith^Anne^Marie^^Dr^^L||19840312|F|||12 King \\T\\ Queen St^Apt 4^Springfield^SP^12345^USA^H||^PRN^PH^^^^^^^^^+1 555 1234567~^NET^Internet^anne@example.org
PV1|1|N`;

const DOC_EXAMPLE_A40 = `MSH|^~\\&|ACME_EHR|ACME_HOSP|PIX_MGR|REGION_HIE|20260405110000+0200||ADT^A40^ADT_A39|R2D8W1P6N0H3J5L7K9M4|P|2.5
EVN||20260405110000+0200||||20260405105500+0200
PID|1||PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI||O'Brien-Smith^Anne^Marie^^Dr^^L||19840312|F
MRG|PAT-000999^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI||||||OBrien^Anne^^^^^L`;

/** Segments with MSH-10 blanked. */
function withoutControlId(segments: string[]): string[] {
  return segments.map((s) => {
    if (!s.startsWith('MSH|')) return s;
    const fields = s.split('|');
    fields[9] = '<MSH-10>';
    return fields.join('|');
  });
}

describe('the outbound rules\' example messages', () => {
  it('reproduces the A01 example (all but MSH-10)', () => {
    const result = buildMessages(loadEvent('create-anne'), acmeProfile(), MARCH_15);
    expect(result.kind).toBe('messages');
    if (result.kind !== 'messages') return;
    expect(result.messages).toHaveLength(1);
    const [message] = result.messages;
    expect(withoutControlId(segmentsOf(message?.text ?? ''))).toEqual(withoutControlId(DOC_EXAMPLE_A01.split('\n')));
    expect(message?.controlId).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
    expect(message?.text.split('|')[9]).toBe(message?.controlId);
  });

  it('reproduces the A40 example (all but MSH-10), with the survivor authority in MRG-1', () => {
    // The profile knows no namespace for the OID: the replaced identifier (system only)
    // gets ACME_MPI from the survivor's PID-3 identifier of the same system.
    const result = buildMessages(loadEvent('merge-anne'), acmeProfile({ assigningAuthorities: {} }), APRIL_5);
    expect(result.kind).toBe('messages');
    if (result.kind !== 'messages') return;
    expect(result.messages).toHaveLength(1);
    const [message] = result.messages;
    expect(withoutControlId(segmentsOf(message?.text ?? ''))).toEqual(withoutControlId(DOC_EXAMPLE_A40.split('\n')));
    expect(message?.controlId).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
  });
});
