import type { DispatcherMetrics } from './metrics.js';

/** Latencies gathered before they are handed to prom-client's histogram in one go. */
const LATENCY_BATCH = 256;

/**
 * The series a subscription touches for every event and every send. Counting goes into
 * plain numbers here, and reaches prom-client only when a series is read (DispatcherMetrics
 * calls `flush` from the collect hook of each of these series, so a scrape never sees a
 * stale value) or when LATENCY_BATCH latencies have gathered. prom-client validates and
 * hashes a label set on every update, about a microsecond each, five times per event.
 */
export class SubscriptionHotMetrics {
  private readonly events = new Tally();
  private readonly attempts = new Tally();
  private readonly sent = new Tally();
  private readonly latencies = new Float64Array(LATENCY_BATCH);
  private latencyCount = 0;
  private lastAcceptedAt = 0;

  constructor(
    private readonly metrics: DispatcherMetrics,
    private readonly subscription: string,
  ) {
    metrics.tallyFor(subscription, this);
  }

  event(outcome: string): void {
    this.events.add(outcome);
  }

  attempt(outcome: string, trigger: string): void {
    this.attempts.add(outcome);
    this.sent.add(trigger);
  }

  accepted(latencyMs: number | undefined): void {
    if (latencyMs !== undefined) {
      this.latencies[this.latencyCount++] = latencyMs / 1000;
      if (this.latencyCount === LATENCY_BATCH) this.flushLatencies();
    }
    this.lastAcceptedAt = Date.now();
  }

  /** Writes what was counted since the last flush into prom-client. */
  flush(): void {
    const { metrics, subscription } = this;
    this.events.drain((outcome, count) => metrics.events.inc({ subscription, outcome }, count));
    this.attempts.drain((outcome, count) => metrics.attempts.inc({ subscription, outcome }, count));
    this.sent.drain((trigger, count) => metrics.messagesSent.inc({ subscription, trigger }, count));
    this.flushLatencies();
    if (this.lastAcceptedAt !== 0) {
      metrics.lastAccepted.set({ subscription }, this.lastAcceptedAt / 1000);
      this.lastAcceptedAt = 0;
    }
  }

  private flushLatencies(): void {
    const histogram = this.metrics.ackLatency;
    for (let i = 0; i < this.latencyCount; i++) histogram.observe({ subscription: this.subscription }, this.latencies[i]!);
    this.latencyCount = 0;
  }
}

/** Counts by label value, drained into prom-client. */
class Tally {
  private readonly counts = new Map<string, number>();

  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  drain(write: (label: string, count: number) => void): void {
    for (const [label, count] of this.counts) if (count > 0) write(label, count);
    this.counts.clear();
  }
}
