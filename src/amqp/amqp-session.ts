import { connect as amqpConnect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import type { Logger } from 'pino';
import { backoffDelay } from '../delivery/policy.js';
import { maskUrlPassword } from '../config/load-config.js';
import { TopologyConflictError } from './topology.js';
import { connectionOptions } from './connection-options.js';
import { coalesceWrites } from './coalesce-writes.js';
import { AckBatcher } from './ack-batcher.js';
import { sleep } from '../util/sleep.js';

export type SessionState = 'connecting' | 'consuming' | 'closed';

/** Header that identifies a mandatory publication, to match the broker's basic.return to it. */
export const PUBLISH_ID_HEADER = 'x-mllp-publish-id';

/** A mandatory publish that no queue was bound to receive. */
export class UnroutableError extends Error {
  readonly code = 'UNROUTABLE';
  constructor(message: string) {
    super(message);
    this.name = 'UnroutableError';
  }
}

/** A message as received, with the connection generation it belongs to. */
export interface Delivery {
  message: ConsumeMessage;
  generation: number;
}

export interface AmqpSessionOptions {
  /** Cluster nodes, tried in order; after a loss the next node is tried first. */
  urls: readonly string[];
  /** Shown in the broker's management UI and `rabbitmqctl list_connections`. */
  connectionName: string;
  heartbeatSeconds: number;
  queue: string;
  prefetch: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** Declares the topology on a fresh channel; skipped when undefined (`amqp.declare: false`). */
  declare?: (channel: Channel) => Promise<void>;
  onMessage: (delivery: Delivery) => void;
  /** The topology conflicts with what the broker has: retrying cannot help. */
  onFatal: (error: Error) => void;
  onStateChange?: (state: SessionState) => void;
  /**
   * The generation whose deliveries can be settled changed (undefined: none, disconnected).
   * Called before the first delivery of a new generation.
   */
  onLiveGeneration?: (generation: number | undefined) => void;
  /** True while events wait for the stream: acks and receipts may then be batched (coalesce-writes.ts). */
  backlog?: () => boolean;
  logger: Logger;
}

interface Live {
  model: ChannelModel;
  consumeChannel: Channel;
  publishChannel: ConfirmChannel;
  acks: AckBatcher;
}

/**
 * One subscription's connection to RabbitMQ: its own connection, a consuming channel with
 * manual acks and prefetch, and a publisher-confirm channel for dead letters and receipts.
 *
 * Reconnects forever with capped exponential backoff when the connection or either
 * channel drops (broker restart, `rabbitmqctl close_connection`, a channel error). Each
 * successful connection starts a new *generation*; deliveries of an older generation can
 * no longer be acknowledged, because the broker has already put them back in the queue and
 * will deliver them again. `isCurrent(generation)` tells the stream to drop such stale
 * copies instead of sending them twice or out of order.
 */
export class AmqpSession {
  private live: Live | undefined;
  private generationCounter = 0;
  private stateValue: SessionState = 'connecting';
  private closing = false;
  private readonly stopController = new AbortController();
  private loopDone: Promise<void> | undefined;
  private nextUrl = 0;
  private publishCounter = 0;
  /** Ids of mandatory publishes the broker returned as unroutable (basic.return precedes the confirm). */
  private readonly returned = new Set<string>();

  constructor(private readonly options: AmqpSessionOptions) {}

  get state(): SessionState {
    return this.stateValue;
  }

  get generation(): number {
    return this.generationCounter;
  }

  isCurrent(generation: number): boolean {
    return generation === this.generationCounter && this.live !== undefined;
  }

  /** Every change of the live connection starts a new generation. */
  private setLive(live: Live | undefined): void {
    this.live = live;
    this.generationCounter++;
    this.options.onLiveGeneration?.(live ? this.generationCounter : undefined);
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  ack(delivery: Delivery): boolean {
    if (!this.isCurrent(delivery.generation)) return false;
    this.live!.acks.ack(delivery.message.fields.deliveryTag);
    return true;
  }

  /**
   * Publishes with a publisher confirm; resolves when the broker has taken responsibility
   * for the message, rejects when it refused it or the channel closed first. With
   * `mandatory`, a message no queue is bound to receive is returned by the broker (before
   * its confirm) and the promise rejects with UnroutableError instead of resolving.
   */
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, mandatory = false): Promise<void> {
    const live = this.live;
    if (!live) return Promise.reject(new Error('not connected to the broker'));
    const publishId = mandatory ? `${this.generationCounter}.${++this.publishCounter}` : undefined;
    const publishOptions = publishId ? { ...options, mandatory: true, headers: { ...(options.headers ?? {}), [PUBLISH_ID_HEADER]: publishId } } : options;
    return new Promise((resolve, reject) => {
      try {
        live.publishChannel.publish(exchange, routingKey, content, publishOptions, (error) => {
          if (error) return reject(error instanceof Error ? error : new Error('publish not confirmed'));
          if (publishId !== undefined && this.returned.delete(publishId)) {
            return reject(new UnroutableError(`no queue is bound to exchange ${exchange} with routing key ${routingKey}`));
          }
          resolve();
        });
      } catch (error) {
        reject(error as Error);
      }
    });
  }

  /**
   * Ready-message counts of the given queues, read with passive declares on a short-lived
   * channel (a missing queue closes the channel it was asked on, never the session's).
   */
  async messageCounts(queues: readonly string[]): Promise<Array<number | undefined>> {
    const live = this.live;
    if (!live) return queues.map(() => undefined);
    const channel = await live.model.createChannel();
    channel.on('error', () => {});
    const counts: Array<number | undefined> = [];
    try {
      for (const queue of queues) counts.push((await channel.checkQueue(queue)).messageCount);
    } catch {
      while (counts.length < queues.length) counts.push(undefined);
      return counts;
    }
    await channel.close().catch(() => {});
    return counts;
  }

  /**
   * Closes channels and connection. The broker returns every unacknowledged delivery to its
   * place in the queue, atomically with removing our consumer. Idempotent.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.stopController.abort();
    const live = this.live;
    this.setLive(undefined);
    if (live) {
      // Channels first: closing the connection right after an ack can drop the ack frame
      // still buffered in the channel (the event would be redelivered and sent twice).
      // Closing the consuming channel is also what returns unacknowledged deliveries to
      // the queue, atomically with removing the consumer.
      live.acks.flush();
      for (const channel of [live.consumeChannel, live.publishChannel]) {
        try {
          await channel.close();
        } catch {
          // Already closed by the broker or the network.
        }
      }
      try {
        await live.model.close();
      } catch {
        // Already closed by the broker or the network.
      }
    }
    await this.loopDone;
    this.setState('closed');
  }

  /** Drops the connection and reconnects (a publish failed, a channel broke). */
  restart(reason: string): void {
    const live = this.live;
    if (!live || this.closing) return;
    this.options.logger.warn({ reason }, 'restarting the broker connection');
    live.model.close().catch(() => {});
  }

  private setState(state: SessionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.options.onStateChange?.(state);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closing) {
      const url = this.options.urls[this.nextUrl % this.options.urls.length]!;
      let lost: Promise<string>;
      try {
        ({ lost } = await this.connect(url));
        failures = 0;
      } catch (error) {
        if (error instanceof TopologyConflictError) {
          this.options.onFatal(error);
          return;
        }
        if (this.closing) return;
        failures++;
        this.nextUrl++;
        const delayMs = backoffDelay(failures, this.options.reconnect);
        this.options.logger.warn(
          { broker: maskUrlPassword(url), err: describeAmqpError(error), retryInMs: delayMs },
          'cannot connect to the broker',
        );
        this.setState('connecting');
        await sleep(delayMs, this.stopController.signal);
        continue;
      }
      const reason = await lost;
      if (this.closing) return;
      this.options.logger.warn({ broker: maskUrlPassword(url), reason }, 'broker connection lost; reconnecting');
      this.setState('connecting');
      this.nextUrl++;
      await sleep(backoffDelay(1, this.options.reconnect), this.stopController.signal);
    }
  }

  /** Connects, declares, consumes; `lost` settles (with a reason) when the connection is gone. */
  private async connect(url: string): Promise<{ lost: Promise<string> }> {
    const { options } = this;
    const model = await amqpConnect(connectionOptions(url, options.heartbeatSeconds), {
      clientProperties: { connection_name: options.connectionName },
      // Acks, receipts and confirms are small frames: Nagle's algorithm would hold them back
      // behind the broker's delayed ACKs (up to 40 ms each).
      noDelay: true,
      timeout: 10_000,
    });
    coalesceWrites(model, options.backlog);
    let onLost!: (reason: string) => void;
    const lost = new Promise<string>((resolve) => (onLost = resolve));
    const live: Partial<Live> = { model };
    const drop = (reason: string) => {
      if (this.live === live) this.setLive(undefined);
      model.close().catch(() => {});
      onLost(reason);
    };
    model.on('error', (error: Error) => drop(describeAmqpError(error)));
    model.on('close', (error?: Error) => drop(error ? describeAmqpError(error) : 'connection closed'));
    model.on('blocked', (reason: string) => options.logger.warn({ reason }, 'broker blocked publishing (resource alarm)'));
    model.on('unblocked', () => options.logger.info('broker unblocked publishing'));
    try {
      if (options.declare) {
        // A failed declaration closes its channel; use one of its own.
        const declareChannel = await model.createChannel();
        declareChannel.on('error', () => {});
        await options.declare(declareChannel);
        await declareChannel.close();
      }
      const consumeChannel = await model.createChannel();
      const publishChannel = await model.createConfirmChannel();
      for (const channel of [consumeChannel, publishChannel]) {
        channel.on('error', (error: Error) => drop(`channel error: ${describeAmqpError(error)}`));
        channel.on('close', () => drop('channel closed'));
      }
      publishChannel.on('return', (message: { properties: { headers?: Record<string, unknown> } }) => {
        const id = message.properties.headers?.[PUBLISH_ID_HEADER];
        if (typeof id === 'string') this.returned.add(id);
      });
      await consumeChannel.prefetch(options.prefetch);
      live.consumeChannel = consumeChannel;
      live.publishChannel = publishChannel;
      live.acks = new AckBatcher(consumeChannel);
      this.setLive(live as Live);
      const generation = this.generationCounter;
      if (!this.closing) {
        await consumeChannel.consume(
          options.queue,
          (message) => {
            if (message === null) {
              drop('the broker cancelled the consumer (queue deleted?)');
              return;
            }
            live.acks!.received(message.fields.deliveryTag);
            options.onMessage({ message, generation });
          },
          { noAck: false },
        );
        this.setState('consuming');
      }
      return { lost };
    } catch (error) {
      model.removeAllListeners('close');
      model.on('error', () => {});
      await model.close().catch(() => {});
      if (this.live === live) this.setLive(undefined);
      throw error;
    }
  }
}

function describeAmqpError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${code !== undefined ? `${String(code)} ` : ''}${error.message}`.replace(/amqps?:\/\/[^\s]+/g, (url) => maskUrlPassword(url));
  }
  return String(error);
}
