import { randomBytes } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A name no other test uses: subscriptions, queues and exchanges of one test never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The broker names one test run uses; pass `exchanges` into the daemon's `amqp` config. */
export interface TestTopology {
  exchange: string;
  deadLetterExchange: string;
  receiptsExchange: string;
}

export function testTopology(prefix = 't'): TestTopology {
  const base = uniqueName(prefix);
  return { exchange: `${base}.events`, deadLetterExchange: `${base}.dead`, receiptsExchange: `${base}.receipts` };
}

export interface CapturedMessage {
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
  headers: Record<string, unknown>;
  routingKey: string;
  properties: ConsumeMessage['properties'];
}

function toCaptured(message: Pick<ConsumeMessage, 'content' | 'properties'> & { fields: { routingKey: string } }): CapturedMessage {
  return {
    body: message.content,
    json: <T>() => JSON.parse(message.content.toString('utf8')) as T,
    headers: (message.properties.headers ?? {}) as Record<string, unknown>,
    routingKey: message.fields.routingKey,
    properties: message.properties,
  };
}

/**
 * A test's own broker connection: publishes events, captures receipts and dead letters,
 * and deletes everything the test declared when closed.
 */
export class TestBroker {
  private constructor(
    private readonly model: ChannelModel,
    readonly channel: Channel,
    readonly topology: TestTopology,
  ) {}

  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();

  static async open(topology: TestTopology = testTopology()): Promise<TestBroker> {
    const model = await connect(AMQP_URL);
    const channel = await model.createConfirmChannel();
    const broker = new TestBroker(model, channel, topology);
    await channel.assertExchange(topology.exchange, 'topic', { durable: true });
    await channel.assertExchange(topology.deadLetterExchange, 'direct', { durable: true });
    await channel.assertExchange(topology.receiptsExchange, 'topic', { durable: true });
    for (const exchange of Object.values(topology)) broker.exchanges.add(exchange);
    return broker;
  }

  /** Registers broker objects the daemon declares so close() deletes them. */
  ownSubscription(name: string): void {
    this.queues.add(`mllp.${name}`);
    this.queues.add(`mllp.${name}.dead`);
  }

  /** Registers one more queue the daemon declares (e.g. the patient hold's) so close() deletes it. */
  ownQueue(queue: string): void {
    this.queues.add(queue);
  }

  /** Publishes an event as a producer would (routing key `patient.<type>`, confirmed). */
  async publish(event: Record<string, unknown> | Buffer, options: { routingKey?: string; messageId?: string; headers?: Record<string, unknown> } = {}): Promise<void> {
    const body = Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event));
    const type = Buffer.isBuffer(event) ? 'create' : String(event.type);
    const messageId = options.messageId ?? (Buffer.isBuffer(event) ? undefined : String(event.id));
    await new Promise<void>((resolve, reject) => {
      (this.channel as unknown as import('amqplib').ConfirmChannel).publish(
        this.topology.exchange,
        options.routingKey ?? `patient.${type}`,
        body,
        { contentType: 'application/json', persistent: true, ...(messageId ? { messageId } : {}), ...(options.headers ? { headers: options.headers } : {}) },
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  async publishAll(events: Array<Record<string, unknown>>): Promise<void> {
    for (const event of events) await this.publish(event);
  }

  /** Binds a fresh queue to `exchange` and collects what arrives. */
  async capture(exchange: string, pattern = '#'): Promise<CapturedMessage[]> {
    const { queue } = await this.channel.assertQueue('', { exclusive: true, autoDelete: true });
    await this.channel.bindQueue(queue, exchange, pattern);
    const captured: CapturedMessage[] = [];
    await this.channel.consume(
      queue,
      (message) => {
        if (message) captured.push(toCaptured(message));
      },
      { noAck: true },
    );
    return captured;
  }

  captureReceipts(): Promise<CapturedMessage[]> {
    return this.capture(this.topology.receiptsExchange, '#');
  }

  /** Messages ready in a queue (passive check on a throw-away channel). */
  async messageCount(queue: string): Promise<number> {
    const channel = await this.model.createChannel();
    channel.on('error', () => {});
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Reads (and acks) everything currently in a queue. */
  async drain(queue: string): Promise<CapturedMessage[]> {
    const out: CapturedMessage[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (!message) return out;
      out.push(toCaptured(message));
    }
  }

  async close(): Promise<void> {
    try {
      const channel = await this.model.createChannel();
      channel.on('error', () => {});
      for (const queue of this.queues) await channel.deleteQueue(queue).catch(() => {});
      for (const exchange of this.exchanges) await channel.deleteExchange(exchange).catch(() => {});
      await channel.close().catch(() => {});
    } finally {
      await this.model.close().catch(() => {});
    }
  }
}
