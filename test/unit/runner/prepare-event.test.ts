import { afterAll, describe, expect, it } from 'vitest';
import { createEventDecoder } from '../../../src/event/decode-event.js';
import type { Resolved } from '../../../src/fhir/resolution-stage.js';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import { prepareEvent } from '../../../src/runner/prepare-event.js';
import { patientEvent } from '../../helpers/events.js';
import { configDir, load, minimalSubscription } from '../config/config-fixtures.js';

/** prepareEvent: route -> map what the resolution stage decoded, without a broker or a socket. */

const dir = configDir();
afterAll(() => dir.cleanup());
const decode = createEventDecoder({ maxMessageBytes: 1 << 20 });
const NOW = new Date('2026-03-15T14:30:00Z');

function subscription(overrides: Record<string, unknown> = {}) {
  const file = dir.write(`config-${Math.random().toString(36).slice(2)}.json`, { subscriptions: [minimalSubscription('prep', overrides)] });
  return load({ configFile: file }).subscriptions[0]!;
}

/** What the resolution stage hands on for an envelope event (src/fhir/resolution-stage.ts). */
function resolvedOf(content: Buffer | Record<string, unknown>, messageId?: string): Resolved {
  const decoded = decode(Buffer.isBuffer(content) ? content : Buffer.from(JSON.stringify(content)));
  return decoded.ok ? decoded : { ok: false, outcome: 'invalid-event', reason: decoded.reason, eventId: messageId ?? null };
}

/** MSH-7 and EVN-2 are the build time in the machine's UTC offset: blanked, their shape checked. */
function withoutBuildTime(text: string): string[] {
  return text
    .split('\r')
    .filter(Boolean)
    .map((segment) => {
      const fields = segment.split('|');
      const index = segment.startsWith('MSH|') ? 6 : segment.startsWith('EVN|') ? 2 : -1;
      if (index < 0) return segment;
      expect(fields[index]).toMatch(/^\d{14}[+-]\d{4}$/);
      fields[index] = '<now>';
      return fields.join('|');
    });
}

describe('prepareEvent', () => {
  it('golden: a create event for the minimal subscription becomes this one A01', () => {
    const event = patientEvent({ id: 'evt-golden-1', patientId: 'PAT-000123' });
    const prepared = prepareEvent(resolvedOf(event), subscription(), NOW);
    expect(prepared.kind).toBe('send');
    if (prepared.kind !== 'send') return;
    expect(prepared.event.id).toBe('evt-golden-1');
    expect(prepared.messages.map((message) => [message.trigger, message.controlId])).toEqual(GOLDEN_CREATE_IDS);
    expect(withoutBuildTime(prepared.messages[0]!.text)).toEqual(GOLDEN_CREATE);
  });

  it('a merge: the messages the mapper builds, in order, for the decoded event', () => {
    const sub = subscription();
    const prepared = prepareEvent(resolvedOf(patientEvent({ type: 'merge', patientId: 'PAT-P1' })), sub, NOW);
    expect(prepared.kind).toBe('send');
    if (prepared.kind !== 'send') return;
    expect(prepared.messages.map((message) => message.trigger)).toEqual(['A40']);
    const expected = buildMessages(prepared.event, sub.mapping, { now: NOW, utcOffsetMinutes: -NOW.getTimezoneOffset() });
    expect(expected.kind === 'messages' ? expected.messages : []).toEqual(prepared.messages);
  });

  it('bad input is dead-lettered as invalid-event under the AMQP message id, with a reason that quotes nothing', () => {
    const prepared = prepareEvent(resolvedOf(Buffer.from('{"id": "x", not json'), 'msg-7'), subscription(), NOW);
    expect(prepared).toMatchObject({ kind: 'settle', outcome: 'invalid-event', action: 'dead-letter', eventId: 'msg-7' });
    expect(prepared.kind === 'settle' && prepared.reason).not.toContain('not json');
  });

  it('a reference event the stage filtered is acked as filtered; one it found invalid is dead-lettered', () => {
    const sub = subscription();
    expect(prepareEvent({ ok: false, outcome: 'filtered', reason: 'not a patient change', eventId: 'ref-1' }, sub, NOW)).toEqual({
      kind: 'settle',
      outcome: 'filtered',
      action: 'ack',
      reason: 'not a patient change',
      eventId: 'ref-1',
    });
    expect(prepareEvent({ ok: false, outcome: 'invalid-event', reason: 'resource is gone', eventId: 'ref-2' }, sub, NOW)).toEqual({
      kind: 'settle',
      outcome: 'invalid-event',
      action: 'dead-letter',
      reason: 'resource is gone',
      eventId: 'ref-2',
    });
  });

  it('an event type the subscription does not take is acked as filtered; outside the window as expired', () => {
    const update = patientEvent({ type: 'update' });
    expect(prepareEvent(resolvedOf(update), subscription({ events: ['create'] }), NOW)).toEqual({
      kind: 'settle',
      outcome: 'filtered',
      action: 'ack',
      reason: 'event type update is not in events',
      eventId: update.id,
    });
    expect(prepareEvent(resolvedOf(update), subscription({ notAfter: '2026-01-01T00:00:00Z' }), NOW)).toEqual({
      kind: 'settle',
      outcome: 'expired',
      action: 'ack',
      reason: "after the subscription's notAfter (2026-01-01T00:00:00.000Z)",
      eventId: update.id,
    });
  });

  it('a trigger table cell that says skip: acked as skipped', () => {
    const deleted = patientEvent({ type: 'delete' });
    expect(prepareEvent(resolvedOf(deleted), subscription(), NOW)).toMatchObject({ kind: 'settle', outcome: 'skipped', action: 'ack', eventId: deleted.id });
  });
});

const GOLDEN_CREATE_IDS: Array<[string, string]> = [['A01', 'SC2KGGJZKJDMAXYWGM6M']];
/** The A01 of a create event under the defaults (config/default.json; SendAs Client, README "Event type -> trigger"). */
const GOLDEN_CREATE: string[] = [
  'MSH|^~\\&|MLLP_DISPATCHER||||<now>||ADT^A01^ADT_A01|SC2KGGJZKJDMAXYWGM6M|P|2.5',
  'EVN||<now>|||jdoe|20260315142900+0100',
  'PID|1||PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI||Testperson^Anne^^^^^L||19840312|F',
  'PV1|1|N',
];
