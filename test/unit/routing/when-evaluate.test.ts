import { describe, expect, it } from 'vitest';
import { compileWhen, type WhenCriteria } from '../../../src/routing/when/index.js';

const NOW = new Date('2026-03-15T12:00:00Z');

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'evt-7f3c9a',
    type: 'create',
    occurredAt: '2026-03-15T14:29:00+01:00',
    source: { application: 'ACME_EHR', facility: 'ACME_HOSP', user: 'jdoe' },
    patient: {
      resourceType: 'Patient',
      identifier: [
        { system: 'urn:oid:1.2.3', value: 'MRN-1' },
        { system: 'urn:oid:2.16.840.1.113883.4.1', value: '123-45-6789' },
      ],
      name: [
        { use: 'official', family: 'Smith', given: ['Jane', 'Mary'] },
        { use: 'maiden', family: 'Jones', given: ['Janie'] },
      ],
      gender: 'female',
      birthDate: '1990-06-15',
      deceasedBoolean: false,
      multipleBirthInteger: 10,
      address: [{ postalCode: '007', line: ['1 Main St', 'Apt 2'] }],
      communication: [{ preferred: true }],
    },
    visit: { number: 'VN-7', class: 'P' },
    ...overrides,
  };
}

function criteria(...entries: string[]): WhenCriteria {
  const compiled = compileWhen(entries);
  if (!compiled.ok) throw new Error(compiled.errors.map((e) => e.message).join('\n'));
  return compiled.criteria;
}

function matches(entry: string, evt: unknown = event()): boolean {
  return criteria(entry).matches(evt, NOW);
}

describe('compileWhen', () => {
  it('matches everything with no entries', () => {
    const compiled = compileWhen([]);
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    expect(compiled.criteria.sources).toEqual([]);
    expect(compiled.criteria.matches(event(), NOW)).toBe(true);
    expect(compiled.criteria.matches(null, NOW)).toBe(true);
  });

  it('keeps the entries as sources, frozen', () => {
    const entries = ['patient.gender=female', 'source.application=!X'];
    const c = criteria(...entries);
    expect(c.sources).toEqual(entries);
    expect(Object.isFrozen(c.sources)).toBe(true);
  });

  it('ANDs all entries', () => {
    expect(criteria('patient.gender=female', 'source.application=ACME_EHR').matches(event(), NOW)).toBe(true);
    expect(criteria('patient.gender=female', 'source.application=OTHER').matches(event(), NOW)).toBe(false);
    expect(criteria('patient.gender=male', 'source.application=ACME_EHR').matches(event(), NOW)).toBe(false);
  });

  it('evaluates the same compiled criteria repeatedly against different events', () => {
    const c = criteria('patient.gender=female');
    const female = event();
    const male = event({ patient: { resourceType: 'Patient', gender: 'male' } });
    expect([c.matches(female, NOW), c.matches(male, NOW), c.matches(female, NOW)]).toEqual([true, false, true]);
  });
});

describe('= equals', () => {
  it('compares strings exactly and case-sensitively', () => {
    expect(matches('patient.gender=female')).toBe(true);
    expect(matches('patient.gender=Female')).toBe(false);
    expect(matches('patient.gender=femal')).toBe(false);
    expect(matches('patient.gender=female ')).toBe(true); // trailing whitespace trimmed
    expect(matches('type=create')).toBe(true);
  });

  it('compares booleans via their string form', () => {
    expect(matches('patient.deceasedBoolean=false')).toBe(true);
    expect(matches('patient.deceasedBoolean=true')).toBe(false);
    expect(matches('patient.communication.preferred=true')).toBe(true);
    expect(matches('patient.deceasedBoolean=False')).toBe(false);
  });

  it('compares JSON numbers numerically', () => {
    expect(matches('patient.multipleBirthInteger=10')).toBe(true);
    expect(matches('patient.multipleBirthInteger=10.0')).toBe(true);
    expect(matches('patient.multipleBirthInteger=1e1')).toBe(true);
    expect(matches('patient.multipleBirthInteger=9')).toBe(false);
  });

  it('never reads a JSON string as a number', () => {
    expect(matches('patient.address.postalCode=007')).toBe(true);
    expect(matches('patient.address.postalCode=7')).toBe(false);
  });

  it('compares a number field with a non-numeric literal as strings', () => {
    expect(matches('patient.multipleBirthInteger=ten')).toBe(false);
    expect(matches('patient.multipleBirthInteger=!ten')).toBe(true);
  });

  it('compares dates as overlapping periods', () => {
    expect(matches('patient.birthDate=1990-06-15')).toBe(true);
    expect(matches('patient.birthDate=1990-06')).toBe(true);
    expect(matches('patient.birthDate=1990')).toBe(true);
    expect(matches('patient.birthDate=1991')).toBe(false);
    expect(matches('patient.birthDate=1990-06-16')).toBe(false);
    expect(matches('occurredAt=2026-03-15')).toBe(true);
    // 14:29 at +01:00 is 13:29Z: the same instant written differently
    expect(matches('occurredAt=2026-03-15T13:29:00Z')).toBe(true);
    expect(matches('occurredAt=2026-03-15T14:29:00Z')).toBe(false);
  });
});

