import { describe, expect, it } from 'vitest';
import type { PatientEvent } from '../../../src/event/patient-event.js';
import { buildMessages, type MappingResult } from '../../../src/mapping/build-messages.js';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { SEND_AS_PRESETS, type OutboundMessage } from '../../../src/mapping/profile.js';
import { APRIL_5, MARCH_15, acmeProfile, loadEvent, segmentsOf, triggers } from './mapping-fixtures.js';

function messagesOf(result: MappingResult): OutboundMessage[] {
  if (result.kind !== 'messages') throw new Error(`expected messages, got skipped: ${result.reason}`);
  return result.messages;
}

function segment(m: OutboundMessage | undefined, name: string): string {
  return segmentsOf(m?.text ?? '').find((s) => s.startsWith(`${name}|`) || s === name) ?? '';
}

function field(m: OutboundMessage | undefined, name: string, n: number): string {
  // MSH-n is fields[n - 1] (MSH-1 is the separator itself); other segments' field n is fields[n].
  const fields = segment(m, name).split('|');
  return fields[name === 'MSH' ? n - 1 : n] ?? '';
}

const anne = (): PatientEvent => loadEvent('create-anne');

describe('buildMessages: trigger table', () => {
  it.each([
    ['delete', SEND_AS_PRESETS.Client],
    ['unmerge', SEND_AS_PRESETS.Client],
    ['unmerge', SEND_AS_PRESETS.Server],
  ] as const)('skips %s when its cell is skip', (type, table) => {
    const event = { ...loadEvent('unmerge'), type };
    const result = buildMessages(event, acmeProfile({ triggers: table }), MARCH_15);
    expect(result).toEqual({ kind: 'skipped', reason: `no trigger for ${type} (trigger table: skip)` });
  });

  it('a skip override turns off a trigger the preset would send', () => {
    const result = buildMessages(anne(), acmeProfile({ triggers: triggers({ create: 'skip' }) }), MARCH_15);
    expect(result.kind).toBe('skipped');
  });

  it('a skip reason never carries patient data', () => {
    const event = loadEvent('delete-visit');
    const result = buildMessages(event, acmeProfile(), MARCH_15);
    expect(result.kind).toBe('skipped');
    if (result.kind !== 'skipped') return;
    for (const secret of ['PAT-000321', 'Doe', 'Jane', '1990', 'PRE-123', 'registrar', event.id]) {
      expect(result.reason).not.toContain(secret);
    }
  });

  it.each([
    ['create', 'A01', 'ADT^A01^ADT_A01'],
    ['create', 'A04', 'ADT^A04^ADT_A01'],
    ['create', 'A08', 'ADT^A08^ADT_A01'],
    ['create', 'A28', 'ADT^A28^ADT_A05'],
    ['create', 'A31', 'ADT^A31^ADT_A05'],
    ['update', 'A08', 'ADT^A08^ADT_A01'],
    ['update', 'A31', 'ADT^A31^ADT_A05'],
    ['delete', 'A38', 'ADT^A38^ADT_A38'],
  ] as const)('%s overridden to %s sends MSH-9 %s', (type, trigger, msh9) => {
    const event = { ...anne(), type };
    const [m, ...rest] = messagesOf(buildMessages(event, acmeProfile({ triggers: triggers({ [type]: trigger }) }), MARCH_15));
    expect(rest).toHaveLength(0);
    expect(m?.trigger).toBe(trigger);
    expect(field(m, 'MSH', 9)).toBe(msh9);
    expect(segmentsOf(m?.text ?? '').map((s) => s.slice(0, 3))).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
  });

  it('SendAs Server sends A38 for delete with PV1-2 P and the visit number', () => {
    const [m] = messagesOf(buildMessages(loadEvent('delete-visit'), acmeProfile({ triggers: SEND_AS_PRESETS.Server }), MARCH_15));
    expect(segment(m, 'PV1')).toBe('PV1|1|P|||||||||||||||||PRE-123^^^ACME_VISITS&1.2.3&ISO');
  });

  it('A38 without a visit is PV1|1|P', () => {
    const event = { ...loadEvent('delete-visit') };
    delete event.visit;
    const [m] = messagesOf(buildMessages(event, acmeProfile({ triggers: SEND_AS_PRESETS.Server }), MARCH_15));
    expect(segment(m, 'PV1')).toBe('PV1|1|P');
  });
});

