import type {
  FhirContactPoint,
  FhirHumanName,
  FhirIdentifier,
  FhirPatient,
  PatientEvent,
  Visit,
} from '../../../src/event/patient-event.js';
import { MOTHERS_MAIDEN_NAME_URL } from '../../../src/event/patient-event.js';

/**
 * Hostile patient events for the conformance corpus (issue 12 item 6): delimiters and
 * non-ASCII letters, control characters in every string field, values of 300+ characters,
 * missing and empty data, unknown codes, every telecom system x use and every name use.
 * Deterministic: no clock, no randomness.
 */

export const DELIMITERS = 'O|Br^ie~n\\Sm&ith';
export const NON_ASCII = { family: 'Ødegård-Müller', given: ['Zoë'] };
export const CJK = { family: '山田', given: ['太郎'] };
export const EMOJI = { family: 'Smile😀', given: ['Grin😁'] };
/** Windows-1252 has these (0x80-0x9F); ISO-8859-1 does not: a typographic apostrophe and quotes. */
export const WINDOWS_1252 = { family: 'O’Brien', given: ['„Anne“'] };
export const CONTROL_CHARACTERS: Readonly<Record<string, string>> = {
  TAB: '\t',
  BEL: '\u0007',
  NUL: '\u0000',
  ESC: '\u001b',
  CR: '\r',
  LF: '\n',
};
export const LONG = (seed: string): string => `${seed}-${'x'.repeat(320)}`;

/** Cases with characters outside ASCII (all other cases are ASCII only, controls included). */
export const NOT_ASCII_CASES = ['non-ASCII', 'CJK', 'emoji', 'Windows-1252 punctuation'] as const;

/** Hostile values a reason or log line must never quote. */
export const HOSTILE_VALUES: readonly string[] = [
  ...[NON_ASCII, CJK, EMOJI, WINDOWS_1252].flatMap((n) => [n.family, ...n.given]),
  'Köln',
  'Straße 5',
  '5 € Street',
];

/** The one case the event envelope must refuse before the mapper sees it. */
export const REFUSED_BY_ENVELOPE = 'no usable identifier (no system, no assigner)';

const OID_MPI = 'urn:oid:1.2.3.4.5.6.1';

function identifier(value: string, code?: string, system = OID_MPI, display?: string): FhirIdentifier {
  return {
    system,
    value,
    ...(code !== undefined ? { type: { coding: [{ code }] } } : {}),
    ...(display !== undefined ? { assigner: { display } } : {}),
  };
}

const BASE_IDENTIFIER = identifier('PAT-1', 'PI');

function patient(fields: Omit<FhirPatient, 'resourceType'>): FhirPatient {
  return { resourceType: 'Patient', ...fields };
}

/** A patient with `s` in every string field the mapper reads. */
function everyString(s: string): FhirPatient {
  return patient({
    identifier: [identifier(`ID${s}1`, `P${s}I`, `https://ids.example.org/${s}`, `AUTH${s}`), identifier(`ID${s}2`, 'MR')],
    name: [{ use: 'official', family: `Fam${s}ily`, given: [`Giv${s}en`, `Mid${s}dle`], prefix: [`Dr${s}`], suffix: [`Jr${s}`] }],
    gender: 'female',
    birthDate: '1984-03-12',
    address: [
      {
        use: 'home',
        line: [`1 Main${s}St`, `Apt${s}4`],
        city: `Cit${s}y`,
        district: `Dis${s}trict`,
        state: `S${s}T`,
        postalCode: `12${s}345`,
        country: `DE${s}U`,
      },
    ],
    telecom: [
      { system: 'phone', value: `+1 555${s}1234`, use: 'home' },
      { system: 'email', value: `a${s}b@example.org`, use: 'work' },
    ],
    maritalStatus: { coding: [{ code: `M${s}` }], text: `Mar${s}ried` },
    communication: [{ language: { coding: [{ code: `e${s}n` }] }, preferred: true }],
    extension: [{ url: MOTHERS_MAIDEN_NAME_URL, valueString: `Maid${s}en` }],
  });
}