describe('=! not equals', () => {
  it('is the negation of =', () => {
    expect(matches('patient.gender=!male')).toBe(true);
    expect(matches('patient.gender=!female')).toBe(false);
    expect(matches('patient.gender=!Female')).toBe(true);
    expect(matches('patient.multipleBirthInteger=!10.0')).toBe(false);
    expect(matches('patient.birthDate=!1990')).toBe(false);
    expect(matches('patient.birthDate=!1991')).toBe(true);
  });

  it('over an array means that no element equals', () => {
    expect(matches('patient.identifier.system=!urn:oid:1.2.3')).toBe(false);
    expect(matches('patient.identifier.system=!urn:oid:9.9')).toBe(true);
    expect(matches('patient.name.given=!Mary')).toBe(false);
  });
});

describe('ordered comparisons', () => {
  it('orders numbers numerically, not as strings', () => {
    expect(matches('patient.multipleBirthInteger>9')).toBe(true); // "10" < "9" as strings
    expect(matches('patient.multipleBirthInteger<9')).toBe(false);
    expect(matches('patient.multipleBirthInteger>=10')).toBe(true);
    expect(matches('patient.multipleBirthInteger<=10')).toBe(true);
    expect(matches('patient.multipleBirthInteger>10')).toBe(false);
    expect(matches('patient.multipleBirthInteger<10')).toBe(false);
    expect(matches('patient.multipleBirthInteger>-2.5')).toBe(true);
    expect(matches('patient.multipleBirthInteger<1e2')).toBe(true);
  });

  it('orders strings by code point, case-sensitively', () => {
    expect(matches('patient.gender>e')).toBe(true);
    expect(matches('patient.gender<g')).toBe(true);
    expect(matches('patient.gender<F')).toBe(false); // 'f' (U+0066) sorts after 'F' (U+0046)
    expect(matches('patient.gender>female')).toBe(false);
    expect(matches('patient.gender>=female')).toBe(true);
    expect(matches('patient.gender<=female')).toBe(true);
    expect(matches('patient.gender<females')).toBe(true); // a prefix sorts first
    expect(matches('patient.address.postalCode<8')).toBe(true); // string "007" vs "8"
  });

  it('orders beyond the BMP by code point, not UTF-16 unit', () => {
    // U+FF5E (fullwidth tilde) is one unit 0xFF5E; U+1F600 is the surrogate pair D83D DE00.
    const evt = { note: '\u{1F600}' };
    expect(matches('note>\uFF5E', evt)).toBe(true);
    expect(matches('note<\uFF5E', evt)).toBe(false);
  });

  it('orders dates of the same precision as dates', () => {
    expect(matches('patient.birthDate>1990-06-14')).toBe(true);
    expect(matches('patient.birthDate>1990-06-15')).toBe(false);
    expect(matches('patient.birthDate>=1990-06-15')).toBe(true);
    expect(matches('patient.birthDate<1990-06-16')).toBe(true);
    expect(matches('patient.birthDate<=1990-06-15')).toBe(true);
    expect(matches('patient.birthDate<1990-06-15')).toBe(false);
  });

  it('orders dates of different precisions as periods', () => {
    // field 1990-06-15 (a day) against a year, a month, an instant
    expect(matches('patient.birthDate>1989')).toBe(true);
    expect(matches('patient.birthDate>1990')).toBe(false); // within 1990, not after it
    expect(matches('patient.birthDate>=1990')).toBe(true);
    expect(matches('patient.birthDate<1991')).toBe(true);
    expect(matches('patient.birthDate<1990')).toBe(false);
    expect(matches('patient.birthDate<=1990')).toBe(true);
    expect(matches('patient.birthDate>=1990-07')).toBe(false);
    expect(matches('patient.birthDate<1990-07')).toBe(true);
    expect(matches('patient.birthDate>1990-06-14T23:59:59Z')).toBe(true);
    expect(matches('patient.birthDate<1990-06-15T12:00:00Z')).toBe(false);
    expect(matches('patient.birthDate<=1990-06-15T12:00:00Z')).toBe(true);
    // a partial date in the data against a full date literal
    const partial = { patient: { birthDate: '1990' } };
    expect(matches('patient.birthDate=1990-06-15', partial)).toBe(true);
    expect(matches('patient.birthDate<1991-01-01', partial)).toBe(true);
    expect(matches('patient.birthDate<1990-12-31', partial)).toBe(false);
  });

  it('orders dateTimes across offsets by instant', () => {
    expect(matches('occurredAt>2026-03-15T13:28:59Z')).toBe(true);
    expect(matches('occurredAt>2026-03-15T14:00:00Z')).toBe(false);
    expect(matches('occurredAt<2026-03-15T09:00:00-05:00')).toBe(true); // 14:00Z
    expect(matches('occurredAt>2026-03-15T13:29:00.500Z')).toBe(false);
    expect(matches('occurredAt>2026-03-14')).toBe(true);
  });

  it('compares a date literal with a non-date string as strings', () => {
    const evt = { patient: { birthDate: 'unknown' } };
    expect(matches('patient.birthDate>2020-01-01', evt)).toBe(true); // "u" > "2"
    expect(matches('patient.birthDate=2020-01-01', evt)).toBe(false);
  });
});

