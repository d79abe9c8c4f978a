import type { Delivery } from '../amqp/session-options.js';
import type { Job } from '../delivery/job.js';
import type { Hold } from './hold-book.js';

/** A prepared event waiting at the gate, with the key hashes of the patients it concerns. */
export interface GateEntry {
  job: Job;
  delivery: Delivery;
  keys: readonly string[];
  /** Set when the event is the replayed dead letter that releases this hold. */
  trigger?: Hold;
}

/** `skip`: nothing to send (a copy of an event already sent): acked as it is. */
export type GateDecision = 'send' | 'park' | 'wait' | 'skip';

/**
 * Keeps a patient's next event away from the delivery stream until the one before it has
 * settled, so that when one is dead-lettered none of the same patient has been sent behind
 * it (docs/PATIENT-HOLD.md, "Ordering"). Other patients pass freely. Merges and unmerges
 * (barriers) pass only when nothing waits before them and nothing is in flight, so the hold
 * decision for them sees every earlier outcome; nothing behind a waiting barrier passes it.
 */
export class PatientGate {
  private waiting: GateEntry[] = [];
  /** Key hash -> events of that patient sent and not yet settled. */
  private readonly busy = new Map<string, number>();
  private pumping = false;
  private again = false;

  constructor(
    private readonly decide: (entry: GateEntry) => GateDecision,
    private readonly onSend: (entry: GateEntry) => void,
    private readonly onPark: (entry: GateEntry) => void,
    private readonly onSkip: (entry: GateEntry) => void,
  ) {}

  enqueue(entry: GateEntry): void {
    this.waiting.push(entry);
    this.pump();
  }

  /** An event sent through the gate has settled: its patients' next events may go. */
  done(keys: readonly string[]): void {
    for (const key of keys) {
      const count = (this.busy.get(key) ?? 1) - 1;
      if (count > 0) this.busy.set(key, count);
      else this.busy.delete(key);
    }
    this.pump();
  }

  /** Forgets everything (a new broker connection: every delivery held here is stale). */
  reset(): void {
    this.waiting = [];
    this.busy.clear();
  }

  get depth(): number {
    return this.waiting.length;
  }

  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.pass();
      } while (this.again);
    } finally {
      this.pumping = false;
    }
  }

  private pass(): void {
    if (this.waiting.length === 0) return;
    const blocked = new Set<string>();
    const rest: GateEntry[] = [];
    let closed = false;
    for (const entry of this.waiting) {
      if (closed) {
        rest.push(entry);
        continue;
      }
      const barrier = entry.job.barrier;
      const clash = barrier ? rest.length > 0 || this.busy.size > 0 : entry.keys.some((key) => blocked.has(key) || this.busy.has(key));
      const decision = clash ? 'wait' : this.decide(entry);
      if (decision === 'wait') {
        rest.push(entry);
        for (const key of entry.keys) blocked.add(key);
        closed = barrier;
      } else if (decision === 'send') {
        for (const key of entry.keys) this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
        this.onSend(entry);
      } else if (decision === 'park') {
        this.onPark(entry);
      } else {
        this.onSkip(entry);
      }
    }
    this.waiting = rest;
  }
}
