import type { Logger } from 'pino';
import { AmqpSession, CLOSE_DEADLINE_MS, type AmqpSessionOptions, type BrokerSession, type Delivery, type SessionState } from '../amqp/amqp-session.js';
import { queueName } from '../amqp/topology.js';
import { isBacklog } from '../amqp/coalesce-writes.js';
import type { AppConfig } from '../config/load-config.js';
import type { SubscriptionConfig } from '../config/subscription.js';
import type { EventDecoder } from '../event/decode-event.js';
import type { PatientEvent } from '../event/patient-event.js';
import { TruncationReport } from './truncation-report.js';
import type { OutboundMessage } from '../mapping/profile.js';
import { maskSecurityField } from '../hl7/mask-security.js';
import { patientKey } from '../routing/patient-key.js';
import { DeliveryStream } from '../delivery/thread/delivery-stream.js';
import type { Job, JobResult } from '../delivery/job.js';
import { describeEndpoint } from '../transport/endpoint.js';
import type { MllpClientOptions, MllpSender } from '../transport/mllp-client.js';
import type { DispatcherMetrics } from '../observability/metrics.js';
import { Settler, settlementOf } from './settler.js';
import { createHoldStage } from '../hold/create-hold-stage.js';
import type { HoldStage } from '../hold/hold-stage.js';
import { LateAnswerReporter } from './late-answers.js';
import type { ConsumerRole } from './consumer-role.js';
import { ResolutionStage, type Resolved, type ResolutionWait } from '../fhir/resolution-stage.js';
import type { FhirSourceConfig } from '../fhir/fhir-sources-config.js';
import { runSteps } from '../util/lifecycle.js';
import { prepareEvent } from './prepare-event.js';
import { DeliveryInbox } from './delivery-inbox.js';
import { AcceptedRedeliveries } from './accepted-redeliveries.js';
import { SubscriptionTelemetry, type ReceiverHealth } from './subscription-telemetry.js';
import { sessionSettings, streamSettings } from './adapter-settings.js';

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
  /** Unit tests: a fake broker session, and fake senders (one lane only; see DeliveryStream). */
  adapters?: {
    createSession?: (options: AmqpSessionOptions) => BrokerSession;
    createSender?: (options: MllpClientOptions) => MllpSender;
  };
}

export interface SubscriptionStatus extends ReceiverHealth {
  name: string;
  broker: SessionState;
  /** The broker's reason while it blocks the subscription's connection (memory or disk alarm). */
  brokerBlocked?: string;
  consuming: boolean;
  role: ConsumerRole;
  eventsInFlight: number;
  /** Set while reference events wait for their FHIR source (src/fhir/resolution-stage.ts). */
  resolutionWaiting?: ResolutionWait;
}

/** How long a stop waits for the lanes beyond `graceMs` (closing their connections). */
const DELIVERY_STOP_MARGIN_MS = 1000;
/** How long a stop waits for outstanding publisher confirms. */
const CONFIRMS_DEADLINE_MS = 1000;
/** A runner's stop ends within graceMs + STOP_MARGIN_MS. */
export const STOP_MARGIN_MS = DELIVERY_STOP_MARGIN_MS + CONFIRMS_DEADLINE_MS + CLOSE_DEADLINE_MS + 500;

/**
 * Runs one subscription: wires its broker session, its resolution stage, its ordered
 * delivery stream (lanes, receiver connections), its settler and its telemetry, and owns
 * their lifecycle. Nothing is shared with other subscriptions, so a receiver that is down,
 * slow or rejecting holds up no other subscription.
 *
 * Per event: inbox (src/runner/delivery-inbox.ts) -> decode (ResolutionStage,
 * src/fhir/resolution-stage.ts) -> prepareEvent (route -> map) -> hold stage (src/hold/)
 * -> send in order (DeliveryStream) -> settle (Settler: ack; or dead letter then ack;
 * receipt before ack when enabled).
 */
