import { describe, expect, it } from 'vitest';
import { createEventDecoder, type DecodeResult } from '../../../src/event/decode-event.js';

/**
 * Bad input (README "Producing events"): every way an event can be refused gets a precise
 * reason, and no reason ever quotes a value from the event (it goes to logs and to the
 * dead letter's x-mllp-reason header).
 */

// Recognisable patient data: none of these may ever appear in a reason.
const NAME = 'Zebedee';
const FAMILY = 'Quixotemarmaduke';
const MRN = 'MRN-SECRET-777';
const SYSTEM = 'urn:oid:9.8.7.6.5';
const PHI = [NAME, FAMILY, MRN, SYSTEM, '1984', 'Elm Street'];

const MAX = 4096;
const decode = createEventDecoder({ maxMessageBytes: MAX });

function patient(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    identifier: [{ system: SYSTEM, value: MRN }],
    name: [{ family: FAMILY, given: [NAME] }],
    gender: 'female',
    birthDate: '1984-03-12',
    address: [{ line: ['12 Elm Street'], city: 'Springfield' }],
    ...overrides,
  };
}

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'evt-1', type: 'create', occurredAt: '2026-03-15T14:29:00+01:00', patient: patient(), ...overrides };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function reasonOf(result: DecodeResult): string {
  if (result.ok) throw new Error('expected the event to be refused');
  return result.reason;
}

function expectRefused(body: Buffer, reason: string | RegExp): string {
  const text = reasonOf(decode(body));
  if (typeof reason === 'string') expect(text).toBe(reason);
  else expect(text).toMatch(reason);
  for (const value of PHI) expect(text).not.toContain(value);
  return text;
}

describe('decodeEvent: good events', () => {
  it('accepts a valid event and returns it as parsed', () => {
    const result = decode(json(event()));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.event).toMatchObject({ id: 'evt-1', type: 'create', patient: { identifier: [{ value: MRN }] } });
  });

  it('ignores unknown fields, at the top and inside the patient', () => {
    expect(decode(json(event({ extra: { anything: [1, 2] }, patient: patient({ photo: [{ url: 'x' }], active: 'yes' }) }))).ok).toBe(true);
  });

  it('accepts an identifier whose authority is assigner.display only', () => {
    expect(decode(json(event({ patient: patient({ identifier: [{ value: MRN, assigner: { display: 'ACME_MPI' } }] }) }))).ok).toBe(true);
  });

  it('accepts when one identifier of several has an authority', () => {
    expect(decode(json(event({ patient: patient({ identifier: [{ value: 'X' }, { system: SYSTEM, value: MRN }] }) }))).ok).toBe(true);
  });

  it('accepts a body of exactly maxMessageBytes', () => {
    const base = json(event({ pad: '' }));
    const padded = json(event({ pad: 'x'.repeat(MAX - base.length) }));
    expect(padded.length).toBe(MAX);
    expect(decode(padded).ok).toBe(true);
  });

  it('accepts birthDate at year and month precision, and Z / negative offsets', () => {
    for (const birthDate of ['1984', '1984-03', '2000-02-29']) expect(decode(json(event({ patient: patient({ birthDate }) }))).ok).toBe(true);
    for (const occurredAt of ['2026-03-15T13:29:00Z', '2026-03-15T09:29:00.123-04:00']) expect(decode(json(event({ occurredAt }))).ok).toBe(true);
  });

  it('accepts a merge and an unmerge with replaced records', () => {
    for (const type of ['merge', 'unmerge']) {
      expect(decode(json(event({ type, replaced: [patient({ identifier: [{ system: SYSTEM, value: `${MRN}-OLD` }] })] }))).ok).toBe(true);
    }
  });
});

