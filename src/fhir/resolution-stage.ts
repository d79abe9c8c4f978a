import type { Logger } from 'pino';
import type { Delivery } from '../amqp/amqp-session.js';
import type { EventDecoder } from '../event/decode-event.js';
import { decodeReferenceEvent, type ReferenceEvent } from '../event/decode-reference-event.js';
import type { PatientEvent } from '../event/patient-event.js';
import { backoffDelay } from '../delivery/policy.js';
import { FailureLog } from '../observability/failure-log.js';
import type { Registry } from 'prom-client';
import type { SubscriptionConfig } from '../config/subscription.js';
import { FhirSources } from './fhir-client.js';
import type { FhirSourceConfig } from './fhir-sources-config.js';
import { fetchMetrics, type FetchMetrics } from './fetch-metrics.js';
import { resolveReference, type Resolution } from './resolve-reference.js';

/** What the stage hands on, in queue order: an event to route, or why it is not one. */
export type Resolved =
  | { ok: true; event: PatientEvent }
  | { ok: false; outcome: 'invalid-event'; reason: string; eventId: string | null }
  /** A reference event that is no patient change (outcome `filtered`, acked). */
  | { ok: false; outcome: 'filtered'; reason: string; eventId: string | null };

export interface ResolutionStageOptions {
  /** Its name; `lanes` is how many reference events may be read at once ahead of the stream; `retry` the backoff while waiting. */
  subscription: Pick<SubscriptionConfig, 'name' | 'lanes' | 'retry'>;
  decodeEvent: EventDecoder;
  fhirSources: readonly FhirSourceConfig[];
  /** False once the delivery's broker connection is gone (the broker redelivers it). */
  isCurrent: (generation: number) => boolean;
  registry: Registry;
  logger: Logger;
  /** Called in queue order, once per delivery still current. */
  onResolved: (delivery: Delivery, resolved: Resolved, receivedAt: number) => void;
}

/** Why the stage waits, for /readyz. */
export interface ResolutionWait {
  since: string;
  outcome: string;
  reason: string;
}

interface Entry {
  delivery: Delivery;
  receivedAt: number;
  reference?: ReferenceEvent;
  result?: Resolved;
  fetching: boolean;
}

/** The reference an event was resolved from, for its receipt (never its data). */
const references = new WeakMap<Delivery, string>();
export function referenceOf(delivery: Delivery): string | undefined {
  return references.get(delivery);
}

/**
 * The resolution stage of a subscription (README, "Reference events"): sits between the
 * broker and routing, takes every delivery in queue order and hands each on in that same
 * order. Envelope events pass straight through when nothing waits ahead of them; reference
 * events are read from their FHIR source first, up to the subscription's `lanes` at once.
 *
 * When a read must be retried (401/403, 5xx, timeout, connection error) the stage waits:
 * it reads only the first unresolved event, with capped backoff, and hands nothing on
 * behind it until it resolves — nothing overtakes, like an unreachable receiver. Events
 * it holds are unacknowledged; on stop or a lost broker connection they go back to the
 * queue and come again in order.
 */
export class ResolutionStage {
  private queue: Entry[] = [];
  private fetching = 0;
  private waiting: (ResolutionWait & { attempt: number }) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly failures: FailureLog;
  private readonly labels: { subscription: string };
  private readonly sources: FhirSources;
  private readonly metrics: FetchMetrics;

  constructor(private readonly options: ResolutionStageOptions) {
    this.failures = new FailureLog(options.logger);
    this.labels = { subscription: options.subscription.name };
    this.sources = new FhirSources(options.fhirSources);
    this.metrics = fetchMetrics(options.registry);
  }

  /** The stream's probe for `mllp_oldest_event_age_seconds`: events held here count too. */
  probeWith(next: { oldestReceivedAt(): number | undefined; depth: number }): { oldestReceivedAt(): number | undefined; depth: number } {
    const queue = () => this.queue;
    return {
      oldestReceivedAt: () => queue()[0]?.receivedAt ?? next.oldestReceivedAt(),
      get depth() {
        return queue().length + next.depth;
      },
    };
  }

  /** Set while the stream waits for a FHIR source. */
  get wait(): ResolutionWait | undefined {
    return this.waiting && { since: this.waiting.since, outcome: this.waiting.outcome, reason: this.waiting.reason };
  }