export class SubscriptionRunner {
  readonly name: string;
  private readonly session: BrokerSession;
  private readonly dispatcher: DeliveryStream;
  private readonly settler: Settler;
  private readonly resolution: ResolutionStage;
  /** Where prepared events go before the stream: the patient hold, or straight through (src/hold/). */
  private readonly hold: HoldStage;
  private readonly logger: Logger;
  private readonly telemetry: SubscriptionTelemetry;
  private readonly now: () => Date;
  private readonly accepted = new AcceptedRedeliveries();
  private readonly truncations: TruncationReport;
  /** The AMQP delivery of each job in the stream, by the job's seq, until it comes back. */
  private readonly deliveries = new Map<number, Delivery>();
  private nextSeq = 1;
  /** Deliveries waiting to be decoded, handed on one per turn of the event loop. */
  private readonly inbox = new DeliveryInbox((delivery, receivedAt) => this.take(delivery, receivedAt));
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: SubscriptionRunnerOptions) {
    const { subscription: sub, amqp, metrics } = options;
    this.name = sub.name;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger.child({ subscription: sub.name });
    this.truncations = new TruncationReport(this.logger, metrics.truncatedValues, sub.name);
    const telemetry = (this.telemetry = new SubscriptionTelemetry(metrics, sub.name, this.logger, sub.endpoint));
    const createSession = options.adapters?.createSession ?? ((sessionOptions) => new AmqpSession(sessionOptions));
    this.session = createSession({
      ...sessionSettings(sub, amqp),
      onMessage: (delivery) => this.inbox.push(delivery),
      onLiveGeneration: (generation) => {
        this.dispatcher.setLiveGeneration(generation);
        this.hold.liveGeneration(generation);
      },
      backlog: () => isBacklog(this.inbox.depth + this.dispatcher.depth, sub.lanes),
      onFatal: options.onFatal,
      onStateChange: (state) => telemetry.brokerState(state),
      onBlockedChange: (reason) => telemetry.brokerBlocked(reason),
      logger: this.logger,
    });
    this.settler = new Settler({
      subscription: sub.name,
      session: this.session,
      deadLetterExchange: amqp.deadLetterExchange,
      receiptsExchange: amqp.receiptsExchange,
      receipts: amqp.receipts,
      logger: this.logger,
      onSettling: (settlement, uncertainSends) => telemetry.settled(settlement, uncertainSends),
      onStale: (_delivery, settlement) => {
        this.accepted.remember(settlement);
        telemetry.stale(settlement);
      },
      onUnroutable: () => telemetry.unroutable(),
    });
    const late = new LateAnswerReporter({ subscription: sub.name, session: this.session, receiptsExchange: amqp.receiptsExchange, receipts: amqp.receipts, logger: this.logger, metrics });
    this.dispatcher = new DeliveryStream({
      settings: streamSettings(sub),
      connections: { ...telemetry.connections, lateAnswer: (lane, answer) => late.report(lane, answer) },
      listener: {
        settled: (job, result) => this.settled(job, result),
        // Left unacknowledged on purpose: closing the channel returns it to the queue (see
        // stop()); a dropped job's channel is gone, and the broker redelivers it.
        abandoned: (job) => void this.takeDelivery(job),
        dropped: (job) => void this.takeDelivery(job),
        attempted: (report) => telemetry.attempted(report),
      },
      alreadyAccepted: (job) => this.takeAccepted(job.eventId),
      onCrash: (error) => options.onFatal(new Error(`the delivery thread of subscription "${sub.name}" failed: ${error.message}`)),
      ...(options.adapters?.createSender ? { createSender: options.adapters.createSender } : {}),
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
    this.hold = createHoldStage({ subscription: sub, queueType: amqp.queueType, session: this.session, logger: this.logger, metrics, send: (job, delivery) => this.send(job, delivery), resolve: (delivery) => this.resolution.push(delivery, Date.now()) });
    const { dispatcher, inbox } = this;
    metrics.watchStream(
      sub.name,
      this.resolution.probeWith({
        oldestReceivedAt: () => dispatcher.oldestReceivedAt() ?? inbox.oldestReceivedAt(),
        get depth() {
          return dispatcher.depth + inbox.depth;
        },
      }),
    );
  }

  start(): void {
    this.logger.info(
      { receiver: describeEndpoint(this.options.subscription.endpoint), lanes: this.options.subscription.lanes, queue: queueName(this.name) },
      'subscription starting',
    );
    this.session.start();
    const pollMs = this.options.queuePollMs ?? this.options.amqp.queuePollMs;
    this.pollTimer = setInterval(() => void this.telemetry.pollQueueDepths(this.session), pollMs);
    this.pollTimer.unref();
  }

  status(): SubscriptionStatus {
    const health = this.telemetry.health();
    const status: SubscriptionStatus = {
      name: this.name,
      broker: this.session.state,
      consuming: this.session.state === 'consuming',
      role: this.telemetry.role.role,
      receiverConnections: health.receiverConnections,
      receiverUp: health.receiverUp,
      eventsInFlight: this.dispatcher.depth,
      unroutableDeadLetters: health.unroutableDeadLetters,
    };
    const blocked = this.session.blocked;
    if (blocked !== undefined) status.brokerBlocked = blocked;
    if (health.receiverDownSince) status.receiverDownSince = health.receiverDownSince;
    if (health.receiverError) status.receiverError = health.receiverError;
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

  /** Taken from the inbox (src/runner/delivery-inbox.ts), in arrival order. */
  private take(delivery: Delivery, receivedAt: number): void {
    this.telemetry.role.delivered();
    if (this.hold.takeControl(delivery)) return;
    // Decoding, and reading the Patient of reference events, in queue order.
    this.resolution.push(delivery, receivedAt);
  }

  private onResolved(delivery: Delivery, resolved: Resolved, receivedAt: number): void {
    const prepared = prepareEvent(resolved, this.options.subscription, this.now());
    if (prepared.kind === 'settle') {
      const { outcome, action, reason, eventId } = prepared;
      this.settler.settle(delivery, { outcome, action, eventId, controlId: null, trigger: null, ackCode: null, attempts: 0, latencyMs: null, reason });
      return;
    }
    this.truncations.record(prepared.messages);
    if (this.options.phi && this.logger.isLevelEnabled('debug')) {
      for (const built of prepared.messages) this.logger.debug({ eventId: prepared.event.id, controlId: built.controlId, hl7: maskSecurityField(built.text) }, 'built HL7 message');
    }
    this.hold.submit(this.jobFor(prepared.event, prepared.messages, delivery, receivedAt), delivery, prepared.event);
  }

  private send(job: Job, delivery: Delivery): void {
    this.deliveries.set(job.seq, delivery);
    this.dispatcher.submit(job);
  }

  private jobFor(event: PatientEvent, messages: OutboundMessage[], delivery: Delivery, receivedAt: number): Job {
    return {
      seq: this.nextSeq++,
      eventId: event.id,
      messages,
      laneKey: patientKey(event.patient, this.options.subscription.laneKeySystem),
      barrier: event.type === 'merge' || event.type === 'unmerge',
      receivedAt,
      generation: delivery.generation,
      redelivered: delivery.message.fields.redelivered === true,
    };
  }

  private settled(job: Job, result: JobResult): void {
    const delivery = this.takeDelivery(job);
    if (delivery) this.settler.settle(delivery, settlementOf(job, result), result.uncertainSends, this.hold.settling(job, delivery, result));
  }

  /** The job is back from the stream (settled, abandoned or dropped): its AMQP delivery, forgotten here. */
  private takeDelivery(job: Job): Delivery | undefined {
    const delivery = this.deliveries.get(job.seq);
    this.deliveries.delete(job.seq);
    return delivery;
  }

  /** AcceptedRedeliveries.take, logged: asked by the stream when a redelivered job reaches the front of its lane. */
  private takeAccepted(eventId: string): JobResult | undefined {
    const earlier = this.accepted.take(eventId);
    if (earlier) this.logger.info({ eventId, controlId: earlier.controlId }, 'redelivered event was already accepted by the receiver; acknowledging without resending');
    return earlier;
  }
}
