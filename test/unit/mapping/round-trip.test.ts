import { Message } from 'node-hl7-client';
import { describe, expect, it } from 'vitest';
import type { FhirIdentifier, FhirPatient, PatientEvent } from '../../../src/event/patient-event.js';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import type { OutboundMessage, Trigger } from '../../../src/mapping/profile.js';
import { GOLDEN_CASES, VERSIONS, acmeProfile, eventOf, loadEvent, MARCH_15 } from './mapping-fixtures.js';

/**
 * Round trip through an independent parser, node-hl7-client 3.2.0: every message we build
 * must parse, and its key fields must read back as the values of the input event.
 *
 * What the library does (checked below, in "node-hl7-client behaviour"): `toString()`
 * un-escapes `\F\ \S\ \T\ \R\ \E\` and the hex escapes `\X0D\ \X0A\`, so it returns the
 * original data; `toRaw()` returns the escaped text as on the wire. Path components are
 * 1-based (`PID.3.4.2` = PID-3, CX-4, HD-2); a repeating field's repetitions come from
 * `get('PID.3').toArray()`, each read with 1-based string paths (`rep.get('4.1')`).
 */

const STRUCTURES: Record<Trigger, string> = {
  A01: 'ADT_A01',
  A04: 'ADT_A01',
  A08: 'ADT_A01',
  A28: 'ADT_A05',
  A31: 'ADT_A05',
  A38: 'ADT_A38',
  A40: 'ADT_A39',
};

const str = (m: Message, path: string): string => m.get(path).toString();

/** The identifiers PID-3 / MRG-1 must carry: those with a value and some authority. */
const usable = (ids: readonly FhirIdentifier[] | undefined): FhirIdentifier[] =>
  (ids ?? []).filter((i) => i.value && (i.system || i.assigner?.display));

/** RFC 3339 -> the HL7 TS we expect, written independently of src/hl7/timestamp.ts. */
function expectedTs(rfc3339: string): string {
  const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,4})\d*)?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!match) throw new Error(`fixture occurredAt not RFC 3339: ${rfc3339}`);
  const [, y, mo, d, h, mi, s, frac, zone] = match;
  return `${y}${mo}${d}${h}${mi}${s}${frac ? `.${frac}` : ''}${zone === 'Z' ? '+0000' : (zone ?? '').replace(':', '')}`;
}

function checkIdentifiers(m: Message, path: string, ids: readonly FhirIdentifier[] | undefined): void {
  const expected = usable(ids);
  const reps = m.get(path).toArray();
  expect(reps.map((r) => r.get('1').toString())).toEqual(expected.map((i) => i.value));
  reps.forEach((rep, k) => {
    const id = expected[k];
    if (id?.system?.startsWith('urn:oid:')) {
      expect(rep.get('4.2').toString()).toBe(id.system.slice('urn:oid:'.length));
      expect(rep.get('4.3').toString()).toBe('ISO');
    }
    expect(rep.get('5').toString()).toBe(id?.type?.coding?.[0]?.code ?? '');
  });
}

function checkPatient(m: Message, patient: FhirPatient): void {
  expect(str(m, 'PID.1')).toBe('1');
  checkIdentifiers(m, 'PID.3', patient.identifier);
  const official = patient.name?.find((n) => n.use === 'official');
  if (official) {
    expect(str(m, 'PID.5.1')).toBe(official.family);
    expect(str(m, 'PID.5.2')).toBe(official.given?.[0] ?? '');
    expect(str(m, 'PID.5.7')).toBe('L');
  }
  expect(str(m, 'PID.7')).toBe((patient.birthDate ?? '').replaceAll('-', ''));
  expect(str(m, 'PID.8')).toBe(patient.gender ? { male: 'M', female: 'F', other: 'O', unknown: 'U' }[patient.gender] : '');
  const address = patient.address?.[0];
  if (address?.line?.[0]) expect(str(m, 'PID.11.1')).toBe(address.line[0]);
  if (address?.city) expect(str(m, 'PID.11.3')).toBe(address.city);
  expect(str(m, 'PID.30')).toBe(patient.deceasedDateTime || patient.deceasedBoolean ? 'Y' : patient.deceasedBoolean === false ? 'N' : '');
}

/** The record in PID of message `index`: the survivor, or for an unmerge the restored record. */
function pidRecord(event: PatientEvent, trigger: Trigger, index: number): FhirPatient {
  if (trigger === 'A40' || index === 0) return event.patient;
  const record = event.replaced?.[index - 1];
  if (!record) throw new Error('no such replaced record');
  return record;
}

function parse(message: OutboundMessage): Message {
  return new Message({ text: message.text });
}