const TELECOM_SYSTEMS: readonly (FhirContactPoint['system'] | undefined)[] = ['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other', undefined];
const TELECOM_USES: readonly (FhirContactPoint['use'] | undefined)[] = ['home', 'work', 'temp', 'old', 'mobile', undefined];
const NAME_USES: readonly (FhirHumanName['use'] | undefined)[] = ['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden', undefined];

export interface HostileCase {
  name: string;
  patient: FhirPatient;
  visit?: Visit;
  source?: PatientEvent['source'];
}

/** The patients (and visit/source variants) of the corpus, by name. */
export function hostileCases(): HostileCase[] {
  const cases: HostileCase[] = [
    {
      name: 'delimiters',
      patient: patient({
        identifier: [identifier(DELIMITERS, 'PI')],
        name: [{ use: 'official', family: DELIMITERS, given: [DELIMITERS], prefix: ['Dr & Prof'], suffix: ['\\III'] }],
        address: [{ use: 'home', line: [DELIMITERS], city: 'A^B', postalCode: '1|2' }],
        telecom: [{ system: 'email', value: 'a&b@example.org' }],
      }),
      source: { user: 'j|doe^x' },
    },
    { name: 'non-ASCII', patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ use: 'official', ...NON_ASCII }], address: [{ city: 'Köln', line: ['Straße 5'] }] }) },
    { name: 'CJK', patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ use: 'official', ...CJK }] }) },
    { name: 'emoji', patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ use: 'official', ...EMOJI }] }) },
    {
      name: 'Windows-1252 punctuation',
      patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ use: 'official', ...WINDOWS_1252 }], address: [{ line: ['5 € Street'] }] }),
    },
    ...Object.entries(CONTROL_CHARACTERS).map(([label, c]) => ({
      name: `control ${label}`,
      patient: everyString(c),
      visit: { number: `V${c}1`, system: 'urn:oid:1.2.3', class: 'I' },
      source: { user: `us${c}er` },
    })),
    {
      name: 'long values',
      patient: patient({
        identifier: [identifier(LONG('ID'), 'MR'), identifier('SHORT-1', 'PI', `https://ids.example.org/${'p'.repeat(300)}`, LONG('AUTH'))],
        name: [{ use: 'official', family: LONG('Family'), given: [LONG('Given'), LONG('Middle')], prefix: [LONG('Prefix')], suffix: [LONG('Suffix')] }],
        address: [{ use: 'home', line: [LONG('Line1'), LONG('Line2')], city: LONG('City'), state: LONG('State'), postalCode: LONG('Zip'), country: LONG('Country') }],
        telecom: [
          { system: 'phone', value: LONG('+1 555'), use: 'home' },
          { system: 'email', value: `${'m'.repeat(300)}@example.org` },
        ],
        extension: [{ url: MOTHERS_MAIDEN_NAME_URL, valueString: LONG('Maiden') }],
      }),
      visit: { number: LONG('VN'), system: 'urn:oid:1.2.3', class: 'O' },
      source: { user: LONG('user') },
    },
    { name: 'minimal (identifier only)', patient: patient({ identifier: [BASE_IDENTIFIER] }) },
    { name: 'no name', patient: patient({ identifier: [BASE_IDENTIFIER], gender: 'male' }) },
    { name: 'empty name list', patient: patient({ identifier: [BASE_IDENTIFIER], name: [] }) },
    { name: 'name with only text', patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ text: 'Bobby J' }] }) },
    {
      name: 'empty strings',
      patient: patient({
        identifier: [identifier('', ''), BASE_IDENTIFIER],
        name: [{ use: 'official', family: '', given: [''], prefix: [''], suffix: [''] }],
        address: [{ line: [''], city: '', postalCode: '' }],
        telecom: [{ system: 'phone', value: '' }],
        maritalStatus: { coding: [{ code: '' }] },
      }),
      // visit.number/system/class must not be empty (schemas/patient-event.schema.json).
    },
    { name: 'only an old name', patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ use: 'old', family: 'Gone' }] }) },
    {
      name: 'several identifiers, unknown type XYZ',
      patient: patient({
        identifier: [
          identifier('PAT-1', 'PI'),
          identifier('MR-1', 'MR', 'urn:oid:1.2.3.4'),
          identifier('NI-1', 'NI', 'urn:oid:1.2.3.5'),
          identifier('123-45-6789', 'SS', 'https://ids.example.org/ssn'),
          identifier('X-1', 'XYZ', 'urn:oid:1.2.3.6'),
          identifier('U-1', undefined, 'urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e'),
          { value: 'LOCAL-1', assigner: { display: 'LOCAL' } },
          { value: 'NO-AUTHORITY' },
        ],
        name: [{ use: 'official', family: 'Ids', given: ['Many'] }],
      }),
    },
    {
      name: 'visit class IMP',
      patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ use: 'official', family: 'Visit' }] }),
      visit: { number: 'VN-1', system: 'urn:oid:1.2.3', class: 'IMP' },
    },
    {
      name: 'every telecom system x use',
      patient: patient({
        identifier: [BASE_IDENTIFIER],
        name: [{ use: 'official', family: 'Telecom' }],
        telecom: TELECOM_SYSTEMS.flatMap((system, i) =>
          TELECOM_USES.map((use, j) => ({
            ...(system !== undefined ? { system } : {}),
            ...(use !== undefined ? { use } : {}),
            value: system === 'email' ? `t${i}${j}@example.org` : `+1 555 00${i}${j}`,
          })),
        ),
      }),
    },
    {
      name: 'every name use',
      patient: patient({
        identifier: [BASE_IDENTIFIER],
        name: NAME_USES.map((use, i) => ({ ...(use !== undefined ? { use } : {}), family: `Fam${i}`, given: [`Giv${i}`] })),
      }),
    },
    {
      name: 'every gender, address use and type, marital status, multiple birth, deceased',
      patient: patient({
        identifier: [BASE_IDENTIFIER],
        name: [{ use: 'official', family: 'Full' }],
        gender: 'other',
        birthDate: '1984-03',
        deceasedDateTime: '2026-03-14T22:10:00Z',
        multipleBirthInteger: 3,
        address: (['home', 'work', 'temp', 'old', 'billing', undefined] as const).flatMap((use) =>
          (['postal', 'physical', 'both', undefined] as const).map((type) => ({
            ...(use !== undefined ? { use } : {}),
            ...(type !== undefined ? { type } : {}),
            line: ['1 Main St'],
            city: 'Town',
          })),
        ),
        maritalStatus: { coding: [{ code: 'M' }] },
        communication: [{ language: { coding: [{ code: 'en' }] } }],
      }),
    },
    { name: 'unknown gender, deceased false', patient: patient({ identifier: [BASE_IDENTIFIER], name: [{ use: 'official', family: 'U' }], gender: 'unknown', deceasedBoolean: false, multipleBirthBoolean: true }) },
  ];
  return cases;
}

