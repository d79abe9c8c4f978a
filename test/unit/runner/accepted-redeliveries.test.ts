import { describe, expect, it } from 'vitest';
import { AcceptedRedeliveries } from '../../../src/runner/accepted-redeliveries.js';
import type { Settlement } from '../../../src/runner/settler.js';

function settlement(eventId: string, outcome: Settlement['outcome'] = 'accepted'): Settlement {
  return { outcome, action: 'ack', eventId, controlId: `C-${eventId}`, trigger: 'A01', ackCode: 'AA', attempts: 2, latencyMs: 1.5, reason: null };
}

describe('AcceptedRedeliveries', () => {
  it('answers a redelivered event the receiver accepted once, with the earlier result', () => {
    const memory = new AcceptedRedeliveries();
    memory.remember(settlement('e1'));
    expect(memory.take('e1')).toEqual({ outcome: 'accepted', action: 'ack', attempts: 2, uncertainSends: 0, controlId: 'C-e1', trigger: 'A01', ackCode: 'AA', latencyMs: 1.5 });
    expect(memory.take('e1')).toBeUndefined();
  });

  it('remembers only accepted events, and forgets the oldest beyond its capacity', () => {
    const memory = new AcceptedRedeliveries(2);
    memory.remember(settlement('rejected', 'rejected'));
    for (const id of ['a', 'b', 'c']) memory.remember(settlement(id));
    expect(memory.size).toBe(2);
    expect(memory.take('rejected')).toBeUndefined();
    expect(memory.take('a')).toBeUndefined();
    expect(memory.take('c')?.controlId).toBe('C-c');
  });
});
