import { describe, expect, it } from 'vitest';
import { receiptText, type Receipt, type Settlement } from '../../../src/runner/settler.js';

const accepted: Settlement = { outcome: 'accepted', action: 'ack', eventId: 'evt-1', controlId: 'ABC123', trigger: 'A01', ackCode: 'AA', attempts: 1, latencyMs: 0.4321, reason: null };
const invalid: Settlement = { outcome: 'invalid-event', action: 'dead-letter', eventId: null, controlId: null, trigger: null, ackCode: null, attempts: 0, latencyMs: null, reason: 'bad' };

describe('receiptText', () => {
  it.each([
    ['an accepted event', accepted, undefined],
    ['an invalid event without id', invalid, undefined],
    ['a reference event with an odd id and ACK code', { ...accepted, eventId: 'id "with" \\ quotes\n', ackCode: 'A\u0001' }, 'https://fhir.example/Patient/1/_history/2'],
  ] as const)('is the JSON of the Receipt, key for key: %s', (_name, settlement, reference) => {
    const text = receiptText(settlement, 'lab-feed', reference);
    const parsed = JSON.parse(text) as Receipt;
    const expected: Receipt = {
      eventId: settlement.eventId,
      subscription: 'lab-feed',
      controlId: settlement.controlId,
      trigger: settlement.trigger,
      outcome: settlement.outcome,
      ackCode: settlement.ackCode,
      attempts: settlement.attempts,
      latencyMs: settlement.latencyMs,
      at: parsed.at,
      ...(reference ? { reference } : {}),
    };
    expect(text).toBe(JSON.stringify(expected));
    expect(Math.abs(Date.parse(parsed.at) - Date.now())).toBeLessThan(60_000);
  });
});
