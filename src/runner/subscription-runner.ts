import type { Logger } from 'pino';
import { AmqpSession, CLOSE_DEADLINE_MS, type Delivery, type SessionState } from '../amqp/amqp-session.js';
import { declareTopology, deadLetterQueueName, queueName } from '../amqp/topology.js';
import type { AppConfig } from '../config/load-config.js';
import type { SubscriptionConfig } from '../config/subscription.js';
import type { EventDecoder } from '../event/decode-event.js';
import type { PatientEvent } from '../event/patient-event.js';
import { buildMessages } from '../mapping/build-messages.js';
import { TruncationReport } from './truncation-report.js';
import type { OutboundMessage, Trigger } from '../mapping/profile.js';
import { withDefined } from '../util/with-defined.js';
import { routeEvent } from '../routing/route-event.js';
import { maskSecurityField } from '../hl7/mask-security.js';
import { patientKey } from '../routing/patient-key.js';
import { DeliveryStream, type ThreadedJob } from '../delivery/thread/delivery-stream.js';
import type { AttemptReport, JobResult } from '../delivery/job.js';
import { describeEndpoint } from '../transport/endpoint.js';
import { SubscriptionHotMetrics, ackCodeLabel, type DispatcherMetrics } from '../observability/metrics.js';
import { FailureLog } from '../observability/failure-log.js';
import { Settler, type Settlement } from './settler.js';
import { LateAnswerReporter } from './late-answers.js';
import { ConsumerRoleTracker, type ConsumerRole } from './consumer-role.js';
import { ResolutionStage, type Resolved, type ResolutionWait } from '../fhir/resolution-stage.js';
import type { FhirSourceConfig } from '../fhir/fhir-sources-config.js';
import { runSteps } from '../util/lifecycle.js';

export interface SubscriptionRunnerOptions {
  subscription: SubscriptionConfig;
  amqp: AppConfig['amqp'];
  logger: Logger;
  metrics: DispatcherMetrics;
  /** `log.phi`: HL7 bodies at debug level and receiver error texts may be logged. */
  phi: boolean;
  decodeEvent: EventDecoder;
  /** FHIR servers that reference events are read from (README, "Reference events"). */
  fhirSources?: readonly FhirSourceConfig[];
  /** The broker refuses our topology: stop the daemon with exit 78. */
  onFatal: (error: Error) => void;
  now?: () => Date;
  /** How often queue depths are polled from the broker. */
  queuePollMs?: number;
}

export interface SubscriptionStatus {
  name: string;
  broker: SessionState;
  /** The broker's reason while it blocks the subscription's connection (memory or disk alarm). */
  brokerBlocked?: string;
  consuming: boolean;
  role: ConsumerRole;
  receiverConnections: number;
  receiverUp: boolean;
  /** When the receiver became unreachable (ISO time), and why. */
  receiverDownSince?: string;
  receiverError?: string;
  eventsInFlight: number;
  /** Dead letters the broker could not route (their events stay unacknowledged). */
  unroutableDeadLetters: number;
  /** Set while reference events wait for their FHIR source (src/fhir/resolution-stage.ts). */
  resolutionWaiting?: ResolutionWait;
}

/** An event in the stream, with the AMQP delivery to settle when it is done. */
interface SubscriptionJob extends ThreadedJob {
  readonly delivery: Delivery;
}

/** How long a stop waits for the lanes beyond `graceMs` (closing their connections). */
const DELIVERY_STOP_MARGIN_MS = 1000;
/** How long a stop waits for outstanding publisher confirms. */
const CONFIRMS_DEADLINE_MS = 1000;
/** A runner's stop ends within graceMs + STOP_MARGIN_MS. */
export const STOP_MARGIN_MS = DELIVERY_STOP_MARGIN_MS + CONFIRMS_DEADLINE_MS + CLOSE_DEADLINE_MS + 500;