describe('alternatives', () => {
  it('= matches when any alternative matches', () => {
    expect(matches('patient.gender=male|female')).toBe(true);
    expect(matches('patient.gender=male|other')).toBe(false);
    expect(matches('patient.gender = male | female ')).toBe(true);
    expect(matches('patient.multipleBirthInteger=1|2|10')).toBe(true);
  });

  it('=! matches when the value equals none of them', () => {
    expect(matches('patient.gender=!male|other')).toBe(true);
    expect(matches('patient.gender=!male|female')).toBe(false);
    expect(matches('source.application=!A|B', event({ source: undefined }))).toBe(true);
  });

  it('ordered operators match when any alternative holds', () => {
    expect(matches('patient.multipleBirthInteger>20|5')).toBe(true);
    expect(matches('patient.multipleBirthInteger>20|15')).toBe(false);
  });

  it('supports an escaped | and escaped whitespace in a value', () => {
    const evt = { source: { application: 'A|B', facility: ' X', user: 'a\\b' } };
    expect(matches('source.application=A\\|B', evt)).toBe(true);
    expect(matches('source.application=A|B', evt)).toBe(false);
    expect(matches('source.facility=\\ X', evt)).toBe(true);
    expect(matches('source.facility=X', evt)).toBe(false);
    expect(matches('source.user=a\\\\b', evt)).toBe(true);
  });

  it('keeps whitespace inside a value', () => {
    expect(matches('patient.address.line=1 Main St')).toBe(true);
    expect(matches('patient.address.line=1  Main St')).toBe(false);
  });

  it('takes a value starting with an operator character when escaped', () => {
    expect(matches('source.user=\\=x', { source: { user: '=x' } })).toBe(true);
    expect(matches('source.user=!\\!x', { source: { user: '!x' } })).toBe(false);
  });

  it('keeps operator characters after the first one in the value', () => {
    expect(matches('source.user=a=b<c', { source: { user: 'a=b<c' } })).toBe(true);
  });
});

