import { controlIdFor } from '../../src/mapping/control-id.js';
import type { Received } from './scripted-receiver.js';

/**
 * What a receiver saw of a stream of single-message events, checked against what was
 * published: which events arrived, in which order they first arrived, and whether every
 * copy of an event carried the event's own deterministic MSH-10.
 */
export interface StreamReport {
  /** Messages received, duplicates included. */
  messages: number;
  /** Distinct events received. */
  distinct: number;
  /** Copies beyond the first (resends after an uncertain send, redeliveries). */
  duplicates: number;
  /** Events received more than once. */
  duplicatedEvents: string[];
  /** Indexes (into the published list) in the order of first arrival. */
  firstArrivalOrder: number[];
  /** True when first arrivals are exactly the published order (0, 1, 2, ...). */
  firstArrivalInPublishOrder: boolean;
  /** Messages whose MSH-10 is not controlIdFor(event id, subscription, 0) of the event whose patient they carry. */
  wrongControlIds: Array<{ index: number; got: string; expected: string }>;
  /** Messages whose patient (PID-3.1) is not one of the published events'. */
  unknownMessages: number;
}

/** PID-3.1 of the first identifier: the patient id (unescaped ids only). */
export function pid3(message: Received): string | undefined {
  const pid = message.text.split('\r').find((segment) => segment.startsWith('PID|'));
  return pid?.split('|')[3]?.split('~')[0]?.split('^')[0];
}

/**
 * `events` are the published events, in publish order, each with a patient id unique to
 * it (`patientEvent({ patientId })`), so that the patient identifies the event independently of
 * MSH-10.
 */
export function checkStream(received: readonly Received[], events: ReadonlyArray<{ id: unknown; patientId: string }>, subscription: string): StreamReport {
  const byPatient = new Map(events.map((event, index) => [event.patientId, { index, controlId: controlIdFor(String(event.id), subscription, 0) }]));
  const seen = new Map<number, number>();
  const firstArrivalOrder: number[] = [];
  const wrongControlIds: StreamReport['wrongControlIds'] = [];
  let unknownMessages = 0;
  for (const message of received) {
    const patient = pid3(message);
    const event = patient === undefined ? undefined : byPatient.get(patient);
    if (!event) {
      unknownMessages++;
      continue;
    }
    if (message.controlId !== event.controlId) wrongControlIds.push({ index: event.index, got: message.controlId, expected: event.controlId });
    const count = seen.get(event.index) ?? 0;
    if (count === 0) firstArrivalOrder.push(event.index);
    seen.set(event.index, count + 1);
  }
  const duplicatedEvents = [...seen].filter(([, count]) => count > 1).map(([index]) => String(events[index]!.id));
  return {
    messages: received.length,
    distinct: seen.size,
    duplicates: received.length - unknownMessages - seen.size,
    duplicatedEvents,
    firstArrivalOrder,
    firstArrivalInPublishOrder: firstArrivalOrder.every((index, position) => index === position),
    wrongControlIds,
    unknownMessages,
  };
}

/** Polls GET /readyz and records every change of its status code, with the time it was seen. */
export class ReadinessRecorder {
  readonly changes: Array<{ at: number; status: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly port: number,
    private readonly intervalMs = 10,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get last(): number | undefined {
    return this.changes.at(-1)?.status;
  }

  /** Status codes in the order they changed, e.g. [200, 503, 200]. */
  get sequence(): number[] {
    return this.changes.map((change) => change.status);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      this.record(response.status);
    } catch {
      this.record(0);
    } finally {
      this.polling = false;
    }
  }

  private record(status: number): void {
    if (this.last !== status) this.changes.push({ at: Date.now(), status });
  }
}
