import type { ConsumeMessage, Options } from 'amqplib';
import type { AmqpSessionOptions, BrokerSession, Delivery, SessionState } from '../../../src/amqp/amqp-session.js';

/** A publish the fake broker took. */
export interface Published {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
  mandatory: boolean;
}

/**
 * A broker session without a broker, for unit tests of the runner: the test connects,
 * delivers, loses the connection, and reads what was published and acknowledged. Each
 * connection is a new generation, as in AmqpSession.
 */
export class FakeSession implements BrokerSession {
  state: SessionState = 'connecting';
  blocked: string | undefined;
  readonly acks: Delivery[] = [];
  readonly published: Published[] = [];
  closeCalls = 0;
  /** close() never finishes (a broker that does not answer). */
  closeHangs = false;
  private generation = 0;
  private live = false;
  private tag = 0;

  constructor(readonly options: AmqpSessionOptions) {}

  start(): void {
    this.connect();
  }

  connect(): void {
    this.generation++;
    this.live = true;
    this.options.onLiveGeneration?.(this.generation);
    this.setState('consuming');
  }

  lose(): void {
    this.generation++;
    this.live = false;
    this.options.onLiveGeneration?.(undefined);
    this.setState('connecting');
  }

  deliver(event: Record<string, unknown> | Buffer, options: { redelivered?: boolean; messageId?: string } = {}): Delivery {
    const content = Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event));
    const message = {
      content,
      fields: { deliveryTag: ++this.tag, redelivered: options.redelivered ?? false, routingKey: 'patient.create', exchange: 'events', consumerTag: 'fake' },
      properties: { messageId: options.messageId ?? (Buffer.isBuffer(event) ? undefined : event.id), headers: {} },
    } as unknown as ConsumeMessage;
    const delivery = { message, generation: this.generation };
    this.options.onMessage(delivery);
    return delivery;
  }

  close(): Promise<void> {
    this.closeCalls++;
    if (this.closeHangs) return new Promise(() => {});
    this.live = false;
    this.setState('closed');
    return Promise.resolve();
  }

  isCurrent(generation: number): boolean {
    return this.live && generation === this.generation;
  }

  ack(delivery: Delivery): boolean {
    if (!this.isCurrent(delivery.generation)) return false;
    this.acks.push(delivery);
    return true;
  }

  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, mandatory = false): Promise<void> {
    if (!this.live) return Promise.reject(new Error('not connected to the broker'));
    this.published.push({ exchange, routingKey, content, options, mandatory });
    return Promise.resolve();
  }

  messageCounts(queues: readonly string[]): Promise<Array<number | undefined>> {
    return Promise.resolve(queues.map(() => 0));
  }

  restart(): void {
    this.lose();
  }

  private setState(state: SessionState): void {
    this.state = state;
    this.options.onStateChange?.(state);
  }
}