describe('paths through arrays', () => {
  it('matches when any identifier system matches', () => {
    expect(matches('patient.identifier.system=urn:oid:2.16.840.1.113883.4.1')).toBe(true);
    expect(matches('patient.identifier.system=urn:oid:1.2.3')).toBe(true);
    expect(matches('patient.identifier.system=urn:oid:9')).toBe(false);
  });

  it('matches per element of a leaf array of strings', () => {
    expect(matches('patient.name.given=Mary')).toBe(true);
    expect(matches('patient.name.given=Janie')).toBe(true);
    expect(matches('patient.name.given=Jane Mary')).toBe(false);
    expect(matches('patient.name.family=Jones')).toBe(true);
  });

  it('goes through nested arrays at any depth', () => {
    const evt = { a: [[{ b: [[1, 2], [3]] }], { b: 4 }] };
    expect(matches('a.b=3', evt)).toBe(true);
    expect(matches('a.b=4', evt)).toBe(true);
    expect(matches('a.b=5', evt)).toBe(false);
    expect(matches('a.b>3', evt)).toBe(true);
  });

  it('takes one element with an index', () => {
    expect(matches('patient.name[0].family=Smith')).toBe(true);
    expect(matches('patient.name[1].family=Smith')).toBe(false);
    expect(matches('patient.name[1].family=Jones')).toBe(true);
    expect(matches('patient.name.given[0]=Mary')).toBe(false);
    expect(matches('patient.name.given[0]=Janie')).toBe(true);
    expect(matches('patient.name[5].family=Smith')).toBe(false);
    expect(matches('patient.name[5].family=!Smith')).toBe(true);
    expect(matches('patient.gender[0]=female')).toBe(false); // not an array
  });

  it('does not compare objects or arrays at the end of the path', () => {
    expect(matches('patient.name=Smith')).toBe(false);
    expect(matches('patient=Patient')).toBe(false);
    expect(matches('patient.name=!Smith')).toBe(true);
  });

  it('skips null elements of an array', () => {
    const evt = { patient: { identifier: [null, { system: 'urn:x' }] } };
    expect(matches('patient.identifier.system=urn:x', evt)).toBe(true);
    expect(matches('patient.identifier.system=!urn:x', evt)).toBe(false);
  });

  it('filters on unknown fields', () => {
    const evt = event({ extra: { tenant: 'north' } });
    expect(matches('extra.tenant=north', evt)).toBe(true);
    expect(matches('extra.tenant=south', evt)).toBe(false);
  });

  it('never follows inherited properties', () => {
    expect(matches('patient.constructor.name=Object')).toBe(false);
    expect(matches('patient.gender.length=6')).toBe(false);
    expect(matches('toString=!x', {})).toBe(true);
    const inherited = Object.create({ gender: 'female' }) as object;
    expect(matches('gender=female', inherited)).toBe(false);
    expect(matches('gender=female', { gender: 'female' })).toBe(true);
  });

  it('reads a "__proto__" key that JSON.parse made an own property', () => {
    const evt: unknown = JSON.parse('{"patient":{"__proto__":{"x":"y"}}}');
    expect(matches('patient.__proto__.x=y', evt)).toBe(true);
    expect(matches('patient.__proto__.x=z', evt)).toBe(false);
  });
});

describe('missing paths and null values', () => {
  const missing = [
    ['a property that is absent', event({ source: undefined })],
    ['a null value', event({ source: { application: null } })],
    ['a null parent', event({ source: null })],
    ['a scalar where the path goes on', event({ source: 'ACME_EHR' })],
    ['an empty array', event({ source: [] })],
    ['an array of nulls', event({ source: { application: [null, null] } })],
    ['a non-object event', 42],
    ['a null event', null],
  ] as const;

  for (const [label, evt] of missing) {
    it(`${label}: only =! matches`, () => {
      expect(matches('source.application=ACME_EHR', evt)).toBe(false);
      expect(matches('source.application<ZZZ', evt)).toBe(false);
      expect(matches('source.application>A', evt)).toBe(false);
      expect(matches('source.application<=ZZZ', evt)).toBe(false);
      expect(matches('source.application>=A', evt)).toBe(false);
      expect(matches('source.application=:(age)<P200Y', evt)).toBe(false);
      expect(matches('source.application=:(age)>P0D', evt)).toBe(false);
      expect(matches('source.application=!ACME_EHR', evt)).toBe(true);
    });
  }

  it('the same entries match when the value is there (control)', () => {
    const evt = event({ source: { application: 'ACME_EHR' } });
    expect(matches('source.application=ACME_EHR', evt)).toBe(true);
    expect(matches('source.application<ZZZ', evt)).toBe(true);
    expect(matches('source.application>A', evt)).toBe(true);
    expect(matches('source.application=!ACME_EHR', evt)).toBe(false);
  });

  it('a null birthDate has no age', () => {
    const evt = { patient: { birthDate: null } };
    expect(matches('patient.birthDate=:(age)<P10Y', evt)).toBe(false);
    expect(matches('patient.birthDate=:(age)>=P0D', evt)).toBe(false);
  });
});

describe('bounce prevention', () => {
  const c = criteria('source.application=!APP_THAT_SENDS_STUFF');

  it('drops events from the application itself', () => {
    expect(c.matches(event({ source: { application: 'APP_THAT_SENDS_STUFF' } }), NOW)).toBe(false);
  });

  it('passes events from other applications', () => {
    expect(c.matches(event({ source: { application: 'ACME_EHR' } }), NOW)).toBe(true);
    expect(c.matches(event({ source: { application: 'app_that_sends_stuff' } }), NOW)).toBe(true);
  });

  it('passes events with no source or no application', () => {
    expect(c.matches(event({ source: undefined }), NOW)).toBe(true);
    expect(c.matches(event({ source: { facility: 'X' } }), NOW)).toBe(true);
    expect(c.matches(event({ source: { application: null } }), NOW)).toBe(true);
  });

  it('combines with a gender filter', () => {
    const both = criteria('patient.gender=female', 'source.application=!APP_THAT_SENDS_STUFF');
    expect(both.matches(event(), NOW)).toBe(true);
    expect(both.matches(event({ source: { application: 'APP_THAT_SENDS_STUFF' } }), NOW)).toBe(false);
  });
});
