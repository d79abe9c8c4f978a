import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/amqp/session-options.js';
import type { Job } from '../../../src/delivery/job.js';
import { PatientGate, type GateDecision, type GateEntry } from '../../../src/hold/patient-gate.js';

/** The gate of docs/PATIENT-HOLD.md, "Ordering": one event in flight per patient, barriers wait for all. */
function entry(seq: number, keys: string[], barrier = false): GateEntry {
  return { job: { seq, eventId: `e${seq}`, messages: [], laneKey: keys[0] ?? '', barrier, receivedAt: 0, generation: 1, redelivered: false } as Job, delivery: {} as Delivery, keys };
}

function gate(decide: (entry: GateEntry) => GateDecision = () => 'send') {
  const sent: number[] = [];
  const parked: number[] = [];
  const skipped: number[] = [];
  const instance = new PatientGate(decide, (e) => sent.push(e.job.seq), (e) => parked.push(e.job.seq), (e) => skipped.push(e.job.seq));
  return { instance, sent, parked, skipped };
}

describe('PatientGate', () => {
  it('sends one event per patient at a time; other patients pass', () => {
    const { instance, sent } = gate();
    instance.enqueue(entry(1, ['a']));
    instance.enqueue(entry(2, ['a']));
    instance.enqueue(entry(3, ['b']));
    expect(sent).toEqual([1, 3]);
    instance.done(['a']);
    expect(sent).toEqual([1, 3, 2]);
  });

  it('parks what the hold decides, in order, as soon as the event before it settled', () => {
    const held = new Set<string>();
    const { instance, sent, parked } = gate((e) => (e.keys.some((key) => held.has(key)) ? 'park' : 'send'));
    instance.enqueue(entry(1, ['a']));
    instance.enqueue(entry(2, ['a']));
    instance.enqueue(entry(3, ['a']));
    held.add('a'); // event 1 dead-lettered
    instance.done(['a']);
    expect(sent).toEqual([1]);
    expect(parked).toEqual([2, 3]);
  });

  it('a barrier waits until nothing is in flight or waiting before it, and nothing passes a waiting barrier', () => {
    const { instance, sent } = gate();
    instance.enqueue(entry(1, ['a']));
    instance.enqueue(entry(2, ['b', 'a'], true));
    instance.enqueue(entry(3, ['c']));
    expect(sent).toEqual([1]);
    instance.done(['a']);
    expect(sent).toEqual([1, 2, 3]);
  });

  it('`wait` keeps the event and every later one of its patients', () => {
    let finishing = true;
    const { instance, sent } = gate((e) => (finishing && e.keys.includes('a') ? 'wait' : 'send'));
    instance.enqueue(entry(1, ['a']));
    instance.enqueue(entry(2, ['b']));
    instance.enqueue(entry(3, ['a']));
    expect(sent).toEqual([2]);
    finishing = false;
    instance.pump();
    expect(sent).toEqual([2, 1]);
    instance.done(['a']);
    expect(sent).toEqual([2, 1, 3]);
  });

  it('`skip` drops the event without holding up its patient', () => {
    const { instance, sent, skipped } = gate((e) => (e.job.seq === 1 ? 'skip' : 'send'));
    instance.enqueue(entry(1, ['a']));
    instance.enqueue(entry(2, ['a']));
    expect(skipped).toEqual([1]);
    expect(sent).toEqual([2]);
  });
});
