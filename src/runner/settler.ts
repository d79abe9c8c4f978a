import type { Logger } from 'pino';
import { UnroutableError, type BrokerSession, type Delivery } from '../amqp/amqp-session.js';
import type { Outcome } from '../delivery/outcomes.js';
import { referenceOf } from '../fhir/resolution-stage.js';
import type { SettledLineFields } from '../observability/settled-line.js';
import { isoNow, jsonNumberOrNull, jsonString, jsonStringOrNull } from '../util/json-text.js';
import type { Job, JobResult } from '../delivery/job.js';
import type { SettleExtra } from '../hold/hold-stage.js';

/** How an event ended, as far as the broker and the receipt are concerned. */
export interface Settlement extends SettledLineFields {
  outcome: Outcome;
  /** `dead-letter`: publish to the dead-letter exchange (confirmed) before acking. */
  action: 'ack' | 'dead-letter';
  /** Log-safe reason; becomes `x-mllp-reason` of a dead letter. */
  reason: string | null;
}

/**
 * The receipt published to `mllp.receipts` with routing key `<subscription>.<outcome>`
 * (README "Delivery and outcomes"), written by `receiptText`.
 */
export interface Receipt {
  eventId: string | null;
  subscription: string;
  controlId: string | null;
  trigger: string | null;
  outcome: Outcome;
  ackCode: string | null;
  attempts: number;
  latencyMs: number | null;
  at: string;
  /** Reference events only: the resource reference the event named (README, "Reference events"). */
  reference?: string;
}

export interface SettlerOptions {
  subscription: string;
  session: BrokerSession;
  deadLetterExchange: string;
  receiptsExchange: string;
  receipts: boolean;
  logger: Logger;
  /**
   * Called once per event that settles on a live connection, before its dead letter or
   * receipt is published (the settle log line and counters); `uncertainSends` as in JobResult.
   */
  onSettling?: (settlement: Settlement, uncertainSends: number) => void;
  /** Called when an event could not be acknowledged because its channel is gone. */
  onStale?: (delivery: Delivery, settlement: Settlement) => void;
  /** Called when a dead letter had no queue to go to (the event stays unacknowledged). */
  onUnroutable?: () => void;
}

/**
 * Settles AMQP deliveries. The acknowledgement is always the last step: a dead letter and a
 * receipt are published with publisher confirms first, and only when the broker has
 * confirmed both is the event acked. If a publish fails, the event is not acked and the
 * connection is restarted, so the broker redelivers the event: it is never lost, at worst
 * sent again with the same MSH-10.
 */
