import { describe, expect, it } from 'vitest';
import type { FhirHumanName, FhirPatient } from '../../../src/event/patient-event.js';
import { addressList, xad } from '../../../src/mapping/addresses.js';
import { nameList, officialName, xpn } from '../../../src/mapping/names.js';
import { pidSegment } from '../../../src/mapping/pid.js';
import { telecomFields, xtn } from '../../../src/mapping/telecom.js';
import { acmeProfile } from './mapping-fixtures.js';
import type { Hl7Version } from '../../../src/hl7/versions.js';

const base: FhirPatient = { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2', value: 'X' }] };

/** PID-n of the segment built for `patient`. */
function pid(patient: Partial<FhirPatient>, n: number, version: Hl7Version = '2.5'): string {
  return pidSegment({ ...base, ...patient }, acmeProfile({ version })).split('|')[n] ?? '';
}

describe('XPN (PID-5)', () => {
  it('family^given^further given^suffix^prefix^^type', () => {
    expect(xpn({ use: 'official', family: 'Jones', given: ['Robert', 'James', 'T'], prefix: ['Mr', 'Dr'], suffix: ['Jr'] }, '2.5')).toBe(
      'Jones^Robert^James T^Jr^Mr Dr^^L',
    );
    expect(xpn({ family: 'Solo' }, '2.5')).toBe('Solo');
    expect(xpn({ given: ['Only'] }, '2.5')).toBe('^Only');
    expect(xpn({ text: 'Free text only', use: 'usual' }, '2.5')).toBe('');
  });

  it.each([
    ['official', 'L', 'L'],
    ['usual', 'D', 'D'],
    ['maiden', 'M', 'M'],
    ['nickname', 'N', 'A'],
    ['anonymous', 'S', 'A'],
    ['temp', 'A', 'A'],
  ] as const)('use %s -> XPN-7 %s from 2.4 on, %s in 2.3.1 (table 0200 of each version)', (use, from24, in231) => {
    for (const version of ['2.4', '2.5', '2.5.1', '2.6'] as const) expect(xpn({ use, family: 'F' }, version)).toBe(`F^^^^^^${from24}`);
    expect(xpn({ use, family: 'F' }, '2.3.1')).toBe(`F^^^^^^${in231}`);
  });

  it('puts official names first, keeps the others in order, leaves out old and empty names', () => {
    expect(
      nameList([
        { use: 'usual', family: 'A' },
        { use: 'old', family: 'Gone' },
        { use: 'official', family: 'B' },
        { text: 'only text' },
        { use: 'nickname', family: 'C' },
        { use: 'official', family: 'D' },
      ], '2.5'),
    ).toBe('B^^^^^^L~D^^^^^^L~A^^^^^^D~C^^^^^^N');
    expect(nameList([{ family: 'A' }, { family: 'B' }], '2.5')).toBe('A~B');
  });

  it('PID-5 is required: a patient without a usable name gets UNKNOWN, type U where the version has it', () => {
    const cases: (FhirHumanName[] | undefined)[] = [undefined, [], [{ text: 'only text' }], [{ family: '', given: [''] }], [{ use: 'old', family: 'Gone' }]];
    for (const names of cases) {
      expect(nameList(names, '2.5')).toBe('UNKNOWN^^^^^^U');
      expect(nameList(names, '2.4')).toBe('UNKNOWN^^^^^^U');
      expect(nameList(names, '2.3.1')).toBe('UNKNOWN');
    }
  });

  it('officialName is the first official name only', () => {
    expect(officialName([{ family: 'A' }, { use: 'official', family: 'B' }, { use: 'official', family: 'C' }], '2.5')).toBe('B^^^^^^L');
    expect(officialName([{ family: 'A' }], '2.5')).toBe('');
  });
});

describe('XAD (PID-11)', () => {
  it('line^line^city^state^zip^country^type^^district', () => {
    expect(xad({ use: 'home', line: ['1 A St', 'Apt 2', 'Rear'], city: 'C', state: 'S', postalCode: 'Z', country: 'K', district: 'D' })).toBe(
      '1 A St^Apt 2, Rear^C^S^Z^K^H^^D',
    );
  });

  it.each([
    [{ use: 'home' }, 'H'],
    [{ use: 'work' }, 'B'],
    [{ use: 'temp' }, 'C'],
    [{ use: 'old' }, 'BA'],
    [{ type: 'postal' }, 'M'],
    [{ use: 'home', type: 'postal' }, 'M'],
    [{ use: 'home', type: 'physical' }, 'H'],
    [{}, ''],
  ] as const)('%j -> XAD-7 %j', (kind, code) => {
    expect(xad({ ...kind, city: 'C' }).split('^')[6] ?? '').toBe(code);
  });

  it('an address without data gives nothing (not even its type); billing addresses are left out', () => {
    expect(xad({ use: 'home' })).toBe('');
    expect(addressList([{ use: 'billing', city: 'Payville' }, { use: 'home' }, { city: 'Kept' }])).toBe('^^Kept');
  });
});

describe('XTN (PID-13 / PID-14)', () => {
  it.each([
    [{ system: 'phone', use: 'home' }, '^PRN^PH^^^^^^^^^N1', 'N1^PRN^PH'],
    [{ system: 'phone' }, '^PRN^PH^^^^^^^^^N1', 'N1^PRN^PH'],
    [{ system: 'phone', use: 'mobile' }, '^PRN^CP^^^^^^^^^N1', 'N1^PRN^CP'],
    [{ system: 'phone', use: 'work' }, '^WPN^PH^^^^^^^^^N1', 'N1^WPN^PH'],
    [{ system: 'phone', use: 'temp' }, '^ORN^PH^^^^^^^^^N1', 'N1^ORN^PH'],
    [{ system: 'sms' }, '^PRN^CP^^^^^^^^^N1', 'N1^PRN^CP'],
    [{ system: 'sms', use: 'work' }, '^WPN^CP^^^^^^^^^N1', 'N1^WPN^CP'],
    [{ system: 'fax', use: 'home' }, '^PRN^FX^^^^^^^^^N1', 'N1^PRN^FX'],
    [{ system: 'pager', use: 'work' }, '^BPN^BP^^^^^^^^^N1', 'N1^BPN^BP'],
    [{ system: 'email' }, '^NET^Internet^N1', '^NET^Internet^N1'],
  ] as const)('%j -> 2.5+ %s, 2.3.1/2.4 %s', (point, v25, v231) => {
    for (const version of ['2.5', '2.5.1', '2.6'] as const) expect(xtn({ ...point, value: 'N1' }, version)).toBe(v25);
    for (const version of ['2.3.1', '2.4'] as const) expect(xtn({ ...point, value: 'N1' }, version)).toBe(v231);
  });

  it('never writes PRS (table 0201 has it only from 2.7)', () => {
    for (const system of ['phone', 'sms', 'fax', 'pager', 'email'] as const) {
      for (const use of ['home', 'work', 'temp', 'mobile', undefined] as const) {
        expect(xtn({ system, value: '1', ...(use ? { use } : {}) }, '2.6')).not.toContain('PRS');
      }
    }
  });

  it('2.5 puts the number in XTN-12', () => {
    expect(xtn({ system: 'phone', value: '+1 555 1234567' }, '2.5')?.split('^')[11]).toBe('+1 555 1234567');
  });

  it('leaves out url, other, old, and value-less contact points', () => {
    for (const point of [
      { system: 'url', value: 'https://x' },
      { system: 'other', value: 'x' },
      { value: 'no system' },
      { system: 'phone', value: '1', use: 'old' },
      { system: 'phone' },
    ] as const) {
      expect(xtn(point, '2.5')).toBeUndefined();
    }
  });

  it('work goes to PID-14, everything else to PID-13; ranked points first', () => {
    const fields = telecomFields(
      [
        { system: 'phone', value: 'H1' },
        { system: 'email', value: 'w@x', use: 'work' },
        { system: 'phone', value: 'M1', use: 'mobile', rank: 2 },
        { system: 'email', value: 'h@x', rank: 1 },
        { system: 'phone', value: 'W1', use: 'work' },
      ],
      '2.3.1',
    );
    expect(fields).toEqual({ home: '^NET^Internet^h@x~M1^PRN^CP~H1^PRN^PH', business: '^NET^Internet^w@x~W1^WPN^PH' });
    expect(telecomFields(undefined, '2.5')).toEqual({ home: '', business: '' });
  });
});

describe('PID fields', () => {
  it('PID-1 is 1 and PID-3 carries the identifiers', () => {
    expect(pidSegment(base, acmeProfile())).toBe('PID|1||X^^^&1.2&ISO||UNKNOWN^^^^^^U');
  });

  it('PID-6 is the mothers-maiden-name family name', () => {
    const extension = [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: 'Gar^cia' }];
    expect(pid({ extension }, 6)).toBe('Gar\\S\\cia');
    expect(pid({ extension: [{ url: 'other', valueString: 'x' }] }, 6)).toBe('');
  });

  it('PID-7 keeps the birthDate precision', () => {
    expect(pid({ birthDate: '1984' }, 7)).toBe('1984');
    expect(pid({ birthDate: '1984-03' }, 7)).toBe('198403');
    expect(pid({ birthDate: '1984-03-12' }, 7)).toBe('19840312');
    expect(pid({ birthDate: '1984-02-30' }, 7)).toBe('');
  });

  it.each([
    ['male', 'M'],
    ['female', 'F'],
    ['other', 'O'],
    ['unknown', 'U'],
  ] as const)('PID-8 %s -> %s', (gender, code) => {
    expect(pid({ gender }, 8)).toBe(code);
  });

  it('PID-15 is the preferred language, else the first coded one', () => {
    const lang = (code: string): { coding: { code: string }[] } => ({ coding: [{ code }] });
    expect(pid({ communication: [{ language: lang('en') }, { language: lang('de'), preferred: true }] }, 15)).toBe('de');
    expect(pid({ communication: [{ language: { text: 'no code' }, preferred: true }, { language: lang('fr') }] }, 15)).toBe('fr');
  });

  it.each([
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }], 'M'],
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'U' }], 'B'],
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'A' }], 'N'],
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'L' }], 'E'],
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'T' }], 'P'],
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'P' }], ''],
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK' }], 'U'],
    [
      [
        { system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'U' },
        { system: 'http://terminology.hl7.org/CodeSystem/v2-0002', code: 'U' },
      ],
      'U',
    ],
    [[{ system: 'urn:local', code: 'X' }], ''],
    [[{ system: 'http://terminology.hl7.org/CodeSystem/v2-0002', code: 'Q' }], ''],
    [[{ code: 'S' }], 'S'],
  ])('PID-16 from %j -> %j', (coding, code) => {
    expect(pid({ maritalStatus: { coding } }, 16)).toBe(code);
  });

  it('PID-16 in 2.3.1: only the codes its table 0002 suggests (A, D, M, S, W)', () => {
    const v3 = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code }] });
    expect(pid({ maritalStatus: v3('L') }, 16, '2.3.1')).toBe('A');
    expect(pid({ maritalStatus: v3('U') }, 16, '2.3.1')).toBe('');
    expect(pid({ maritalStatus: v3('M') }, 16, '2.3.1')).toBe('M');
  });

  it('PID-24 / PID-25 from multipleBirth[x]', () => {
    expect([pid({ multipleBirthBoolean: true }, 24), pid({ multipleBirthBoolean: true }, 25)]).toEqual(['Y', '']);
    expect(pid({ multipleBirthBoolean: false }, 24)).toBe('N');
    expect([pid({ multipleBirthInteger: 3 }, 24), pid({ multipleBirthInteger: 3 }, 25)]).toEqual(['Y', '3']);
    expect(pid({}, 24)).toBe('');
  });

  it('PID-29 / PID-30: Y when deceased, N only when explicitly false', () => {
    expect([pid({ deceasedDateTime: '2026-03-14T22:10:00+01:00' }, 29), pid({ deceasedDateTime: '2026-03-14T22:10:00+01:00' }, 30)]).toEqual([
      '20260314221000+0100',
      'Y',
    ]);
    expect([pid({ deceasedDateTime: '2026-03-14' }, 29), pid({ deceasedDateTime: '2026-03' }, 29)]).toEqual(['20260314', '202603']);
    expect([pid({ deceasedBoolean: true }, 29), pid({ deceasedBoolean: true }, 30)]).toEqual(['', 'Y']);
    expect(pid({ deceasedBoolean: false }, 30)).toBe('N');
    expect(pidSegment(base, acmeProfile())).not.toContain('|N');
  });
});
