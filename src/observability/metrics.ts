import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OUTCOMES } from '../delivery/outcomes.js';
import { SUPPORTED_TRIGGERS } from '../mapping/profile.js';
import { IGNORED_REASONS } from '../transport/answers.js';

/** MSA-1 codes as metric label values: a fixed vocabulary, whatever the receiver sends. */
export const ACK_CODE_LABELS = ['AA', 'AE', 'AR', 'CA', 'CE', 'CR', 'none', 'other'] as const;

export function ackCodeLabel(code: string): (typeof ACK_CODE_LABELS)[number] {
  if (code === '') return 'none';
  return (ACK_CODE_LABELS as readonly string[]).includes(code) && code !== 'none' && code !== 'other' ? (code as (typeof ACK_CODE_LABELS)[number]) : 'other';
}

/**
 * The daemon's Prometheus metrics. Every series is labelled by `subscription` (and fixed
 * vocabularies: outcome, trigger, queue, certificate), never by anything from an event.
 */
export class DispatcherMetrics {
  readonly registry = new Registry();
  readonly events: Counter<'subscription' | 'outcome'>;
  readonly messagesSent: Counter<'subscription' | 'trigger'>;
  readonly attempts: Counter<'subscription' | 'outcome'>;
  readonly retries: Counter<'subscription' | 'outcome'>;
  readonly deadLetters: Counter<'subscription' | 'outcome'>;
  readonly unroutableDeadLetters: Counter<'subscription'>;
  readonly ackLatency: Histogram<'subscription'>;
  readonly ignoredFrames: Counter<'subscription' | 'reason' | 'code'>;
  readonly lateErrors: Counter<'subscription' | 'code'>;
  readonly truncatedValues: Counter<'subscription' | 'field'>;
  readonly rateLimitWait: Counter<'subscription'>;
  readonly receiverConnections: Gauge<'subscription'>;
  readonly receiverReachable: Gauge<'subscription'>;
  readonly brokerConnected: Gauge<'subscription'>;
  readonly brokerBlocked: Gauge<'subscription'>;
  readonly consuming: Gauge<'subscription'>;
  readonly activeConsumer: Gauge<'subscription'>;
  readonly lastAccepted: Gauge<'subscription'>;
  readonly queueMessages: Gauge<'subscription' | 'queue'>;
  readonly oldestEventAge: Gauge<'subscription'>;
  readonly inFlightEvents: Gauge<'subscription'>;
  readonly certificateExpiry: Gauge<'subscription' | 'certificate'>;
  readonly heldPatients: Gauge<'subscription'>;
  private readonly probes = new Map<string, { oldestReceivedAt(): number | undefined; depth: number }>();
  /** Per-event tallies kept outside prom-client (hot-metrics.ts), written into it before every read. */
  private readonly tallies = new Map<string, { flush(): void }>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'mllp_dispatcher_process_' });
    this.events = new Counter({
      name: 'mllp_events_total',
      help: 'Events settled, by outcome (accepted, application-error, rejected, uncertain, unreachable, invalid-ack, application-ack-timeout, invalid-event, expired, filtered, skipped).',
      labelNames: ['subscription', 'outcome'],
      registers,
      collect: () => this.flushTallies(),
    });
    this.messagesSent = new Counter({
      name: 'mllp_messages_sent_total',
      help: 'HL7 messages written to the receiver (every attempt), by trigger.',
      labelNames: ['subscription', 'trigger'],
      registers,
      collect: () => this.flushTallies(),
    });
    this.attempts = new Counter({
      name: 'mllp_send_attempts_total',
      help: 'Send attempts by what came of them.',
      labelNames: ['subscription', 'outcome'],
      registers,
      collect: () => this.flushTallies(),
    });
    this.retries = new Counter({
      name: 'mllp_retries_total',
      help: 'Send attempts that will be retried, by the outcome that caused the retry.',
      labelNames: ['subscription', 'outcome'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'mllp_dead_letters_total',
      help: 'Events published to the dead-letter exchange, by outcome.',
      labelNames: ['subscription', 'outcome'],
      registers,
    });
    this.unroutableDeadLetters = new Counter({
      name: 'mllp_dead_letters_unroutable_total',
      help: 'Dead letters the broker could not route (no queue bound to the dead-letter exchange); their events stay unacknowledged.',
      labelNames: ['subscription'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'mllp_ack_latency_seconds',
      help: 'Time from writing a message to reading its ACK.',
      labelNames: ['subscription'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
      collect: () => this.flushTallies(),
    });
    this.rateLimitWait = new Counter({
      name: 'mllp_rate_limit_wait_seconds_total',
      help: "Time sends waited for the receiver's rate limit (rateLimit.perSecond).",
      labelNames: ['subscription'],
      registers,
    });
    this.truncatedValues = new Counter({
      name: 'hl7_truncated_values_total',
      help: "Values cut to the maximum length of the subscription's HL7 version (settings.Lengths truncate), by position (e.g. PID-5.1).",
      labelNames: ['subscription', 'field'],
      registers,
    });
    this.ignoredFrames = new Counter({
      name: 'mllp_ignored_frames_total',
      help: 'Frames from the receiver that answered nothing due (duplicate or unsolicited ACKs), by reason and MSA-1 code.',
      labelNames: ['subscription', 'reason', 'code'],
      registers,
    });
    this.lateErrors = new Counter({
      name: 'mllp_late_errors_total',
      help: 'Errors (AE, AR, CE, CR) the receiver sent for messages it had already accepted (AA or CA): their events were already acknowledged.',
      labelNames: ['subscription', 'code'],
      registers,
    });
    this.receiverConnections = new Gauge({
      name: 'mllp_receiver_connections',
      help: 'Open MLLP connections to the receiver (one per lane at most).',
      labelNames: ['subscription'],
      registers,
    });
    this.receiverReachable = new Gauge({
      name: 'mllp_receiver_up',
      help: '1 unless the last attempt to reach the receiver failed to connect.',
      labelNames: ['subscription'],
      registers,
    });
    this.brokerConnected = new Gauge({
      name: 'mllp_broker_connected',
      help: '1 while the subscription has a connection to RabbitMQ.',
      labelNames: ['subscription'],
      registers,
    });
    this.brokerBlocked = new Gauge({
      name: 'mllp_broker_blocked',
      help: '1 while RabbitMQ blocks the subscription\'s connection (connection.blocked: a memory or disk alarm); dead letters, receipts and acks wait.',
      labelNames: ['subscription'],
      registers,
    });
    this.consuming = new Gauge({
      name: 'mllp_subscription_consuming',
      help: '1 while the subscription consumes its queue.',
      labelNames: ['subscription'],
      registers,
    });
    this.activeConsumer = new Gauge({
      name: 'mllp_subscription_active',
      help: '1 when this process is the single active consumer of the subscription queue (replicas on standby show 0).',
      labelNames: ['subscription'],
      registers,
    });
    this.lastAccepted = new Gauge({
      name: 'mllp_last_accepted_timestamp_seconds',
      help: 'Unix time of the last message the receiver accepted.',
      labelNames: ['subscription'],
      registers,
      collect: () => this.flushTallies(),
    });
    this.queueMessages = new Gauge({
      name: 'mllp_queue_messages',
      help: 'Messages ready in the subscription queue (queue="events") and its dead-letter queue (queue="dead"), polled from the broker.',
      labelNames: ['subscription', 'queue'],
      registers,
    });
    this.certificateExpiry = new Gauge({
      name: 'mllp_tls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the TLS certificates in use (certificate="client" ours, "server" the receiver\'s).',
      labelNames: ['subscription', 'certificate'],
      registers,
    });
    this.heldPatients = new Gauge({
      name: 'mllp_held_patients',
      help: 'Patients whose events wait behind a dead letter (holdPatientOnDeadLetter; docs/PATIENT-HOLD.md).',
      labelNames: ['subscription'],
      registers,
    });
    const probes = this.probes;
    this.oldestEventAge = new Gauge({
      name: 'mllp_oldest_event_age_seconds',
      help: 'Age of the oldest event received and not yet settled (0 when none): grows while a feed is stalled.',
      labelNames: ['subscription'],
      registers,
      collect() {
        const now = Date.now();
        for (const [subscription, probe] of probes) {
          const oldest = probe.oldestReceivedAt();
          this.set({ subscription }, oldest === undefined ? 0 : (now - oldest) / 1000);
        }
      },
    });
    this.inFlightEvents = new Gauge({
      name: 'mllp_stream_events',
      help: 'Events received and not yet settled.',
      labelNames: ['subscription'],
      registers,
      collect() {
        for (const [subscription, probe] of probes) this.set({ subscription }, probe.depth);
      },
    });
  }

  /** Registers the stream whose backlog the age and depth gauges report. */
  watchStream(subscription: string, probe: { oldestReceivedAt(): number | undefined; depth: number }): void {
    this.probes.set(subscription, probe);
  }

  /**
   * Registers a subscription's per-event tallies (SubscriptionHotMetrics): `flush` is called
   * whenever a hot series is read (a scrape, or `get()` in a test), so no read sees them stale.
   */
  tallyFor(subscription: string, tally: { flush(): void }): void {
    this.tallies.get(subscription)?.flush();
    this.tallies.set(subscription, tally);
  }

  private flushTallies(): void {
    for (const tally of this.tallies.values()) tally.flush();
  }

  /** Removes every series of a subscription (it was removed by a live reload). */
  forget(subscription: string): void {
    this.probes.delete(subscription);
    this.tallies.delete(subscription);
    for (const metric of [this.ackLatency, this.rateLimitWait, this.unroutableDeadLetters, this.receiverConnections, this.receiverReachable, this.brokerConnected, this.brokerBlocked, this.consuming, this.activeConsumer, this.lastAccepted, this.oldestEventAge, this.inFlightEvents, this.heldPatients]) {
      metric.remove({ subscription });
    }
    for (const outcome of OUTCOMES) {
      for (const metric of [this.events, this.attempts, this.retries, this.deadLetters]) metric.remove({ subscription, outcome });
    }
    for (const trigger of SUPPORTED_TRIGGERS) this.messagesSent.remove({ subscription, trigger });
    for (const queue of ['events', 'dead']) this.queueMessages.remove({ subscription, queue });
    for (const certificate of ['client', 'server']) this.certificateExpiry.remove({ subscription, certificate });
    for (const code of ACK_CODE_LABELS) {
      this.lateErrors.remove({ subscription, code });
      for (const reason of IGNORED_REASONS) this.ignoredFrames.remove({ subscription, reason, code });
    }
  }
}