describe('decodeEvent: bad input, each with a precise reason and no patient data', () => {
  it('not JSON', () => {
    expectRefused(Buffer.from(`{"id":"evt-1","patient":{"name":"${NAME} ${FAMILY}"`), 'body is not JSON');
  });

  it('invalid UTF-8', () => {
    const body = Buffer.concat([Buffer.from(`{"id":"evt-1","name":"${NAME}`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    expectRefused(body, 'body is not valid UTF-8');
  });

  it('an overlong UTF-8 encoding is invalid UTF-8 too', () => {
    expectRefused(Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]), 'body is not valid UTF-8');
  });

  it('a U+FFFD sent as such (valid UTF-8) is data, not a sign of invalid UTF-8', () => {
    const result = decode(json(event({ patient: patient({ name: [{ family: 'Unreadable\uFFFD' }] }) })));
    expect(result.ok && result.event.patient.name?.[0]?.family).toBe('Unreadable\uFFFD');
  });

  it('an encoded surrogate (CESU-8) and a UTF-8 byte order mark are refused as before', () => {
    expectRefused(Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 'body is not valid UTF-8');
    expectRefused(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(event())]), 'body is not JSON');
  });

  it.each([
    ['a string', `"${NAME} ${FAMILY}"`],
    ['an array', `[{"name":"${NAME}"}]`],
    ['null', 'null'],
    ['a number', '1984'],
  ])('not an object: %s', (_label, body) => {
    expectRefused(Buffer.from(body), 'body is not a JSON object');
  });

  it('an empty body', () => {
    expectRefused(Buffer.alloc(0), 'body is not JSON');
  });

  it('missing type', () => {
    const { type: _type, ...rest } = event();
    expectRefused(json(rest), 'type is required');
  });

  it.each([['delete-everything'], [NAME], [7], [null]])('unknown type %s', (type) => {
    expectRefused(json(event({ type })), 'type is not one of create, update, delete, merge, unmerge');
  });

  it.each(['merge', 'unmerge'])('%s with no replaced, or an empty replaced', (type) => {
    const reason = `${type} event has no replaced record (replaced must list at least one)`;
    expectRefused(json(event({ type })), reason);
    expectRefused(json(event({ type, replaced: [] })), reason);
    expectRefused(json(event({ type, replaced: patient() })), reason);
  });

  it('missing id, occurredAt, patient', () => {
    for (const field of ['id', 'occurredAt', 'patient']) {
      const body = event();
      delete body[field];
      expectRefused(json(body), `${field} is required`);
    }
  });

  describe('schema violations', () => {
    it.each([
      ['id as a number', event({ id: 1984 }), 'id must be string'],
      ['an empty id', event({ id: '' }), 'id must NOT have fewer than 1 characters'],
      ['source as a string', event({ source: `${NAME} ${FAMILY}` }), 'source must be object'],
      ['patient as an array', event({ patient: [patient()] }), 'patient must be object'],
      ['name as a string', event({ patient: patient({ name: `${NAME} ${FAMILY}` }) }), 'patient.name must be array'],
      ['given as a string', event({ patient: patient({ name: [{ given: NAME }] }) }), 'patient.name.0.given must be array'],
      ['an unknown gender', event({ patient: patient({ gender: NAME }) }), 'patient.gender must be one of male, female, other, unknown'],
      ['a resourceType other than Patient', event({ patient: patient({ resourceType: FAMILY }) }), 'patient.resourceType must be "Patient"'],
      ['deceasedBoolean as a string', event({ patient: patient({ deceasedBoolean: 'yes' }) }), 'patient.deceasedBoolean must be boolean'],
      ['a negative multipleBirthInteger', event({ patient: patient({ multipleBirthInteger: -1 }) }), 'patient.multipleBirthInteger must be >= 0'],
      ['visit.number as a number', event({ visit: { number: 1984 } }), 'visit.number must be string'],
      ['a replaced record that is not a Patient', event({ type: 'merge', replaced: [{ resourceType: 'Person', identifier: [{ system: SYSTEM, value: MRN }] }] }), 'replaced.0.resourceType must be "Patient"'],
    ])('wrong type or value: %s', (_label, body, reason) => {
      expectRefused(json(body), reason);
    });

    it.each([
      ['without an offset', '2026-03-15T14:29:00'],
      ['without seconds', '2026-03-15T14:29+01:00'],
      ['a date only', '2026-03-15'],
      ['in another notation', '15/03/2026 14:29'],
      ['with hour 24', '2026-03-15T24:00:00Z'],
      ['with a name in it', `${NAME}`],
    ])('bad occurredAt: %s', (_label, occurredAt) => {
      expectRefused(json(event({ occurredAt })), 'occurredAt must be an RFC 3339 date-time with seconds and a UTC offset (e.g. 2026-03-15T14:29:00+01:00)');
    });

    it('occurredAt as a number', () => {
      expectRefused(json(event({ occurredAt: 1984 })), 'occurredAt must be string');
    });

    it.each([
      ['30 February', '2026-02-30T14:29:00+01:00'],
      ['29 February of a common year', '2025-02-29T14:29:00Z'],
      ['31 April', '2026-04-31T00:00:00Z'],
    ])('occurredAt on a day that does not exist: %s', (_label, occurredAt) => {
      expectRefused(json(event({ occurredAt })), 'occurredAt names a date that does not exist (day out of range for its month)');
    });

    it.each([
      ['in US notation', '03/12/1984'],
      ['with month 13', '1984-13-01'],
      ['with a 2-digit year', '84-03-12'],
    ])('bad birthDate: %s', (_label, birthDate) => {
      expectRefused(json(event({ patient: patient({ birthDate }) })), 'patient.birthDate must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)');
    });

    it('birthDate on a day that does not exist, in the patient and in a replaced record', () => {
      expectRefused(json(event({ patient: patient({ birthDate: '1984-02-30' }) })), 'patient.birthDate names a date that does not exist (day out of range for its month)');
      expectRefused(
        json(event({ type: 'merge', replaced: [patient({ birthDate: '1984-03-12' }), patient({ birthDate: '1983-06-31' })] })),
        'replaced.1.birthDate names a date that does not exist (day out of range for its month)',
      );
    });

    it('bad deceasedDateTime', () => {
      expectRefused(json(event({ patient: patient({ deceasedDateTime: '2026-03-15 10:00' }) })), /^patient\.deceasedDateTime must be a FHIR dateTime/);
      expectRefused(json(event({ patient: patient({ deceasedDateTime: '2026-02-30' }) })), 'patient.deceasedDateTime names a date that does not exist (day out of range for its month)');
    });
  });

  describe('no identifier with an authority (PID-3 needs an assigning authority)', () => {
    const reason = 'patient.identifier: no identifier has both a value and an authority (system or assigner.display); PID-3 needs an assigning authority';

    it.each([
      ['a value without system or assigner', [{ value: MRN }]],
      ['an empty system', [{ value: MRN, system: '' }]],
      ['an assigner without display', [{ value: MRN, assigner: {} }]],
      ['a system without a value', [{ system: SYSTEM }]],
      ['an empty value', [{ system: SYSTEM, value: '' }]],
      ['no identifiers at all', []],
    ])('%s', (_label, identifier) => {
      expectRefused(json(event({ patient: patient({ identifier }) })), reason);
    });

    it('no identifier list', () => {
      const { identifier: _identifier, ...rest } = patient();
      expectRefused(json(event({ patient: rest })), 'patient.identifier is required');
    });

    it('in a replaced record of a merge', () => {
      expectRefused(
        json(event({ type: 'merge', replaced: [patient({ identifier: [{ value: `${MRN}-OLD` }] })] })),
        'replaced.0.identifier: no identifier has both a value and an authority (system or assigner.display); PID-3 needs an assigning authority',
      );
    });
  });

  it('a body over maxMessageBytes, whatever it holds', () => {
    const body = json(event({ pad: `${NAME} ${FAMILY} `.repeat(300) }));
    expect(body.length).toBeGreaterThan(MAX);
    expectRefused(body, `body is ${body.length} bytes, over amqp.maxMessageBytes (${MAX})`);
    // Checked first: an oversized body is not even parsed.
    const huge = Buffer.alloc(MAX + 1, 0xff);
    expectRefused(huge, `body is ${MAX + 1} bytes, over amqp.maxMessageBytes (${MAX})`);
  });
});