export class Settler {
  private pendingCount = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SettlerOptions) {}

  get pending(): number {
    return this.pendingCount;
  }

  /**
   * The one place deliveries are settled, and the stale check: an event whose connection is
   * gone is not published, counted or logged as settled (the copy the broker redelivers is).
   * `extra` (the patient hold, src/hold/patient-hold.ts): headers for the dead letter, and
   * a publish the ack waits for as for the others.
   */
  settle(delivery: Delivery, settlement: Settlement, uncertainSends = 0, extra?: SettleExtra): void {
    const { session, subscription } = this.options;
    if (!session.isCurrent(delivery.generation)) {
      // The channel it came on is gone; the broker redelivers it. Publishing now would only
      // fail, or worse, dead-letter an event that is also back in the queue.
      this.options.onStale?.(delivery, settlement);
      return;
    }
    this.options.onSettling?.(settlement, uncertainSends);
    const publishes: Array<Promise<void>> = [];
    if (settlement.action === 'dead-letter') {
      // Mandatory: a dead letter nothing is bound to receive (amqp.declare false, binding
      // removed) would otherwise be confirmed and silently dropped.
      publishes.push(
        session.publish(this.options.deadLetterExchange, subscription, delivery.message.content, deadLetterProperties(delivery, settlement, subscription, extra?.deadLetterHeaders), true),
      );
    }
    if (extra?.before) publishes.push(extra.before);
    if (this.options.receipts) {
      const receipt = receiptText(settlement, subscription, referenceOf(delivery));
      publishes.push(
        session.publish(this.options.receiptsExchange, `${subscription}.${settlement.outcome}`, Buffer.from(receipt), {
          contentType: 'application/json',
          persistent: true,
          ...(settlement.eventId ? { correlationId: settlement.eventId } : {}),
        }),
      );
    }
    if (publishes.length === 0) {
      this.ack(delivery, settlement);
      return;
    }
    this.pendingCount++;
    (publishes.length === 1 ? publishes[0]! : Promise.all(publishes))
      .then(
        () => this.ack(delivery, settlement),
        (error: Error) => {
          if (!session.isCurrent(delivery.generation)) {
            // The connection went while publishing: the broker redelivers the event anyway.
            this.options.onStale?.(delivery, settlement);
            return;
          }
          if (error instanceof UnroutableError) {
            // Redelivering would only fail again: keep the event unacknowledged (it holds a
            // prefetch slot) until an operator binds a queue and restarts the subscription.
            this.options.logger.error(
              { eventId: settlement.eventId, outcome: settlement.outcome, err: error.message },
              'dead letter could not be routed; the event stays unacknowledged until a dead-letter queue is bound and the subscription restarts',
            );
            this.options.onUnroutable?.();
            return;
          }
          this.options.logger.error(
            { eventId: settlement.eventId, outcome: settlement.outcome, err: error.message },
            'broker did not confirm a dead letter or receipt; the event stays unacknowledged and will be redelivered',
          );
          session.restart('publish not confirmed');
        },
      )
      .finally(() => {
        if (--this.pendingCount === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const wake of waiters) wake();
        }
      });
  }

  /** Resolves when no publish is waiting for its confirm. */
  idle(): Promise<void> {
    if (this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private ack(delivery: Delivery, settlement: Settlement): void {
    if (!this.options.session.ack(delivery)) this.options.onStale?.(delivery, settlement);
  }
}

function deadLetterProperties(delivery: Delivery, settlement: Settlement, subscription: string, extraHeaders?: Record<string, unknown>) {
  const original = delivery.message.properties;
  return {
    persistent: true,
    contentType: original.contentType ?? 'application/json',
    ...(original.contentEncoding ? { contentEncoding: original.contentEncoding } : {}),
    ...(original.messageId ? { messageId: original.messageId } : {}),
    ...(original.correlationId ? { correlationId: original.correlationId } : {}),
    ...(original.timestamp ? { timestamp: original.timestamp } : {}),
    ...(original.type ? { type: original.type } : {}),
    headers: {
      ...(original.headers ?? {}),
      'x-mllp-outcome': settlement.outcome,
      'x-mllp-reason': settlement.reason ?? settlement.outcome,
      'x-mllp-ack-code': settlement.ackCode ?? '',
      'x-mllp-attempts': settlement.attempts,
      'x-mllp-control-id': settlement.controlId ?? '',
      'x-mllp-subscription': subscription,
      'x-mllp-routing-key': producerRoutingKey(delivery),
      'x-mllp-dead-lettered-at': new Date().toISOString(),
      ...(extraHeaders ?? {}),
    },
  };
}

/**
 * The routing key the producer used. A replayed or backfilled event arrives through the
 * default exchange (routing key = queue name) and carries the producer's key in
 * `x-mllp-routing-key` (src/operations/replay.ts, src/operations/backfill.ts).
 */
export function producerRoutingKey(delivery: Delivery): string {
  const header = delivery.message.properties.headers?.['x-mllp-routing-key'];
  return delivery.message.fields.exchange === '' && typeof header === 'string' ? header : delivery.message.fields.routingKey;
}

/** The receipt's JSON text: what JSON.stringify writes for a Receipt, keys in its order. */
export function receiptText(settlement: Settlement, subscription: string, reference: string | undefined): string {
  const text =
    `{"eventId":${jsonStringOrNull(settlement.eventId)},"subscription":${jsonString(subscription)},"controlId":${jsonStringOrNull(settlement.controlId)}` +
    `,"trigger":${jsonStringOrNull(settlement.trigger)},"outcome":${jsonString(settlement.outcome)},"ackCode":${jsonStringOrNull(settlement.ackCode)}` +
    `,"attempts":${jsonNumberOrNull(settlement.attempts)},"latencyMs":${jsonNumberOrNull(settlement.latencyMs)},"at":"${isoNow()}"`;
  return reference ? `${text},"reference":${jsonString(reference)}}` : `${text}}`;
}

/** A job's result as the settler takes it. */
export function settlementOf(job: Job, result: JobResult): Settlement {
  return {
    outcome: result.outcome,
    action: result.action,
    eventId: job.eventId,
    controlId: result.controlId,
    trigger: result.trigger,
    ackCode: result.ackCode ?? null,
    attempts: result.attempts,
    latencyMs: result.latencyMs !== undefined ? Math.round(result.latencyMs * 1000) / 1000 : null,
    reason: result.reason ?? null,
  };
}
