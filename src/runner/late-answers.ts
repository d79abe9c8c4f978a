import type { Logger } from 'pino';
import type { BrokerSession } from '../amqp/amqp-session.js';
import type { LateAnswer } from '../transport/mllp-client.js';
import { ackCodeLabel, type DispatcherMetrics } from '../observability/metrics.js';

/**
 * The receipt of a late error (routing key `<subscription>.late-error`): the receipt fields of
 * README "Delivery and outcomes", with `ackCode` the late code, `firstAckCode` the AA or CA
 * that settled the event, and `attempts`/`latencyMs` null (nothing was sent for it).
 */
export interface LateErrorReceipt {
  eventId: string | null;
  subscription: string;
  controlId: string;
  trigger: string | null;
  outcome: 'late-error';
  ackCode: string;
  firstAckCode: string;
  errorCode: string | null;
  attempts: null;
  latencyMs: null;
  at: string;
}

export interface LateAnswerReporterOptions {
  subscription: string;
  session: BrokerSession;
  receiptsExchange: string;
  receipts: boolean;
  logger: Logger;
  metrics: DispatcherMetrics;
}

/**
 * Makes an error that came after its message was settled visible: a `warn` line, the
 * `mllp_late_errors_total{code}` counter, and a `late-error` receipt. The event was already
 * acknowledged to the broker; replaying it is the operator's decision (README "Delivery and
 * outcomes"). The receipt is best effort: there is no delivery to hold back until the broker
 * confirms it, so a broker outage loses it (the log line and the counter remain).
 */
export class LateAnswerReporter {
  constructor(private readonly options: LateAnswerReporterOptions) {}

  report(lane: number, answer: LateAnswer): void {
    const { subscription, logger, metrics } = this.options;
    const eventId = answer.context?.eventId ?? null;
    const trigger = answer.context?.trigger ?? null;
    const errorCode = answer.errorCode !== undefined && /^[A-Za-z0-9]{1,10}$/.test(answer.errorCode) ? answer.errorCode : null;
    metrics.lateErrors.inc({ subscription, code: ackCodeLabel(answer.lateCode) });
    logger.warn(
      { lane, eventId, controlId: answer.controlId, trigger, firstAckCode: ackCodeLabel(answer.firstCode), ackCode: ackCodeLabel(answer.lateCode), ...(errorCode ? { errorCode } : {}) },
      'late error: the receiver answered with an error after it had accepted the message; the event was already acknowledged (replay it to send it again)',
    );
    if (!this.options.receipts) return;
    const receipt: LateErrorReceipt = {
      eventId,
      subscription,
      controlId: answer.controlId,
      trigger,
      outcome: 'late-error',
      ackCode: ackCodeLabel(answer.lateCode),
      firstAckCode: ackCodeLabel(answer.firstCode),
      errorCode,
      attempts: null,
      latencyMs: null,
      at: new Date().toISOString(),
    };
    this.options.session
      .publish(this.options.receiptsExchange, `${subscription}.late-error`, Buffer.from(JSON.stringify(receipt)), {
        contentType: 'application/json',
        persistent: true,
        ...(eventId ? { correlationId: eventId } : {}),
      })
      .catch((error: Error) => logger.warn({ eventId, controlId: answer.controlId, err: error.message }, 'the late-error receipt was not confirmed by the broker'));
  }
}
