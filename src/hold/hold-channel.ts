import type { ConfirmChannel, GetMessage, Options } from 'amqplib';
import { ConfirmedPublisher, PUBLISH_ID_HEADER } from '../amqp/confirmed-publish.js';
import type { Delivery } from '../amqp/session-options.js';
import { producerRoutingKey } from '../runner/settler.js';
import { parseRecord, type HoldRecord } from './hold-book.js';
import { heldQueueName, holdLogQueueName } from './hold-names.js';

/**
 * The patient hold's own confirm channel on the subscription's connection
 * (AmqpSession.openChannel, src/amqp/amqp-session.ts): the log queue, the parked queues,
 * and fetching parked events back with basic.get. It closes with the connection: whatever
 * it fetched and did not ack returns to its place in its queue.
 */
export class HoldChannel {
  private readonly publisher: ConfirmedPublisher;
  private readonly declared = new Set<string>();

  constructor(
    private readonly channel: ConfirmChannel,
    private readonly subscription: string,
    private readonly queueType: 'classic' | 'quorum',
  ) {
    this.publisher = new ConfirmedPublisher(channel, 'hold');
  }

  /**
   * Reads the whole log (each record fetched unacknowledged) and returns its records in
   * order, with `compact`: publish the folded records (confirmed), then ack the ones read.
   * A crash in between leaves both; folding them again gives the same holds.
   */
  async readLog(): Promise<{ records: HoldRecord[]; compact: (folded: readonly HoldRecord[]) => Promise<void> }> {
    const queue = holdLogQueueName(this.subscription);
    await this.declare(queue);
    const records: HoldRecord[] = [];
    let read = 0;
    for (;;) {
      const message = await this.channel.get(queue, { noAck: false });
      if (message === false) break;
      read++;
      const record = parseRecord(message.content);
      if (record) records.push(record);
    }
    return {
      records,
      compact: async (folded) => {
        await Promise.all(folded.map((record) => this.append(record)));
        if (read > 0) this.channel.ackAll();
      },
    };
  }

  /** Appends a record to the log; resolves when the broker confirmed it. */
  append(record: HoldRecord): Promise<void> {
    return this.publisher.publish('', holdLogQueueName(this.subscription), Buffer.from(JSON.stringify(record)), { persistent: true, contentType: 'application/json' }, true);
  }

  /** Declares a hold's parked queue (idempotent). */
  declareHeld(hold: string): Promise<void> {
    return this.declare(heldQueueName(this.subscription, hold));
  }

  /**
   * Publishes an event to a hold's parked queue (mandatory, confirmed): body and properties
   * as they came, with the producer's routing key kept for its dead letter or replay.
   */
  park(hold: string, delivery: Delivery): Promise<void> {
    const { properties, content } = delivery.message;
    const headers: Record<string, unknown> = { ...((properties.headers ?? {}) as Record<string, unknown>), 'x-mllp-routing-key': producerRoutingKey(delivery) };
    delete headers[PUBLISH_ID_HEADER];
    const publish: Options.Publish = { persistent: true, headers };
    for (const name of ['contentType', 'contentEncoding', 'messageId', 'correlationId', 'timestamp', 'type', 'appId'] as const) {
      if (properties[name] !== undefined) (publish as Record<string, unknown>)[name] = properties[name];
    }
    return this.publisher.publish('', heldQueueName(this.subscription, hold), content, publish, true);
  }

  /** The next parked event of a hold, unacknowledged; false when its queue is empty. */
  next(hold: string): Promise<GetMessage | false> {
    return this.channel.get(heldQueueName(this.subscription, hold), { noAck: false });
  }

  ack(message: GetMessage): void {
    this.channel.ack(message);
  }

  async deleteHeld(hold: string): Promise<void> {
    const queue = heldQueueName(this.subscription, hold);
    await this.channel.deleteQueue(queue);
    this.declared.delete(queue);
  }

  close(): void {
    this.channel.close().catch(() => {});
  }

  private async declare(queue: string): Promise<void> {
    if (this.declared.has(queue)) return;
    await this.channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': this.queueType } });
    this.declared.add(queue);
  }
}
