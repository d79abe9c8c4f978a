import type { Logger } from 'pino';
import type { BrokerSession, SessionState } from '../amqp/amqp-session.js';
import { deadLetterQueueName, queueName } from '../amqp/topology.js';
import type { AttemptReport } from '../delivery/job.js';
import type { ConnectionListener } from '../delivery/thread/delivery-stream.js';
import { FailureLog } from '../observability/failure-log.js';
import { ackCodeLabel, type DispatcherMetrics } from '../observability/metrics.js';
import { SubscriptionHotMetrics } from '../observability/hot-metrics.js';
import { SettledLine } from '../observability/settled-line.js';
import { describeEndpoint, type MllpEndpoint } from '../transport/endpoint.js';
import { ConsumerRoleTracker } from './consumer-role.js';
import type { Settlement } from './settler.js';

/** What telemetry knows of the receiver, for /readyz. */
export interface ReceiverHealth {
  receiverConnections: number;
  receiverUp: boolean;
  receiverDownSince?: string;
  receiverError?: string;
  unroutableDeadLetters: number;
}

/**
 * A subscription's logs and metrics (README "Logs"; "Metrics" under "Operations"): one line
 * per settled event, receiver failures logged once per change (FailureLog), receiver health
 * and connections, broker state, queue depths polled from the broker, and the consumer role
 * inferred from them. It decides nothing about delivery: it is told what happened.
 */
export class SubscriptionTelemetry {
  readonly role: ConsumerRoleTracker;
  /** The receiver connections' events; late answers go to LateAnswerReporter (late-answers.ts). */
  readonly connections: Omit<ConnectionListener, 'lateAnswer'>;
  private readonly labels: { subscription: string };
  private readonly hot: SubscriptionHotMetrics;
  private readonly settledLine: SettledLine;
  private readonly failures: FailureLog;
  private receiverConnections = 0;
  private receiverUp = true;
  private receiverDownSince: Date | undefined;
  private receiverError: string | undefined;
  private unroutableDeadLetters = 0;

  constructor(
    private readonly metrics: DispatcherMetrics,
    private readonly name: string,
    private readonly logger: Logger,
    endpoint: MllpEndpoint,
  ) {
    const labels = (this.labels = { subscription: name });
    this.hot = new SubscriptionHotMetrics(metrics, name);
    this.settledLine = new SettledLine(logger);
    this.failures = new FailureLog(logger);
    this.role = new ConsumerRoleTracker((role) => {
      metrics.activeConsumer.set(labels, role === 'active' ? 1 : 0);
      if (role !== 'unknown') logger.info({ role }, role === 'active' ? 'this process is the active consumer' : 'standing by: another consumer is active on this queue');
    });
    for (const gauge of [metrics.receiverConnections, metrics.brokerConnected, metrics.brokerBlocked, metrics.consuming, metrics.activeConsumer]) gauge.set(labels, 0);
    metrics.receiverReachable.set(labels, 1);
    this.connections = {
      connected: (lane, info) => {
        metrics.receiverConnections.set(labels, ++this.receiverConnections);
        if (info.clientCertificateExpiresAt) metrics.certificateExpiry.set({ ...labels, certificate: 'client' }, info.clientCertificateExpiresAt.getTime() / 1000);
        if (info.serverCertificateExpiresAt) metrics.certificateExpiry.set({ ...labels, certificate: 'server' }, info.serverCertificateExpiresAt.getTime() / 1000);
        logger.debug({ lane, receiver: describeEndpoint(endpoint), ...info }, 'connected to the receiver');
      },
      disconnected: (lane, reason) => {
        metrics.receiverConnections.set(labels, --this.receiverConnections);
        logger.debug({ lane, reason }, 'receiver connection closed');
      },
      ignoredFrame: (lane, reason, code) => {
        metrics.ignoredFrames.inc({ ...labels, reason, code: ackCodeLabel(code) });
        logger.debug({ lane, reason, ackCode: ackCodeLabel(code) }, 'ignored a frame that answers nothing in flight');
      },
    };
  }

