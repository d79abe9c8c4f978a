import { describe, expect, it } from 'vitest';
import { isBacklog } from '../../../src/amqp/coalesce-writes.js';

describe('isBacklog (when acks and receipts wait for the AMQP write window)', () => {
  it('is no backlog while a steady flow overlaps: up to two events per lane, plus four', () => {
    expect(isBacklog(0, 1)).toBe(false);
    expect(isBacklog(2, 1)).toBe(false);
    expect(isBacklog(6, 1)).toBe(false);
    expect(isBacklog(20, 8)).toBe(false);
  });

  it('is a backlog beyond that, and always while a drain holds the default prefetch waiting', () => {
    expect(isBacklog(7, 1)).toBe(true);
    expect(isBacklog(21, 8)).toBe(true);
    for (const lanes of [1, 4, 8, 16, 64]) expect(isBacklog(Math.max(64, 16 * lanes), lanes), `lanes ${lanes}`).toBe(true);
  });
});
