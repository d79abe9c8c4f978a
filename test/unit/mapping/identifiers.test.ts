import { describe, expect, it } from 'vitest';
import type { FhirPatient } from '../../../src/event/patient-event.js';
import { authoritiesBySystem, authorityFor, cx, identifierList, type IdentifierContext } from '../../../src/mapping/identifiers.js';
import type { Hl7Version } from '../../../src/hl7/versions.js';
import { mrgSegment } from '../../../src/mapping/mrg.js';

const ctx = (authorities: Record<string, string>, version: Hl7Version = '2.5'): IdentifierContext => ({ authorities, version });
const MAP = { 'urn:oid:1.2.3': 'MAPPED', 'https://ids.example.org/mrn': 'WEB', constructor: 'NOT_A_SYSTEM' };

describe('authorityFor (HD)', () => {
  it('urn:oid: gives HD-2 the OID and HD-3 ISO; HD-1 from assigner.display first, else the profile map', () => {
    expect(authorityFor('urn:oid:1.2.3', 'DISPLAY', ctx(MAP, '2.5'))).toBe('DISPLAY&1.2.3&ISO');
    expect(authorityFor('urn:oid:1.2.3', undefined, ctx(MAP, '2.5'))).toBe('MAPPED&1.2.3&ISO');
    expect(authorityFor('urn:oid:9.9', undefined, ctx(MAP, '2.5'))).toBe('&9.9&ISO');
  });

  it('any other system is a URI: HD-2 the system, HD-3 URI', () => {
    expect(authorityFor('https://ids.example.org/mrn', undefined, ctx(MAP, '2.5'))).toBe('WEB&https://ids.example.org/mrn&URI');
    expect(authorityFor('urn:uuid:6f1c2d3e-0000-4000-8000-000000000001', undefined, ctx({}, '2.5'))).toBe(
      '&urn:uuid:6f1c2d3e-0000-4000-8000-000000000001&URI',
    );
  });

  it('assigner.display alone gives HD-1 only; nothing gives undefined', () => {
    expect(authorityFor(undefined, 'LOCAL', ctx(MAP, '2.5'))).toBe('LOCAL');
    expect(authorityFor(undefined, undefined, ctx(MAP, '2.5'))).toBeUndefined();
    expect(authorityFor('', '', ctx(MAP, '2.5'))).toBeUndefined();
  });

  it('escapes HD parts (an & in a namespace must not split the HD)', () => {
    expect(authorityFor('urn:oid:1.2', 'A&B', ctx({}, '2.5'))).toBe('A\\T\\B&1.2&ISO');
  });

  it('before 2.5 (no URI in table 0301): urn:uuid as UUID, any other URI as a local scheme L', () => {
    expect(authorityFor('urn:uuid:6f1c2d3e-0000-4000-8000-000000000001', undefined, ctx({}, '2.4'))).toBe('&6f1c2d3e-0000-4000-8000-000000000001&UUID');
    expect(authorityFor('https://ids.example.org/mrn', undefined, ctx(MAP, '2.3.1'))).toBe('WEB&https://ids.example.org/mrn&L');
    expect(authorityFor('urn:oid:1.2.3', undefined, ctx(MAP, '2.3.1'))).toBe('MAPPED&1.2.3&ISO');
  });

  it('a control character in a namespace (an IS, where no escape is allowed) becomes a space', () => {
    expect(authorityFor('urn:oid:1.2', 'A\tB', ctx({}, '2.5'))).toBe('A B&1.2&ISO');
  });

  it('looks up own map entries only', () => {
    expect(authorityFor('constructor', undefined, ctx({}, '2.5'))).toBe('&constructor&URI');
    expect(authorityFor('toString', undefined, ctx(MAP, '2.5'))).toBe('&toString&URI');
  });
});

describe('cx / identifierList (PID-3)', () => {
  it('CX is value^^^authority^type, trimmed', () => {
    expect(cx('123', 'A&1.2&ISO', 'MR', '2.5')).toBe('123^^^A&1.2&ISO^MR');
    expect(cx('123', 'A', undefined, '2.5')).toBe('123^^^A');
    expect(cx('1^2', undefined, undefined, '2.5')).toBe('1\\S\\2');
  });

  it('CX-5 only when table 0203 of the version defines the code', () => {
    expect(cx('1', 'A', 'XYZ', '2.5')).toBe('1^^^A');
    expect(cx('1', 'A', 'PPN', '2.4')).toBe('1^^^A^PPN');
    expect(cx('1', 'A', 'PPN', '2.3.1')).toBe('1^^^A');
    expect(cx('1', 'A', 'constructor', '2.5')).toBe('1^^^A');
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
        ctx(MAP),
      ),
    ).toBe('B^^^MAPPED&1.2.3&ISO^MR~A^^^LOCAL');
    expect(identifierList(undefined, ctx(MAP))).toBe('');
    expect(identifierList([], ctx(MAP))).toBe('');
  });

  it('never exceeds the 6 components 2.3.1 allows', () => {
    const list = identifierList([{ system: 'urn:oid:1.2.3', value: 'X', type: { coding: [{ code: 'PI' }] } }], ctx(MAP, '2.3.1'));
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
    expect([...authoritiesBySystem(survivor.identifier, ctx({}))]).toEqual([['urn:oid:1.2.3', 'SURVIVOR_NS&1.2.3&ISO']]);
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
    const mrg = mrgSegment(replaced, authoritiesBySystem(survivor.identifier, ctx(MAP)), ctx(MAP));
    expect(mrg).toBe('MRG|OLD-1^^^SURVIVOR_NS&1.2.3&ISO^PI~OLD-2^^^&4.5&ISO||||||Legal^Ann^^^^^L');
  });

  it('leaves MRG-7 empty without an official name', () => {
    const replaced: FhirPatient = {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:4.5', value: 'OLD-2' }],
      name: [{ family: 'NoUse' }, { use: 'usual', family: 'Usual' }],
    };
    expect(mrgSegment(replaced, new Map(), ctx({}))).toBe('MRG|OLD-2^^^&4.5&ISO');
  });
});