  push(delivery: Delivery, receivedAt: number): void {
    if (this.abort.signal.aborted) return;
    const entry: Entry = { delivery, receivedAt, fetching: false };
    const decoded = decodeReferenceEvent(delivery.message.content, delivery.message.properties);
    if (decoded.kind === 'not-reference') {
      const envelope = this.options.decodeEvent(delivery.message.content);
      entry.result = envelope.ok ? envelope : { ok: false, outcome: 'invalid-event', reason: envelope.reason, eventId: delivery.message.properties.messageId ?? null };
    } else if (decoded.kind === 'reference') {
      entry.reference = decoded.event;
      references.set(delivery, describeReference(decoded.event));
    } else {
      entry.result = { ok: false, outcome: decoded.kind === 'ignored' ? 'filtered' : 'invalid-event', reason: decoded.reason, eventId: decoded.eventId };
    }
    // Fast path: nothing ahead, nothing to read.
    if (this.queue.length === 0 && entry.result) {
      this.options.onResolved(delivery, entry.result, receivedAt);
      return;
    }
    this.queue.push(entry);
    this.pump();
  }

  /** Stops reading; held events stay unacknowledged (closing the channel requeues them). Idempotent. */
  stop(): void {
    this.abort.abort();
    clearTimeout(this.retryTimer);
    this.queue = [];
    this.sources.close();
  }

  private pump(): void {
    this.dropStale();
    while (this.queue[0]?.result) {
      const entry = this.queue.shift()!;
      this.options.onResolved(entry.delivery, entry.result!, entry.receivedAt);
    }
    if (this.abort.signal.aborted) return;
    if (this.waiting) {
      const probe = this.queue.find((entry) => !entry.result);
      if (probe && !probe.fetching && this.retryTimer === undefined) {
        const delayMs = backoffDelay(this.waiting.attempt, this.options.subscription.retry);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (this.queue.includes(probe)) this.start(probe);
          else this.pump();
        }, delayMs);
      }
      return;
    }
    for (const entry of this.queue) {
      if (this.fetching >= this.options.subscription.lanes) break;
      if (!entry.result && !entry.fetching) this.start(entry);
    }
  }

  /** Deliveries of a lost broker connection: the broker redelivers them, in order, ahead of anything new. */
  private dropStale(): void {
    if (this.queue.length === 0 || this.options.isCurrent(this.queue[0]!.delivery.generation)) return;
    const before = this.queue.length;
    this.queue = this.queue.filter((entry) => this.options.isCurrent(entry.delivery.generation));
    if (this.waiting && !this.queue.some((entry) => !entry.result)) {
      // Nothing left to probe: the next reference event starts afresh.
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.waiting = undefined;
    }
    this.options.logger.info({ dropped: before - this.queue.length }, 'broker connection lost before events were resolved; the broker will redeliver them');
  }

  private start(entry: Entry): void {
    if (this.abort.signal.aborted || !this.queue.includes(entry)) return;
    entry.fetching = true;
    this.fetching++;
    const { metrics, sources } = this;
    const { decodeEvent } = this.options;
    const observer = {
      fetched: (outcome: string, seconds: number) => {
        metrics.fetches.inc({ ...this.labels, outcome });
        metrics.latency.observe(this.labels, seconds);
      },
    };
    void resolveReference(entry.reference!, sources, decodeEvent, observer, entry.receivedAt, this.abort.signal)
      .catch((error: unknown): Resolution => ({ kind: 'wait', outcome: 'connection-error', reason: `resolution failed (${(error as Error).name})` }))
      .then((resolution) => {
        entry.fetching = false;
        this.fetching--;
        if (this.abort.signal.aborted) return;
        if (this.queue.includes(entry)) this.settle(entry, resolution);
        this.pump();
      });
  }

  private settle(entry: Entry, resolution: Resolution): void {
    const eventId = entry.reference!.id;
    if (resolution.kind === 'wait') {
      this.waiting = {
        since: this.waiting?.since ?? new Date().toISOString(),
        outcome: resolution.outcome,
        reason: resolution.reason,
        attempt: (this.waiting?.attempt ?? 0) + 1,
      };
      const message = resolution.outcome === 'unauthorized' ? 'FHIR source refused the credentials; the stream waits' : 'FHIR source unavailable; the stream waits';
      this.failures.failure(resolution.outcome, resolution.reason, { eventId, attempt: this.waiting.attempt }, message);
      return;
    }
    entry.result =
      resolution.kind === 'event'
        ? { ok: true, event: resolution.event }
        : { ok: false, outcome: resolution.kind === 'filtered' ? 'filtered' : 'invalid-event', reason: resolution.reason, eventId };
    // The wait ends when the first unresolved event (the one probed) resolves.
    if (this.waiting && this.queue.find((candidate) => candidate === entry || !candidate.result) === entry) this.recovered(eventId);
  }

  private recovered(eventId: string): void {
    this.waiting = undefined;
    this.failures.success({ eventId }, 'FHIR source answering again');
  }
}

/** `<resourceReference>` or `<resourceReference>/_history/<resourceVersion>`, as the event named it. */
function describeReference(event: ReferenceEvent): string {
  return event.version === undefined || event.reference.includes('/_history/') ? event.reference : `${event.reference}/_history/${event.version}`;
}