  health(): ReceiverHealth {
    const health: ReceiverHealth = { receiverConnections: this.receiverConnections, receiverUp: this.receiverUp, unroutableDeadLetters: this.unroutableDeadLetters };
    if (this.receiverDownSince) health.receiverDownSince = this.receiverDownSince.toISOString();
    if (this.receiverError) health.receiverError = this.receiverError;
    return health;
  }

  brokerState(state: SessionState): void {
    this.metrics.brokerConnected.set(this.labels, state === 'consuming' ? 1 : 0);
    this.metrics.consuming.set(this.labels, state === 'consuming' ? 1 : 0);
    if (state !== 'consuming') this.role.notConsuming();
    this.logger.info({ broker: state }, `broker session ${state}`);
  }

  brokerBlocked(reason: string | undefined): void {
    this.metrics.brokerBlocked.set(this.labels, reason === undefined ? 0 : 1);
  }

  /** One send attempt: receiver health, counters (the rate-limit wait too), and the failure log. */
  attempted(report: AttemptReport): void {
    this.hot.attempt(report.outcome, report.message.trigger);
    if (report.throttledMs) this.metrics.rateLimitWait.inc(this.labels, report.throttledMs / 1000);
    const up = report.outcome !== 'unreachable';
    if (up !== this.receiverUp) {
      this.receiverUp = up;
      this.receiverDownSince = up ? undefined : new Date();
      this.metrics.receiverReachable.set(this.labels, up ? 1 : 0);
    }
    if (report.outcome === 'accepted') {
      this.receiverError = undefined;
      this.hot.accepted(report.latencyMs);
      if (this.failures.failing) this.failures.success(attemptFields(report), 'receiver accepting messages again');
      return;
    }
    if (report.retryInMs !== undefined) this.metrics.retries.inc({ ...this.labels, outcome: report.outcome });
    if (!up) this.receiverError = report.reason;
    const message =
      report.outcome === 'unreachable'
        ? 'receiver unreachable'
        : report.outcome === 'uncertain'
          ? 'no ACK from the receiver; the message will be resent with the same MSH-10 and the receiver may get it twice'
          : `send failed: ${report.outcome}`;
    this.failures.failure(report.outcome, report.reason ?? report.outcome, attemptFields(report), message);
  }

  /** An event settles on a live connection: counted, and its one log line. */
  settled(settlement: Settlement, uncertainSends: number): void {
    this.hot.event(settlement.outcome);
    if (settlement.action !== 'dead-letter') {
      this.settledLine.write(settlement, uncertainSends);
      return;
    }
    this.metrics.deadLetters.inc({ ...this.labels, outcome: settlement.outcome });
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
    this.logger.warn(fields, 'event dead-lettered');
  }

  /** The event's connection is gone and the broker redelivers it: the copy that arrives then is the one counted. */
  stale(settlement: Settlement): void {
    this.logger.info({ eventId: settlement.eventId, outcome: settlement.outcome }, 'broker connection lost before the event was acknowledged; the broker will redeliver it');
  }

  unroutable(): void {
    this.unroutableDeadLetters++;
    this.metrics.unroutableDeadLetters.inc(this.labels);
  }

  async pollQueueDepths(session: BrokerSession): Promise<void> {
    try {
      const [events, dead] = await session.messageCounts([queueName(this.name), deadLetterQueueName(this.name)]);
      if (events !== undefined) {
        this.metrics.queueMessages.set({ ...this.labels, queue: 'events' }, events);
        if (session.state === 'consuming') this.role.polled(events);
      }
      if (dead !== undefined) this.metrics.queueMessages.set({ ...this.labels, queue: 'dead' }, dead);
    } catch {
      // Broker away: the broker gauge says so; depths keep their last value.
    }
  }
}

/** Log fields of one send attempt. */
function attemptFields(report: AttemptReport): Record<string, unknown> {
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
