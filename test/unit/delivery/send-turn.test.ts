import { describe, expect, it } from 'vitest';
import { SendTurn } from '../../../src/delivery/send-turn.js';

describe('SendTurn', () => {
  it('is taken at once when free, and handed to waiters in the order they asked', async () => {
    const turn = new SendTurn();
    expect(turn.acquire()).toBeUndefined();
    const order: string[] = [];
    const first = turn.acquire()!.then(() => order.push('first'));
    const second = turn.acquire()!.then(() => order.push('second'));
    turn.release();
    await first;
    expect(order).toEqual(['first']);
    turn.release();
    await second;
    expect(order).toEqual(['first', 'second']);
    turn.release();
    expect(turn.acquire()).toBeUndefined();
  });
});