/**
 * A case the event envelope must refuse before the mapper sees it (schemas/
 * patient-event.schema.json: PID-3 needs an identifier with an authority). Kept out of
 * hostileCases(): only a corpus that passes events through the envelope decoder uses it.
 */
export function envelopeRefusedCase(): HostileCase {
  return {
    name: REFUSED_BY_ENVELOPE,
    patient: patient({ identifier: [{ value: 'NO-AUTHORITY' }, { system: OID_MPI }], name: [{ use: 'official', family: 'Noid' }] }),
  };
}

/** Events of every type for one hostile case: merges and unmerges carry two replaced records. */
export function eventsFor(c: HostileCase, replaced: readonly FhirPatient[]): PatientEvent[] {
  const base = {
    occurredAt: '2026-03-15T14:29:00+01:00',
    patient: c.patient,
    ...(c.visit ? { visit: c.visit } : {}),
    ...(c.source ? { source: c.source } : {}),
  };
  const id = (type: string): string => `evt-${c.name.replace(/[^a-zA-Z0-9]+/g, '-')}-${type}`;
  return [
    { ...base, id: id('create'), type: 'create' },
    { ...base, id: id('update'), type: 'update' },
    { ...base, id: id('delete'), type: 'delete' },
    { ...base, id: id('merge'), type: 'merge', replaced: [...replaced] },
    { ...base, id: id('unmerge'), type: 'unmerge', replaced: [...replaced] },
  ];
}
