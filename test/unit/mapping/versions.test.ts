import { describe, expect, it } from 'vitest';
import type { PatientEvent } from '../../../src/event/patient-event.js';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import { characterSetCode } from '../../../src/mapping/msh.js';
import { patientClass } from '../../../src/mapping/pv1.js';
import { HL7_VERSIONS } from '../../../src/hl7/versions.js';
import { encodeText } from '../../../src/hl7/charset.js';
import { MARCH_15, acmeProfile } from './mapping-fixtures.js';

/** Version- and charset-dependent mapping (README "Versions, character sets and lengths"). */

const zoe: PatientEvent = {
  id: 'evt-zoe',
  type: 'create',
  occurredAt: '2026-03-15T14:29:00+01:00',
  patient: {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: 'PAT-1', assigner: { display: 'ACME_MPI' } }],
    name: [{ use: 'official', family: 'Ødegård-Müller', given: ['Zoë'] }],
  },
};

function only(event: PatientEvent, overrides: Parameters<typeof acmeProfile>[0]): string {
  const result = buildMessages(event, acmeProfile(overrides), MARCH_15);
  if (result.kind !== 'messages') throw new Error(`${result.kind}: ${result.reason}`);
  return result.messages[0]!.text;
}
const msh18 = (text: string): string => text.split('\r')[0]!.split('|')[17] ?? '';

describe('MSH-18 per charset and version (table 0211)', () => {
  it.each([
    ['UTF-8', '2.3.1', 'UNICODE'],
    ['UTF-8', '2.4', 'UNICODE'],
    ['UTF-8', '2.5', 'UNICODE UTF-8'],
    ['UTF-8', '2.5.1', 'UNICODE UTF-8'],
    ['UTF-8', '2.6', 'UNICODE UTF-8'],
    ['ISO-8859-1', '2.3.1', '8859/1'],
    ['ISO-8859-1', '2.6', '8859/1'],
    ['Windows-1252', '2.4', '8859/1'],
    ['ASCII', '2.5', undefined],
  ] as const)('%s in %s -> %s', (charset, version, code) => {
    expect(characterSetCode(charset, version)).toBe(code);
  });

  it('is sent only when the message has a non-ASCII character (an empty MSH-18 means ASCII)', () => {
    expect(msh18(only(zoe, { charset: 'ISO-8859-1', version: '2.4' }))).toBe('8859/1');
    const plain = { ...zoe, patient: { ...zoe.patient, name: [{ family: 'Smith' }] } };
    expect(msh18(only(plain, { charset: 'ISO-8859-1' }))).toBe('');
    expect(msh18(only(zoe, { charset: 'ASCII' }))).toBe('');
  });
});

describe('charsets in buildMessages', () => {
  it('ISO-8859-1: the text holds only Latin-1, and its bytes decode back to the same name', () => {
    const text = only(zoe, { charset: 'ISO-8859-1' });
    expect(text).toContain('|Ødegård-Müller^Zoë^^^^^L');
    expect(encodeText(text, 'ISO-8859-1').includes(Buffer.from([0xd8, 0x64, 0x65, 0x67, 0xe5, 0x72, 0x64]))).toBe(true);
  });

  it('ASCII with replace: every non-ASCII letter is ?', () => {
    expect(only(zoe, { charset: 'ASCII' })).toContain('|?deg?rd-M?ller^Zo?^^^^^L');
  });

  it('reject: the event is invalid, with a reason naming the field only', () => {
    const cjk = { ...zoe, patient: { ...zoe.patient, name: [{ use: 'official', family: '山田', given: ['Zoë'] }] } } as PatientEvent;
    const result = buildMessages(cjk, acmeProfile({ charset: 'ISO-8859-1', unrepresentable: 'reject' }), MARCH_15);
    expect(result).toEqual({ kind: 'invalid', reason: 'PID-5.1 has a character that ISO-8859-1 cannot represent (settings.Unrepresentable: reject)' });
  });
});

describe('control characters never reach the wire raw', () => {
  it('TAB, BEL, ESC, NUL in names, addresses and identifiers are \\Xhh\\ escapes; the authority namespace (IS) gets a space', () => {
    const hostile = {
      ...zoe,
      source: { user: 'j\u0007doe' },
      patient: {
        resourceType: 'Patient',
        identifier: [{ system: 'urn:oid:1.2', value: 'ID\t1', assigner: { display: 'NS\u001bX' } }],
        name: [{ family: 'A\tB', given: ['C\u0000D'] }],
        address: [{ line: ['1\u0007Main'], city: 'X' }],
      },
    } as PatientEvent;
    for (const version of HL7_VERSIONS) {
      const text = only(hostile, { version });
      expect(text.replace(/\r/g, '')).not.toMatch(/[\x00-\x1f\x7f]/);
      expect(text).toContain('ID\\X09\\1^^^NS X&1.2&ISO');
      expect(text).toContain('|A\\X09\\B^C\\X00\\D|');
      expect(text).toContain('1\\X07\\Main');
      expect(text).toContain('j\\X07\\doe');
    }
  });
});

describe('PV1-2 patient class (table 0004)', () => {
  it.each([
    ['I', '2.3.1', 'I'],
    ['IMP', '2.5', 'I'],
    ['AMB', '2.5', 'O'],
    ['EMER', '2.3.1', 'E'],
    ['PRENC', '2.6', 'P'],
    ['XYZ', '2.5', 'U'],
    ['XYZ', '2.3.1', 'N'],
    ['U', '2.3.1', 'N'],
    ['constructor', '2.5', 'U'],
  ] as const)('%s in %s -> %s', (code, version, expected) => {
    expect(patientClass(code, version)).toBe(expected);
  });

  it('a visit class IMP is sent as I, never as is', () => {
    const text = only({ ...zoe, visit: { number: 'V1', class: 'IMP' } }, { version: '2.3.1' });
    expect(text).toContain('\rPV1|1|I|');
  });
});
