import { describe, expect, it } from 'vitest';
import { ReceiverGate } from '../../../src/delivery/receiver-gate.js';

describe('ReceiverGate', () => {
  it('is open until a lane closes it; closed for the others, not for its owner', async () => {
    const gate = new ReceiverGate();
    expect(gate.isClosedFor(0)).toBe(false);
    await gate.wait();
    gate.close(1);
    expect(gate.isClosedFor(0)).toBe(true);
    expect(gate.isClosedFor(1)).toBe(false);
    // A second lane finding the receiver down does not steal the gate.
    gate.close(2);
    expect(gate.isClosedFor(2)).toBe(true);
  });

  it('wakes every waiter when the owner opens it; another lane cannot open it', async () => {
    const gate = new ReceiverGate();
    gate.close(0);
    let woken = 0;
    const waiters = [gate.wait().then(() => woken++), gate.wait().then(() => woken++)];
    gate.open(1);
    await Promise.resolve();
    expect(woken).toBe(0);
    expect(gate.isClosedFor(1)).toBe(true);
    gate.open(0);
    await Promise.all(waiters);
    expect(woken).toBe(2);
    expect(gate.isClosedFor(1)).toBe(false);
  });

  it('openAll() releases the waiters whoever holds the gate (shutdown)', async () => {
    const gate = new ReceiverGate();
    gate.close(3);
    const waiting = gate.wait();
    gate.openAll();
    await waiting;
    expect(gate.isClosedFor(0)).toBe(false);
  });
});
