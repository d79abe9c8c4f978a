import { describe, expect, it } from 'vitest';
import type { FhirPatient } from '../../../src/event/patient-event.js';
import { authoritiesBySystem, authorityFor, cx, identifierList } from '../../../src/mapping/identifiers.js';
import { mrgSegment } from '../../../src/mapping/mrg.js';

const MAP = { 'urn:oid:1.2.3': 'MAPPED', 'https://ids.example.org/mrn': 'WEB', constructor: 'NOT_A_SYSTEM' };

describe('authorityFor (HD)', () => {
  it('urn:oid: gives HD-2 the OID and HD-3 ISO; HD-1 from assigner.display first, else the profile map', () => {
    expect(authorityFor('urn:oid:1.2.3', 'DISPLAY', MAP)).toBe('DISPLAY&1.2.3&ISO');
    expect(authorityFor('urn:oid:1.2.3', undefined, MAP)).toBe('MAPPED&1.2.3&ISO');
    expect(authorityFor('urn:oid:9.9', undefined, MAP)).toBe('&9.9&ISO');
  });

  it('any other system is a URI: HD-2 the system, HD-3 URI', () => {
    expect(authorityFor('https://ids.example.org/mrn', undefined, MAP)).toBe('WEB&https://ids.example.org/mrn&URI');
    expect(authorityFor('urn:uuid:6f1c2d3e-0000-4000-8000-000000000001', undefined, {})).toBe(
      '&urn:uuid:6f1c2d3e-0000-4000-8000-000000000001&URI',
    );
  });

  it('assigner.display alone gives HD-1 only; nothing gives undefined', () => {
    expect(authorityFor(undefined, 'LOCAL', MAP)).toBe('LOCAL');
    expect(authorityFor(undefined, undefined, MAP)).toBeUndefined();
    expect(authorityFor('', '', MAP)).toBeUndefined();
  });

  it('escapes HD parts (an & in a namespace must not split the HD)', () => {
    expect(authorityFor('urn:oid:1.2', 'A&B', {})).toBe('A\\T\\B&1.2&ISO');
  });

  it('looks up own map entries only', () => {
    expect(authorityFor('constructor', undefined, {})).toBe('&constructor&URI');
    expect(authorityFor('toString', undefined, MAP)).toBe('&toString&URI');
  });
});

describe('cx / identifierList (PID-3)', () => {
  it('CX is value^^^authority^type, trimmed', () => {
    expect(cx('123', 'A&1.2&ISO', 'MR')).toBe('123^^^A&1.2&ISO^MR');
    expect(cx('123', 'A', undefined)).toBe('123^^^A');
    expect(cx('1^2', undefined, undefined)).toBe('1\\S\\2');
  });

  it('leaves out identifiers without a value or without any authority, keeps the order of the rest', () => {
    expect(
      identifierList(
        [
          { system: 'urn:oid:1.2.3', value: 'B', type: { coding: [{ code: 'MR' }] } },
          { value: 'NO-AUTHORITY' },
          { system: 'urn:oid:1.2.3' },
          { system: 'urn:oid:1.2.3', value: '' },
          { assigner: { display: 'LOCAL' }, value: 'A', type: { text: 'no coding' } },
        ],
        MAP,
      ),
    ).toBe('B^^^MAPPED&1.2.3&ISO^MR~A^^^LOCAL');
    expect(identifierList(undefined, MAP)).toBe('');
    expect(identifierList([], MAP)).toBe('');
  });

  it('never exceeds the 6 components 2.3.1 allows', () => {
    const list = identifierList([{ system: 'urn:oid:1.2.3', value: 'X', type: { coding: [{ code: 'PI' }] } }], MAP);
    expect(list.split('^').length).toBeLessThanOrEqual(6);
  });
});

describe('MRG (A40)', () => {
  const survivor: FhirPatient = {
    resourceType: 'Patient',
    identifier: [
      { system: 'urn:oid:1.2.3', value: 'S-1', assigner: { display: 'SURVIVOR_NS' } },
      { system: 'urn:oid:1.2.3', value: 'S-2', assigner: { display: 'SECOND_IGNORED' } },
      { system: 'urn:oid:4.5', value: '' },
    ],
  };

  it('authoritiesBySystem takes the first usable survivor identifier per system', () => {
    expect([...authoritiesBySystem(survivor.identifier, {})]).toEqual([['urn:oid:1.2.3', 'SURVIVOR_NS&1.2.3&ISO']]);
  });

  it("MRG-1 uses the survivor's HD for a shared system and the record's own HD otherwise; MRG-7 the official name", () => {
    const replaced: FhirPatient = {
      resourceType: 'Patient',
      identifier: [
        { system: 'urn:oid:1.2.3', value: 'OLD-1', assigner: { display: 'OTHER_NS' }, type: { coding: [{ code: 'PI' }] } },
        { system: 'urn:oid:4.5', value: 'OLD-2' },
        { value: 'NO-AUTHORITY' },
      ],
      name: [
        { use: 'usual', family: 'Usual' },
        { use: 'official', family: 'Legal', given: ['Ann'] },
      ],
    };
    const mrg = mrgSegment(replaced, authoritiesBySystem(survivor.identifier, MAP), MAP);
    expect(mrg).toBe('MRG|OLD-1^^^SURVIVOR_NS&1.2.3&ISO^PI~OLD-2^^^&4.5&ISO||||||Legal^Ann^^^^^L');
  });

  it('leaves MRG-7 empty without an official name', () => {
    const replaced: FhirPatient = {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:4.5', value: 'OLD-2' }],
      name: [{ family: 'NoUse' }, { use: 'usual', family: 'Usual' }],
    };
    expect(mrgSegment(replaced, new Map(), {})).toBe('MRG|OLD-2^^^&4.5&ISO');
  });
});
