import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PatientEvent } from '../../../src/event/patient-event.js';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import { assertValidHl7 } from '../../helpers/hl7-validator/index.js';
import { configDir, load, minimalSubscription, problemsOf, type ConfigDir } from './config-fixtures.js';

/** Receiver profiles (README "Fitting a receiver"): configuration in, adapted messages out. */

let dir: ConfigDir;
beforeEach(() => {
  dir = configDir();
});
afterEach(() => dir.cleanup());

const MPI = 'urn:oid:1.2.3.4.5.6.1';
const LOCAL = 'urn:oid:1.2.3.4.5.6.2';
const NATID = 'urn:oid:1.2.3.4.5.6.3';
const TIME = { now: new Date('2026-03-15T13:30:22Z'), utcOffsetMinutes: 60 };

const event: PatientEvent = {
  id: 'evt-profile-1',
  type: 'create',
  occurredAt: '2026-03-15T14:29:00+01:00',
  source: { application: 'ACME_EHR', facility: 'ACME_HOSP' },
  patient: {
    resourceType: 'Patient',
    id: 'p-42',
    identifier: [
      { system: NATID, value: '0101901234', assigner: { display: 'NATID' } },
      { system: LOCAL, value: 'L-77', assigner: { display: 'LOCAL' } },
      { system: MPI, value: 'PAT-1', assigner: { display: 'EVENT_NS' }, type: { coding: [{ code: 'PI' }] } },
    ],
    name: [{ use: 'official', family: 'Smith', given: ['Anne'] }],
  },
  visit: { number: 'VN-7', class: 'I' },
};

/** The messages the named subscription of this configuration sends for `e`. */
function render(config: Record<string, unknown>, name: string, e: PatientEvent = event): string[] {
  const loaded = load({ configFile: dir.write('config.json', config) });
  const subscription = loaded.subscriptions.find((sub) => sub.name === name)!;
  const result = buildMessages(e, subscription.mapping, TIME);
  if (result.kind !== 'messages') throw new Error(`${result.kind}: ${result.reason}`);
  for (const m of result.messages) assertValidHl7(m.text);
  return result.messages.map((m) => m.text);
}

const field = (text: string, segment: string, n: number): string => {
  const fields = text.split('\r').find((s) => s.startsWith(`${segment}|`))?.split('|') ?? [];
  return (segment === 'MSH' ? fields[n - 1] : fields[n]) ?? '';
};

const LAB_PROFILE = {
  settings: { Version: '2.4', Charset: 'ISO-8859-1' },
  identifiers: {
    systems: [MPI, LOCAL],
    authorities: { [MPI]: { namespace: 'ACME_MPI', universalId: '1.2.3.4.5.6.1', universalIdType: 'ISO', typeCode: 'MR' } },
    placement: { 'PID-2': LOCAL },
  },
  fields: { 'PV1-3': 'LAB_WARD', 'EVN-5': '', 'MSH-17': 'DK', 'PID-3.5': 'MR', 'PV1-19': '{visit.number}' },
  segments: { omit: [], add: [{ after: 'PID', segment: 'ZPI', fields: { '1': '{patient.id}', '2': '{source.facility}' } }] },
};

