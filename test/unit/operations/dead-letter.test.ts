import { describe, expect, it } from 'vitest';
import { matchesFilter, readDeadLetter, type DeadLetterRecord } from '../../../src/operations/dead-letter.js';
import { replayProperties } from '../../../src/operations/replay.js';

const headers = {
  'x-trace': 'kept',
  'x-mllp-outcome': 'rejected',
  'x-mllp-reason': 'receiver answered AR 3 times',
  'x-mllp-ack-code': 'AR',
  'x-mllp-attempts': 3,
  'x-mllp-control-id': Buffer.from('0123456789ABCDEFGHJK'),
  'x-mllp-subscription': 'pix-feed',
  'x-mllp-routing-key': 'patient.update',
  'x-mllp-dead-lettered-at': '2026-03-15T14:30:00.000Z',
  'x-mllp-publish-id': '3.17',
};
const message = { properties: { messageId: 'evt-1', contentType: 'application/json', headers }, fields: { routingKey: 'pix-feed' } };

describe('dead letters', () => {
  it('reads the headers the settler writes (AMQP may hand strings back as buffers)', () => {
    expect(readDeadLetter(message as never)).toEqual({
      eventId: 'evt-1',
      outcome: 'rejected',
      ackCode: 'AR',
      controlId: '0123456789ABCDEFGHJK',
      attempts: 3,
      deadLetteredAt: '2026-03-15T14:30:00.000Z',
      reason: 'receiver answered AR 3 times',
      replays: 0,
      routingKey: 'patient.update',
    });
    expect(readDeadLetter({ properties: { headers: { 'x-mllp-dead-lettered-at': 'garbage' } } } as never)).toMatchObject({ eventId: null, outcome: 'unknown', deadLetteredAt: null, ackCode: null });
  });

  it('filters: every criterion given must match; since inclusive, until exclusive', () => {
    const record: DeadLetterRecord = readDeadLetter(message as never);
    expect(matchesFilter(record, {})).toBe(true);
    expect(matchesFilter(record, { outcomes: ['application-error', 'rejected'] })).toBe(true);
    expect(matchesFilter(record, { outcomes: ['application-error'] })).toBe(false);
    expect(matchesFilter(record, { eventIds: ['evt-2', 'evt-1'] })).toBe(true);
    expect(matchesFilter(record, { eventIds: ['evt-2'] })).toBe(false);
    expect(matchesFilter(record, { since: new Date('2026-03-15T14:30:00Z') })).toBe(true);
    expect(matchesFilter(record, { until: new Date('2026-03-15T14:30:00Z') })).toBe(false);
    expect(matchesFilter(record, { since: new Date('2026-03-15T14:00:00Z'), until: new Date('2026-03-15T15:00:00Z') })).toBe(true);
    expect(matchesFilter(record, { reasonContains: 'AR 3' })).toBe(true);
    expect(matchesFilter(record, { reasonContains: 'ar 3', outcomes: ['invalid-event'] })).toBe(false);
    expect(matchesFilter({ ...record, deadLetteredAt: null }, { since: new Date(0) })).toBe(false);
  });

  it('replays with the event id and producer headers, without the failure headers, counting replays', () => {
    const properties = replayProperties(message as never);
    expect(properties).toMatchObject({ messageId: 'evt-1', contentType: 'application/json', persistent: true, mandatory: true });
    expect(properties.headers).toEqual({ 'x-trace': 'kept', 'x-mllp-routing-key': 'patient.update', 'x-mllp-replays': 1 });
    const again = replayProperties({ ...message, properties: { ...message.properties, headers: { ...headers, 'x-mllp-replays': 1 } } } as never);
    expect(again.headers!['x-mllp-replays']).toBe(2);
  });
});
