import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/amqp/amqp-session.js';
import { DeliveryInbox } from '../../../src/runner/delivery-inbox.js';

const delivery = (n: number) => ({ n }) as unknown as Delivery;
const numbers = (taken: Delivery[]) => taken.map((d) => (d as unknown as { n: number }).n);
/** Resolves in the check phase of the current turn, after immediates queued before it. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('DeliveryInbox', () => {
  it('hands deliveries on in the order pushed, one per turn of the event loop', async () => {
    const taken: Delivery[] = [];
    const inbox = new DeliveryInbox((d) => taken.push(d));
    for (let n = 1; n <= 3; n++) inbox.push(delivery(n));
    expect(taken).toEqual([]);
    expect(inbox.depth).toBe(3);
    await endOfTurn();
    expect(numbers(taken)).toEqual([1]);
    await endOfTurn();
    expect(numbers(taken)).toEqual([1, 2]);
    inbox.push(delivery(4));
    await endOfTurn();
    await endOfTurn();
    expect(numbers(taken)).toEqual([1, 2, 3, 4]);
    expect(inbox.depth).toBe(0);
    expect(inbox.oldestReceivedAt()).toBeUndefined();
  });

  it('takes several per turn when told to, and starts again after it emptied', async () => {
    const taken: Delivery[] = [];
    const inbox = new DeliveryInbox((d) => taken.push(d), 2);
    for (let n = 1; n <= 3; n++) inbox.push(delivery(n));
    await endOfTurn();
    expect(numbers(taken)).toEqual([1, 2]);
    await endOfTurn();
    expect(numbers(taken)).toEqual([1, 2, 3]);
    inbox.push(delivery(5));
    await endOfTurn();
    expect(numbers(taken)).toEqual([1, 2, 3, 5]);
  });

  it('reports when the oldest waiting delivery was pushed and passes that time on', async () => {
    const times: number[] = [];
    const inbox = new DeliveryInbox((_d, receivedAt) => times.push(receivedAt));
    const before = Date.now();
    inbox.push(delivery(1));
    inbox.push(delivery(2));
    const oldest = inbox.oldestReceivedAt()!;
    expect(oldest).toBeGreaterThanOrEqual(before);
    expect(oldest).toBeLessThanOrEqual(Date.now());
    await endOfTurn();
    expect(times).toEqual([oldest]);
    await endOfTurn();
    expect(times).toHaveLength(2);
  });

  it('keeps order across the compaction of a long-running inbox', async () => {
    const taken: Delivery[] = [];
    const inbox = new DeliveryInbox((d) => taken.push(d), 500);
    let pushed = 0;
    // Pushes keep coming before it empties: the taken part is dropped once 1,024 are behind.
    for (let turn = 0; turn < 6; turn++) {
      for (let i = 0; i < 600; i++) inbox.push(delivery(++pushed));
      await endOfTurn();
    }
    while (inbox.depth > 0) await endOfTurn();
    expect(numbers(taken)).toEqual(Array.from({ length: pushed }, (_, i) => i + 1));
  });
});