describe('buildMessages: message count and MSH-10 index', () => {
  it('A40: one message per replaced record, in order, index = position', () => {
    const event = loadEvent('merge-two-replaced');
    const profile = acmeProfile();
    const messages = messagesOf(buildMessages(event, profile, APRIL_5));
    expect(messages.map((m) => m.controlId)).toEqual([
      controlIdFor(event.id, profile.subscription, 0),
      controlIdFor(event.id, profile.subscription, 1),
    ]);
    expect(messages.map((m) => segment(m, 'MRG').split('^')[0])).toEqual(['MRG|PAT-000999', 'MRG|PAT-000777']);
    // The survivor's PID is the same in every message.
    expect(segment(messages[0], 'PID')).toBe(segment(messages[1], 'PID'));
    expect(segmentsOf(messages[1]?.text ?? '').map((s) => s.slice(0, 3))).toEqual(['MSH', 'EVN', 'PID', 'MRG']);
  });

  it('A40 without a replaced record is skipped, not thrown', () => {
    const event = { ...loadEvent('merge-anne'), replaced: [] };
    const result = buildMessages(event, acmeProfile(), APRIL_5);
    expect(result.kind).toBe('skipped');
  });

  it('unmerge with a patient-update trigger: the survivor (index 0), then each restored record (1..n) in PID', () => {
    const event = loadEvent('unmerge');
    const profile = acmeProfile({ triggers: triggers({ unmerge: 'A31' }) });
    const messages = messagesOf(buildMessages(event, profile, APRIL_5));
    expect(messages.map((m) => m.controlId)).toEqual([0, 1, 2].map((i) => controlIdFor(event.id, profile.subscription, i)));
    expect(messages.map((m) => field(m, 'PID', 3).split('^')[0])).toEqual(['PAT-000123', 'PAT-000999', 'PAT-000777']);
    expect(messages.map((m) => field(m, 'MSH', 9))).toEqual(Array(3).fill('ADT^A31^ADT_A05'));
  });

  it('create and update give one message with index 0, even when replaced is present', () => {
    const event = { ...loadEvent('unmerge'), type: 'update' as const };
    const messages = messagesOf(buildMessages(event, acmeProfile(), MARCH_15));
    expect(messages).toHaveLength(1);
    expect(messages[0]?.controlId).toBe(controlIdFor(event.id, 'pix-feed', 0));
  });

  it('the subscription changes MSH-10 and nothing else', () => {
    const a = messagesOf(buildMessages(anne(), acmeProfile(), MARCH_15))[0];
    const b = messagesOf(buildMessages(anne(), acmeProfile({ subscription: 'other-feed' }), MARCH_15))[0];
    expect(a?.controlId).not.toBe(b?.controlId);
    expect(a?.text.replace(a.controlId, '')).toBe(b?.text.replace(b.controlId, ''));
  });

  it('is deterministic for the same inputs', () => {
    const first = buildMessages(loadEvent('update-full'), acmeProfile(), MARCH_15);
    const second = buildMessages(loadEvent('update-full'), acmeProfile(), MARCH_15);
    expect(second).toEqual(first);
  });
});

describe('buildMessages: MSH', () => {
  it('MSH-7 and EVN-2 come from the build time, EVN-6 keeps the event offset', () => {
    const [m] = messagesOf(buildMessages(anne(), acmeProfile(), { now: new Date('2026-07-01T00:00:01Z'), utcOffsetMinutes: -420 }));
    expect(field(m, 'MSH', 7)).toBe('20260630170001-0700');
    expect(field(m, 'EVN', 2)).toBe('20260630170001-0700');
    expect(field(m, 'EVN', 6)).toBe('20260315142900+0100');
  });

  it('MSH-8 only when set, escaped; MSH-11 from the profile', () => {
    const without = messagesOf(buildMessages(anne(), acmeProfile(), MARCH_15))[0];
    expect(field(without, 'MSH', 8)).toBe('');
    const withSecurity = messagesOf(buildMessages(anne(), acmeProfile({ security: 'pa|ss^w', processingId: 'D' }), MARCH_15))[0];
    expect(field(withSecurity, 'MSH', 8)).toBe('pa\\F\\ss\\S\\w');
    expect(field(withSecurity, 'MSH', 11)).toBe('D');
  });

  it('escapes MSH-3..6 and leaves MSH-5/6 empty when not configured', () => {
    const profile = acmeProfile({ sendingApplication: 'A&B', sendingFacility: 'F~1', receivingApplication: '', receivingFacility: '' });
    const [m] = messagesOf(buildMessages(anne(), profile, MARCH_15));
    expect(segment(m, 'MSH').startsWith('MSH|^~\\&|A\\T\\B|F\\R\\1|||20260315143022+0100||ADT^A01^ADT_A01|')).toBe(true);
  });

  it('MSH-18 is absent for an all-ASCII message', () => {
    const [m] = messagesOf(buildMessages(anne(), acmeProfile(), MARCH_15));
    expect(field(m, 'MSH', 12)).toBe('2.5');
    expect(segment(m, 'MSH').split('|')).toHaveLength(12);
    expect(m?.text).not.toContain('UNICODE');
  });

  it('MSH-18 is UNICODE UTF-8 when any character is non-ASCII: in PID, in EVN, or in MSH itself', () => {
    const inName = anne();
    inName.patient.name = [{ use: 'official', family: 'Zoë' }];
    const inUser = { ...anne(), source: { user: 'jöe' } };
    const cases = [
      buildMessages(inName, acmeProfile(), MARCH_15),
      buildMessages(inUser, acmeProfile(), MARCH_15),
      buildMessages(anne(), acmeProfile({ receivingFacility: 'RÉGION' }), MARCH_15),
      buildMessages(anne(), acmeProfile({ security: 'sécret' }), MARCH_15),
    ];
    for (const result of cases) expect(field(messagesOf(result)[0], 'MSH', 18)).toBe('UNICODE UTF-8');
  });

  it('MSH-18 is decided per message (an unmerge record with a non-ASCII name)', () => {
    const event = loadEvent('unmerge');
    const restored = event.replaced?.[1];
    if (restored) restored.name = [{ use: 'official', family: 'Brïen' }];
    const messages = messagesOf(buildMessages(event, acmeProfile({ triggers: triggers({ unmerge: 'A08' }) }), APRIL_5));
    expect(messages.map((m) => field(m, 'MSH', 18))).toEqual(['', '', 'UNICODE UTF-8']);
  });
});