/** How many events acknowledged by the receiver but not by us (connection lost) are remembered. */
const ACCEPTED_UNACKED_KEPT = 10_000;

/**
 * Runs one subscription: its broker session, its ordered delivery stream and its
 * receiver connections. Nothing is shared with other subscriptions, so a receiver that is
 * down, slow or rejecting holds up no other subscription.
 *
 * Per event: decode -> route (window, events, when) -> map to ADT -> send in order ->
 * settle (ack; or dead letter then ack; receipt before ack when enabled).
 */
export class SubscriptionRunner {
  readonly name: string;
  private readonly session: AmqpSession;
  private readonly dispatcher: DeliveryStream<SubscriptionJob>;
  private readonly settler: Settler;
  private readonly resolution: ResolutionStage;
  private readonly logger: Logger;
  private readonly failures: FailureLog;
  private readonly hot: SubscriptionHotMetrics;
  private readonly now: () => Date;
  /** Events the receiver accepted whose AMQP ack was lost with the connection, by event id. */
  private readonly acceptedUnacked = new Map<string, Settlement>();
  private receiverConnections = 0;
  private unroutableDeadLetters = 0;
  private inbox: Delivery[] = [];
  private receiverUp = true;
  private receiverDownSince: Date | undefined;
  private receiverError: string | undefined;
  private readonly role: ConsumerRoleTracker;
  private readonly truncations: TruncationReport;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: SubscriptionRunnerOptions) {
    const { subscription: sub, amqp, metrics } = options;
    this.name = sub.name;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger.child({ subscription: sub.name });
    this.failures = new FailureLog(this.logger);
    this.truncations = new TruncationReport(this.logger, metrics.truncatedValues, sub.name);
    const labels = { subscription: sub.name };
    this.hot = new SubscriptionHotMetrics(metrics, sub.name);
    this.role = new ConsumerRoleTracker((role) => {
      metrics.activeConsumer.set(labels, role === 'active' ? 1 : 0);
      if (role !== 'unknown') this.logger.info({ role }, role === 'active' ? 'this process is the active consumer' : 'standing by: another consumer is active on this queue');
    });
    metrics.receiverConnections.set(labels, 0);
    metrics.receiverReachable.set(labels, 1);
    metrics.brokerConnected.set(labels, 0);
    metrics.brokerBlocked.set(labels, 0);
    metrics.consuming.set(labels, 0);
    metrics.activeConsumer.set(labels, 0);

    this.session = new AmqpSession({
      urls: amqp.urls,
      connectionName: `mllp-dispatcher ${sub.name}`,
      heartbeatSeconds: amqp.heartbeatSeconds,
      queue: queueName(sub.name),
      prefetch: sub.prefetch,
      reconnect: amqp.reconnect,
      ...(amqp.declare
        ? {
            declare: (channel) =>
              declareTopology(channel, {
                subscription: sub.name,
                eventsExchange: amqp.exchange,
                deadLetterExchange: amqp.deadLetterExchange,
                receiptsExchange: amqp.receiptsExchange,
                events: sub.events,
                queueType: amqp.queueType,
              }),
          }
        : {}),
      onMessage: (delivery) => this.receive(delivery),
      onLiveGeneration: (generation) => this.dispatcher.setLiveGeneration(generation),
      // More events received than lanes can have in flight: a backlog is being worked off.
      backlog: () => this.dispatcher.depth > sub.lanes,
      onFatal: options.onFatal,
      onStateChange: (state) => {
        metrics.brokerConnected.set(labels, state === 'consuming' ? 1 : 0);
        metrics.consuming.set(labels, state === 'consuming' ? 1 : 0);
        if (state !== 'consuming') this.role.notConsuming();
        this.logger.info({ broker: state }, `broker session ${state}`);
      },
      onBlockedChange: (reason) => metrics.brokerBlocked.set(labels, reason === undefined ? 0 : 1),
      logger: this.logger,
    });
    this.settler = new Settler({
      subscription: sub.name,
      session: this.session,
      deadLetterExchange: amqp.deadLetterExchange,
      receiptsExchange: amqp.receiptsExchange,
      receipts: amqp.receipts,
      logger: this.logger,
      onStale: (delivery, settlement) => this.onStale(delivery, settlement),
      onUnroutable: () => {
        this.unroutableDeadLetters++;
        metrics.unroutableDeadLetters.inc(labels);
      },
    });
    const late = new LateAnswerReporter({ subscription: sub.name, session: this.session, receiptsExchange: amqp.receiptsExchange, receipts: amqp.receipts, logger: this.logger, metrics });
    this.dispatcher = new DeliveryStream<SubscriptionJob>({
      settings: withDefined(
        {
          subscription: sub.name,
          lanes: sub.lanes,
          policy: sub.policy,
          retry: sub.retry,
          endpoint: sub.endpoint,
          connectTimeoutMs: sub.timeouts.connectMs,
          ackTimeoutMs: sub.timeouts.ackMs,
          charset: sub.mapping.charset,
          ...sub.receiver,
        },
        { tls: sub.tls, enhanced: sub.mapping.acknowledgment ? { mode: sub.mapping.acknowledgment, applicationAckTimeoutMs: sub.timeouts.applicationAckMs } : undefined },
      ),
      connections: {
        connected: (lane, info) => {
          metrics.receiverConnections.set(labels, ++this.receiverConnections);
          if (info.clientCertificateExpiresAt) metrics.certificateExpiry.set({ ...labels, certificate: 'client' }, info.clientCertificateExpiresAt.getTime() / 1000);
          if (info.serverCertificateExpiresAt) metrics.certificateExpiry.set({ ...labels, certificate: 'server' }, info.serverCertificateExpiresAt.getTime() / 1000);
          this.logger.debug({ lane, receiver: describeEndpoint(sub.endpoint), ...info }, 'connected to the receiver');
        },
        disconnected: (lane, reason) => {
          metrics.receiverConnections.set(labels, --this.receiverConnections);
          this.logger.debug({ lane, reason }, 'receiver connection closed');
        },
        ignoredFrame: (lane, reason, code) => {
          metrics.ignoredFrames.inc({ ...labels, reason, code: ackCodeLabel(code) });
          this.logger.debug({ lane, reason, ackCode: ackCodeLabel(code) }, 'ignored a frame that answers nothing in flight');
        },
        lateAnswer: (lane, answer) => late.report(lane, answer),
      },
      listener: {
        settled: (job, result) => this.onJobSettled(job, result),
        // Left unacknowledged on purpose: closing the channel returns it to the queue (see stop()).
        abandoned: () => {},
        attempted: (report) => this.onAttempt(report),
      },
      alreadyAccepted: (job) => this.takeAccepted(job.eventId),
      onCrash: (error) => options.onFatal(new Error(`the delivery thread of subscription "${sub.name}" failed: ${error.message}`)),
    });
    this.resolution = new ResolutionStage({
      subscription: sub,
      decodeEvent: options.decodeEvent,
      fhirSources: options.fhirSources ?? [],
      registry: metrics.registry,
      logger: this.logger,
      isCurrent: (generation) => this.session.isCurrent(generation),
      onResolved: (delivery, resolved, receivedAt) => this.onResolved(delivery, resolved, receivedAt),
    });
    metrics.watchStream(sub.name, this.resolution.probeWith(this.dispatcher));
  }

  start(): void {
    this.logger.info(
      { receiver: describeEndpoint(this.options.subscription.endpoint), lanes: this.options.subscription.lanes, queue: queueName(this.name) },
      'subscription starting',
    );
    this.session.start();
    const pollMs = this.options.queuePollMs ?? this.options.amqp.queuePollMs;
    this.pollTimer = setInterval(() => void this.pollQueueDepths(), pollMs);
    this.pollTimer.unref();
  }

  status(): SubscriptionStatus {
    const status: SubscriptionStatus = {
      name: this.name,
      broker: this.session.state,
      consuming: this.session.state === 'consuming',
      role: this.role.role,
      receiverConnections: this.receiverConnections,
      receiverUp: this.receiverUp,
      eventsInFlight: this.dispatcher.depth,
      unroutableDeadLetters: this.unroutableDeadLetters,
    };
    const blocked = this.session.blocked;
    if (blocked !== undefined) status.brokerBlocked = blocked;
    if (this.receiverDownSince) status.receiverDownSince = this.receiverDownSince.toISOString();
    if (this.receiverError) status.receiverError = this.receiverError;
    const waiting = this.resolution.wait;
    if (waiting) status.resolutionWaiting = waiting;
    return status;
  }

  /**
   * Graceful stop: start nothing new, give the message in flight `graceMs` to be answered,
   * settle what finished (confirms, acks), then close the broker connection. Closing is
   * what requeues every delivery not acknowledged — the ones that never started and one
   * whose grace ran out. RabbitMQ does that atomically with removing the consumer, so
   * they go back to their places in the queue *before* a standby replica (single active
   * consumer) takes over. Cancelling the consumer first and nacking afterwards would let
   * the standby receive later events before the requeued earlier ones. Memoised, never
   * rejects, safe in every state (src/util/lifecycle.ts), ends within graceMs + STOP_MARGIN_MS.
   */
  stop(graceMs: number): Promise<void> {
    this.stopped ??= (async () => {
      clearInterval(this.pollTimer);
      // Every step runs, each within a deadline, so the whole stop ends within
      // graceMs + STOP_MARGIN_MS whatever state the broker and the receiver are in.
      this.resolution.stop();
      await runSteps(this.logger, [
        { name: 'delivery', run: () => this.dispatcher.stop(graceMs), deadlineMs: graceMs + DELIVERY_STOP_MARGIN_MS },
        // Confirms that do not come (a blocked broker) leave their events unacknowledged: requeued below.
        { name: 'confirms', run: () => this.settler.idle(), deadlineMs: CONFIRMS_DEADLINE_MS },
        { name: 'broker session', run: () => this.session.close(), deadlineMs: CLOSE_DEADLINE_MS + 500 },
      ]);
      this.logger.info('subscription stopped');
    })();
    return this.stopped;
  }

  /**
   * Deliveries are handled in the check phase, in arrival order, not in amqplib's socket
   * callback: decoding and mapping a burst of deliveries must not delay the handling of an
   * ACK that arrived in the same poll phase (the lanes' next sends come first).
   */
  private receive(delivery: Delivery): void {
    this.inbox.push(delivery);
    if (this.inbox.length === 1) setImmediate(() => this.drainInbox());
  }

  private drainInbox(): void {
    const inbox = this.inbox;
    this.inbox = [];
    for (const delivery of inbox) this.onDelivery(delivery);
  }

  private onDelivery(delivery: Delivery): void {
    this.role.delivered();
    // Decoding, and reading the Patient of reference events, in queue order.
    this.resolution.push(delivery, Date.now());
  }

  private onResolved(delivery: Delivery, decoded: Resolved, receivedAt: number): void {
    if (!decoded.ok) {
      this.settleWithoutSending(delivery, decoded.outcome, decoded.outcome === 'filtered' ? 'ack' : 'dead-letter', decoded.reason, decoded.eventId);
      return;
    }
    const event = decoded.event;
    const now = this.now();
    const sub = this.options.subscription;
    const route = routeEvent(event, sub, now);
    if (route.kind !== 'deliver') {
      this.settleWithoutSending(delivery, route.kind, 'ack', route.reason, event.id);
      return;
    }
    let messages: OutboundMessage[];
    try {
      const mapped = buildMessages(event, sub.mapping, { now, utcOffsetMinutes: -now.getTimezoneOffset() });
      if (mapped.kind === 'skipped') {
        this.settleWithoutSending(delivery, 'skipped', 'ack', mapped.reason, event.id);
        return;
      }
      if (mapped.kind === 'invalid') {
        this.settleWithoutSending(delivery, 'invalid-event', 'dead-letter', mapped.reason, event.id);
        return;
      }
      messages = mapped.messages;
      this.truncations.record(messages);
    } catch (error) {
      // A mapper bug must not stop the feed; the error's name only (its message could quote data).
      this.settleWithoutSending(delivery, 'invalid-event', 'dead-letter', `could not be mapped to HL7 (${(error as Error).name})`, event.id);
      return;
    }
    if (this.options.phi && this.logger.isLevelEnabled('debug')) {
      for (const message of messages) this.logger.debug({ eventId: event.id, controlId: message.controlId, hl7: maskSecurityField(message.text) }, 'built HL7 message');
    }
    this.dispatcher.submit(this.jobFor(event, messages, delivery, receivedAt));
  }

  private jobFor(event: PatientEvent, messages: OutboundMessage[], delivery: Delivery, receivedAt: number): SubscriptionJob {
    return {
      eventId: event.id,
      messages,
      laneKey: patientKey(event.patient, this.options.subscription.laneKeySystem),
      barrier: event.type === 'merge' || event.type === 'unmerge',
      receivedAt,
      delivery,
      generation: delivery.generation,
      redelivered: delivery.message.fields.redelivered === true,
    };
  }

  /**
   * The result of an earlier delivery of this event that the receiver accepted but whose
   * AMQP ack was lost with the connection; forgotten once taken. Asked when the redelivered
   * copy reaches the front of its lane, not when it arrives: the broker redelivers at once,
   * while the earlier copy may still be waiting for its ACK ahead of it in the same lane.
   */
  private takeAccepted(eventId: string): JobResult | undefined {
    const earlier = this.acceptedUnacked.get(eventId);
    if (earlier?.controlId == null || earlier.trigger == null) return undefined;
    this.acceptedUnacked.delete(eventId);
    this.logger.info({ eventId, controlId: earlier.controlId }, 'redelivered event was already accepted by the receiver; acknowledging without resending');
    return withDefined(
      { outcome: 'accepted' as const, action: 'ack' as const, attempts: earlier.attempts, uncertainSends: 0, controlId: earlier.controlId, trigger: earlier.trigger as Trigger },
      { ackCode: earlier.ackCode ?? undefined, latencyMs: earlier.latencyMs ?? undefined },
    );
  }

  private onAttempt(report: AttemptReport<SubscriptionJob>): void {
    this.hot.attempt(report.outcome, report.message.trigger);
    if (report.throttledMs) this.options.metrics.rateLimitWait.inc({ subscription: this.name }, report.throttledMs / 1000);
    const up = report.outcome !== 'unreachable';
    if (up !== this.receiverUp) {
      this.receiverUp = up;
      this.receiverDownSince = up ? undefined : new Date();
      this.options.metrics.receiverReachable.set({ subscription: this.name }, up ? 1 : 0);
    }
    if (report.outcome === 'accepted') {
      this.receiverError = undefined;
      this.hot.accepted(report.latencyMs);
      if (this.failures.failing) this.failures.success(attemptFields(report), 'receiver accepting messages again');
      return;
    }
    if (report.retryInMs !== undefined) this.options.metrics.retries.inc({ subscription: this.name, outcome: report.outcome });
    if (!up) this.receiverError = report.reason;
    const reason = report.reason ?? report.outcome;
    const message =
      report.outcome === 'unreachable'
        ? 'receiver unreachable'
        : report.outcome === 'uncertain'
          ? 'no ACK from the receiver; the message will be resent with the same MSH-10 and the receiver may get it twice'
          : `send failed: ${report.outcome}`;
    this.failures.failure(report.outcome, reason, attemptFields(report), message);
  }

  private onJobSettled(job: SubscriptionJob, result: JobResult): void {
    this.settle(job.delivery, {
      outcome: result.outcome,
      action: result.action,
      eventId: job.eventId,
      controlId: result.controlId,
      trigger: result.trigger,
      ackCode: result.ackCode ?? null,
      attempts: result.attempts,
      latencyMs: result.latencyMs !== undefined ? Math.round(result.latencyMs * 1000) / 1000 : null,
      reason: result.reason ?? null,
    }, result.uncertainSends);
  }

  private settleWithoutSending(delivery: Delivery, outcome: Settlement['outcome'], action: Settlement['action'], reason: string | null, eventId: string | null): void {
    this.settle(delivery, { outcome, action, eventId, controlId: null, trigger: null, ackCode: null, attempts: 0, latencyMs: null, reason }, 0);
  }

  private settle(delivery: Delivery, settlement: Settlement, uncertainSends: number): void {
    const { metrics } = this.options;
    if (!this.session.isCurrent(delivery.generation)) {
      // Its connection is gone and the broker redelivers it: the copy that arrives then is
      // the one counted and logged.
      this.onStale(delivery, settlement);
      return;
    }
    this.hot.event(settlement.outcome);
    if (settlement.action === 'dead-letter') metrics.deadLetters.inc({ subscription: this.name, outcome: settlement.outcome });
    const fields = {
      eventId: settlement.eventId,
      outcome: settlement.outcome,
      ...(settlement.controlId ? { controlId: settlement.controlId, trigger: settlement.trigger } : {}),
      ...(settlement.ackCode ? { ackCode: settlement.ackCode } : {}),
      ...(settlement.attempts ? { attempts: settlement.attempts } : {}),
      ...(settlement.latencyMs !== null ? { latencyMs: settlement.latencyMs } : {}),
      ...(settlement.reason ? { reason: settlement.reason } : {}),
      ...(uncertainSends > 0 ? { possibleDuplicates: uncertainSends } : {}),
    };
    if (settlement.action === 'dead-letter') this.logger.warn(fields, 'event dead-lettered');
    else this.logger.info(fields, 'event settled');
    this.settler.settle(delivery, settlement);
  }

  private onStale(delivery: Delivery, settlement: Settlement): void {
    if (settlement.outcome === 'accepted' && settlement.eventId && delivery.message.fields) {
      this.acceptedUnacked.set(settlement.eventId, settlement);
      if (this.acceptedUnacked.size > ACCEPTED_UNACKED_KEPT) {
        this.acceptedUnacked.delete(this.acceptedUnacked.keys().next().value!);
      }
    }
    this.logger.info({ eventId: settlement.eventId, outcome: settlement.outcome }, 'broker connection lost before the event was acknowledged; the broker will redeliver it');
  }

  private async pollQueueDepths(): Promise<void> {
    const { metrics } = this.options;
    try {
      const [events, dead] = await this.session.messageCounts([queueName(this.name), deadLetterQueueName(this.name)]);
      if (events !== undefined) {
        metrics.queueMessages.set({ subscription: this.name, queue: 'events' }, events);
        if (this.session.state === 'consuming') this.role.polled(events);
      }
      if (dead !== undefined) metrics.queueMessages.set({ subscription: this.name, queue: 'dead' }, dead);
    } catch {
      // Broker away: the broker gauge says so; depths keep their last value.
    }
  }
}

/** Log fields of one send attempt. */
function attemptFields(report: AttemptReport<SubscriptionJob>): Record<string, unknown> {
  return {
    eventId: report.job.eventId,
    controlId: report.message.controlId,
    trigger: report.message.trigger,
    lane: report.lane,
    attempt: report.attempt,
    ...(report.ackCode ? { ackCode: report.ackCode } : {}),
    ...(report.retryInMs !== undefined ? { retryInMs: report.retryInMs } : {}),
  };
}