describe('a named profile applied to a subscription', () => {
  it('selects, orders and re-labels identifiers, places one in PID-2, sets fields, adds a Z-segment', () => {
    const [text] = render(
      { profiles: { 'latin1-lab': LAB_PROFILE }, subscriptions: [minimalSubscription('lab', { profile: 'latin1-lab', fields: { 'PV1-3': 'LAB_2' } })] },
      'lab',
    );
    expect(field(text!, 'MSH', 12)).toBe('2.4');
    expect(field(text!, 'MSH', 17)).toBe('DK');
    // Only MPI in PID-3 (LOCAL is placed, NATID is not listed), with the profile's HD and type.
    expect(field(text!, 'PID', 3)).toBe('PAT-1^^^ACME_MPI&1.2.3.4.5.6.1&ISO^MR');
    expect(field(text!, 'PID', 2)).toBe('L-77^^^LOCAL&1.2.3.4.5.6.2&ISO');
    // The subscription's own PV1-3 wins over the profile's, entry by entry.
    expect(field(text!, 'PV1', 3)).toBe('LAB_2');
    expect(field(text!, 'PV1', 19)).toBe('VN-7');
    expect(text!.split('\r').map((s) => s.slice(0, 3))).toEqual(['MSH', 'EVN', 'PID', 'ZPI', 'PV1', '']);
    expect(text!.split('\r')[3]).toBe('ZPI|p-42|ACME_HOSP');
  });

  it('an event left with no identifier of the listed systems is invalid, with a reason naming the rule', () => {
    const loaded = load({ configFile: dir.write('config.json', { profiles: { p: LAB_PROFILE }, subscriptions: [minimalSubscription('lab', { profile: 'p' })] }) });
    const onlyNatid = { ...event, patient: { ...event.patient, identifier: [event.patient.identifier![0]!] } };
    expect(buildMessages(onlyNatid, loaded.subscriptions[0]!.mapping, TIME)).toEqual({
      kind: 'invalid',
      reason: 'identifiers.systems: no identifier of the patient is left for PID-3',
    });
  });

  it('templates are escaped when substituted; constants are written as given; "" clears', () => {
    const [text] = render(
      {
        subscriptions: [
          minimalSubscription('s', {
            fields: { 'PV1-3': 'WARD^ROOM^BED', 'PID-11.1': '{source.facility}', 'EVN-5': '', 'PID-6': '{patient.nothing.here}' },
          }),
        ],
      },
      's',
      { ...event, source: { facility: 'A|B', user: 'jdoe' } },
    );
    expect(field(text!, 'PV1', 3)).toBe('WARD^ROOM^BED');
    expect(field(text!, 'PID', 11)).toBe('A\\F\\B');
    expect(field(text!, 'EVN', 5)).toBe('');
    expect(field(text!, 'PID', 6)).toBe('');
  });

  it('a profile read from a file, relative to the configuration file', () => {
    dir.write('lab-profile.json', LAB_PROFILE);
    const [text] = render({ profiles: { lab: { file: 'lab-profile.json' } }, subscriptions: [minimalSubscription('lab', { profile: 'lab' })] }, 'lab');
    expect(field(text!, 'PV1', 3)).toBe('LAB_WARD');
  });
});

describe('profile problems, all at once, with exit 78', () => {
  it('paths the structure or version does not have, owned fields, required segments, unknown profiles and keys', () => {
    const problems = problemsOf({
      configFile: dir.write('config.json', {
        profiles: { broken: { fields: { 'PV1-99': 'x', 'MRG-1': 'x', 'MSH-10': 'x', 'PID-5.7.2': 'x', 'XYZ': 'x', 'PID-8.2': 'x' }, colour: 'blue' } },
        subscriptions: [
          minimalSubscription('a', { profile: 'broken', events: ['create', 'update'], segments: { omit: ['PV1'], add: [{ after: 'OBX', segment: 'ZZZ' }, { after: 'PID', segment: 'NOTZ' }] } }),
          minimalSubscription('b', { profile: 'missing' }),
          minimalSubscription('c', { identifiers: { placement: { 'PID-7': MPI }, authorities: { [MPI]: { universalIdType: 'URI', typeCode: 'XYZ' } } }, settings: { Version: '2.4' } }),
        ],
      }),
    });
    expect(problems).toHaveLength(14);
    expect(problems).toEqual(
      expect.arrayContaining([
        'profiles.broken.colour: is not a profile key (known: settings, triggers, identifiers, fields, segments, framing, connection, rateLimit)',
        'subscriptions[0] (a).fields.PV1-99: PV1 has 52 fields in HL7 2.5',
        'subscriptions[0] (a).fields.MRG-1: these messages have no MRG segment (they send MSH, EVN, PID, PV1)',
        'subscriptions[0] (a).fields.MSH-10: MSH-10 is the control id the ACK is matched on',
        'subscriptions[0] (a).fields.PID-5.7.2: component 7 of XPN (ID) has no subcomponents',
        'subscriptions[0] (a).fields.XYZ: is not an HL7 path (SEG-n, SEG-n.c, SEG-n.c.s, SEG-n[r].c)',
        'subscriptions[0] (a).fields.PID-8.2: PID-8 (IS) has no components',
        'subscriptions[0] (a).segments.omit: PV1 is required in ADT_A01 (HL7 2.5) and cannot be left out',
        'subscriptions[0] (a).segments.add[0].after: OBX is not a segment of these messages (MSH, EVN, PID, PV1)',
        'subscriptions[0] (a).segments.add[1].segment: must match a Z-segment name (Z and two letters or digits)',
        'subscriptions[1] (b).profile: no profile named "missing" (defined: broken)',
        'subscriptions[2] (c).identifiers.placement.PID-7: must be one of PID-2, PID-4, PID-19',
        'subscriptions[2] (c).identifiers.authorities.urn:oid:1.2.3.4.5.6.1.universalIdType: is not in table 0301 of HL7 2.4',
        'subscriptions[2] (c).identifiers.authorities.urn:oid:1.2.3.4.5.6.1.typeCode: is not in table 0203 of HL7 2.4',
      ]),
    );
  });
});