describe('buildMessages: EVN and PV1', () => {
  it('EVN-1 is the trigger in 2.3.1 and empty in 2.5; EVN-5 is source.user, escaped', () => {
    const event = { ...anne(), source: { user: 'j&doe' } };
    expect(segment(messagesOf(buildMessages(event, acmeProfile({ version: '2.3.1' }), MARCH_15))[0], 'EVN')).toBe(
      'EVN|A01|20260315143022+0100|||j\\T\\doe|20260315142900+0100',
    );
    expect(segment(messagesOf(buildMessages(event, acmeProfile(), MARCH_15))[0], 'EVN')).toBe(
      'EVN||20260315143022+0100|||j\\T\\doe|20260315142900+0100',
    );
  });

  it('an unparseable occurredAt leaves EVN-6 empty instead of throwing', () => {
    const event = { ...anne(), occurredAt: 'soon' };
    expect(segment(messagesOf(buildMessages(event, acmeProfile(), MARCH_15))[0], 'EVN')).toBe('EVN||20260315143022+0100');
  });

  it('A01 with a visit: PV1-2 the class, PV1-19 the number with the HD of visit.system', () => {
    const event: PatientEvent = { ...anne(), visit: { number: 'V|1', system: 'urn:oid:7.7', class: 'I' } };
    expect(segment(messagesOf(buildMessages(event, acmeProfile(), MARCH_15))[0], 'PV1')).toBe('PV1|1|I|||||||||||||||||V\\F\\1^^^&7.7&ISO');
  });

  it('A01 with a visit without class keeps N; a visit number without system is sent bare', () => {
    const event: PatientEvent = { ...anne(), visit: { number: 'VN-1' } };
    expect(segment(messagesOf(buildMessages(event, acmeProfile(), MARCH_15))[0], 'PV1')).toBe('PV1|1|N|||||||||||||||||VN-1');
  });

  it('A28/A31 ignore the visit: PV1|1|N', () => {
    const event: PatientEvent = { ...anne(), visit: { number: 'VN-1', class: 'I' } };
    for (const trigger of ['A28', 'A31'] as const) {
      const [m] = messagesOf(buildMessages(event, acmeProfile({ triggers: triggers({ create: trigger }) }), MARCH_15));
      expect(segment(m, 'PV1')).toBe('PV1|1|N');
    }
  });
});

describe('buildMessages: odd optional data never throws', () => {
  it('maps a patient with only an identifier, and one with malformed optional values', () => {
    const minimal: PatientEvent = {
      id: 'e',
      type: 'create',
      occurredAt: '2026-01-01T00:00:00Z',
      patient: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2', value: 'X' }] },
    };
    expect(messagesOf(buildMessages(minimal, acmeProfile(), MARCH_15))[0]?.text).toBe(
      `MSH|^~\\&|ACME_EHR|ACME_HOSP|PIX_MGR|REGION_HIE|20260315143022+0100||ADT^A01^ADT_A01|${controlIdFor('e', 'pix-feed', 0)}|P|2.5\r` +
        'EVN||20260315143022+0100||||20260101000000+0000\rPID|1||X^^^&1.2&ISO||UNKNOWN^^^^^^U\rPV1|1|N\r',
    );
    const odd = {
      ...minimal,
      patient: {
        ...minimal.patient,
        birthDate: '03/12/1984',
        deceasedDateTime: 'last week',
        gender: 'robot',
        name: [{}, { given: [] }],
        address: [{}],
        telecom: [{}, { system: 'phone' }],
        communication: [{}],
        maritalStatus: {},
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName' }],
      },
    } as unknown as PatientEvent;
    const [m] = messagesOf(buildMessages(odd, acmeProfile(), MARCH_15));
    // deceasedDateTime present but unparseable: PID-29 empty, PID-30 still Y (the patient is deceased).
    expect(segment(m, 'PID')).toBe('PID|1||X^^^&1.2&ISO||UNKNOWN^^^^^^U|||||||||||||||||||||||||Y');
  });
});