describe('round trip through node-hl7-client', () => {
  for (const c of GOLDEN_CASES) {
    for (const version of VERSIONS) {
      it(`${c.golden} in ${version}`, () => {
        const event = eventOf(c);
        // Lengths kept: this checks that every value survives the encoding; cutting values to
        // a version's maximum is tested in test/unit/hl7/conform-message.test.ts.
        const profile = acmeProfile({ ...c.profile, version, lengths: 'keep' });
        const result = buildMessages(event, profile, c.time);
        if (result.kind !== 'messages') throw new Error(result.reason);
        result.messages.forEach((built, index) => {
          const m = parse(built);
          expect(str(m, 'MSH.3')).toBe(profile.sendingApplication);
          expect(str(m, 'MSH.4')).toBe(profile.sendingFacility);
          expect(str(m, 'MSH.5')).toBe(profile.receivingApplication);
          expect(str(m, 'MSH.6')).toBe(profile.receivingFacility);
          expect(str(m, 'MSH.8')).toBe(profile.security ?? '');
          expect([str(m, 'MSH.9.1'), str(m, 'MSH.9.2'), str(m, 'MSH.9.3')]).toEqual(['ADT', c.trigger, STRUCTURES[c.trigger]]);
          expect(str(m, 'MSH.10')).toBe(built.controlId);
          expect(str(m, 'MSH.11')).toBe(profile.processingId);
          expect(str(m, 'MSH.12')).toBe(version);
          expect(str(m, 'MSH.18')).toBe(/[^\x00-\x7f]/.test(built.text) ? (version === '2.3.1' || version === '2.4' ? 'UNICODE' : 'UNICODE UTF-8') : '');
          expect(str(m, 'EVN.1')).toBe(version === '2.3.1' ? c.trigger : '');
          expect(str(m, 'EVN.2')).toBe(str(m, 'MSH.7'));
          expect(str(m, 'EVN.5')).toBe(event.source?.user ?? '');
          expect(str(m, 'EVN.6')).toBe(expectedTs(event.occurredAt));
          checkPatient(m, pidRecord(event, c.trigger, index));

          if (c.trigger === 'A40') {
            const replaced = event.replaced?.[index];
            checkIdentifiers(m, 'MRG.1', replaced?.identifier);
            expect(str(m, 'MRG.7.1')).toBe(replaced?.name?.find((n) => n.use === 'official')?.family ?? '');
            expect(m.exists('PV1')).toBe(false);
          } else {
            const visit = index === 0 && c.trigger !== 'A28' && c.trigger !== 'A31' ? event.visit : undefined;
            expect(str(m, 'PV1.1')).toBe('1');
            expect(str(m, 'PV1.2')).toBe(c.trigger === 'A38' ? 'P' : (visit?.class ?? 'N'));
            expect(str(m, 'PV1.19.1')).toBe(visit?.number ?? '');
          }
        });
      });
    }
  }
});

describe('node-hl7-client behaviour (what the round trip relies on)', () => {
  const result = buildMessages(loadEvent('create-special-chars'), acmeProfile(), MARCH_15);
  const built = result.kind === 'messages' ? result.messages[0] : undefined;
  const m = new Message({ text: built?.text ?? '' });

  it('toString() un-escapes our escapes, hex CR/LF included; toRaw() keeps the wire form', () => {
    expect(m.get('PID.3.1').toString()).toBe('A|B^C~D\\E&F');
    expect(m.get('PID.3.1').toRaw()).toBe('A\\F\\B\\S\\C\\R\\D\\E\\E\\T\\F');
    expect(m.get('PID.5.3').toString()).toBe('Ærø|Bo');
    expect(m.get('PID.5.4').toString()).toBe('\\III');
    expect(m.get('PID.5.5').toString()).toBe('Dr & Prof');
    expect(m.get('PID.11.2').toString()).toBe('Hinterhaus\nLinks');
    expect(m.get('PID.11.2').toRaw()).toBe('Hinterhaus\\X0A\\Links');
    expect(m.get('EVN.5').toString()).toBe('j|doe');
  });

  it('reads non-ASCII text back unchanged and sees the official name as the first PID-5 repetition', () => {
    expect(m.get('PID.5').toArray().map((r) => [r.get('1').toString(), r.get('2').toString(), r.get('7').toString()])).toEqual([
      ['Müller-Łukasiewicz', 'Zoë', 'L'],
      ['Z~Z', 'Zo^e', 'N'],
    ]);
    expect(m.get('PID.11.3').toString()).toBe('Köln');
    expect(m.get('MSH.18').toString()).toBe('UNICODE UTF-8');
  });
});
