import { connect as amqpConnect, type Channel, type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import type { AmqpSessionOptions, BrokerSession, Delivery, SessionState } from './session-options.js';
import { backoffDelay } from '../delivery/policy.js';
import { maskUrlPassword } from '../config/load-config.js';
import { TopologyConflictError } from './topology.js';
import { connectionOptions } from './connection-options.js';
import { coalesceWrites } from './coalesce-writes.js';
import { AckBatcher } from './ack-batcher.js';
import { sleep } from '../util/sleep.js';
import { whenAborted, withDeadline } from '../util/lifecycle.js';
import { describeAmqpError, destroyConnection, isBlocked, SessionClosedError } from './amqp-connection.js';
import { ConfirmedPublisher, queueMessageCounts } from './confirmed-publish.js';
import { openChannels } from './open-channels.js';

export { PUBLISH_ID_HEADER, UnroutableError } from './confirmed-publish.js';
export type { AmqpSessionOptions, BrokerSession, Delivery, SessionState } from './session-options.js';

/** How long close() waits for the broker to answer before it drops the connection. */
export const CLOSE_DEADLINE_MS = 1500;

interface Live {
  model: ChannelModel;
  consumeChannel: Channel;
  publishChannel: ConfirmChannel;
  publisher: ConfirmedPublisher;
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
export class AmqpSession implements BrokerSession {
  private live: Live | undefined;
  private generationCounter = 0;
  private stateValue: SessionState = 'connecting';
  private closing = false;
  private readonly stopController = new AbortController();
  private loopDone: Promise<void> | undefined;
  private nextUrl = 0;
  private blockedReason: string | undefined;
  private closed: Promise<void> | undefined;
  /** A connection past its handshake that is still declaring and opening its channels. */
  private opening: ChannelModel | undefined;

  constructor(private readonly options: AmqpSessionOptions) {}

  get state(): SessionState {
    return this.stateValue;
  }

  get generation(): number {
    return this.generationCounter;
  }

  /** The broker's reason while it blocks this connection (resource alarm); undefined otherwise. */
  get blocked(): string | undefined {
    return this.blockedReason;
  }

  isCurrent(generation: number): boolean {
    return generation === this.generationCounter && this.live !== undefined;
  }

  /** Every change of the live connection starts a new generation. */
  private setLive(live: Live | undefined): void {
    this.live = live;
    if (!live) this.setBlocked(undefined);
    this.generationCounter++;
    this.options.onLiveGeneration?.(live ? this.generationCounter : undefined);
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  ack(delivery: Delivery): boolean {
    if (!this.isCurrent(delivery.generation)) return false;
    if (delivery.ack) return delivery.ack();
    this.live!.acks.ack(delivery.message.fields.deliveryTag);
    return true;
  }

  /**
   * Publishes with a publisher confirm (see ConfirmedPublisher.publish); rejects at once
   * while disconnected.
   */
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, mandatory = false): Promise<void> {
    const live = this.live;
    if (!live) return Promise.reject(new Error('not connected to the broker'));
    return live.publisher.publish(exchange, routingKey, content, options, mandatory);
  }

  /** A confirm channel on the live connection; it closes with the connection. */
  async openChannel(): Promise<ConfirmChannel> {
    const live = this.live;
    if (!live) throw new Error('not connected to the broker');
    return live.model.createConfirmChannel();
  }

  /** Ready-message counts of the given queues (undefined each while disconnected). */
  async messageCounts(queues: readonly string[]): Promise<Array<number | undefined>> {
    const live = this.live;
    if (!live) return queues.map(() => undefined);
    return queueMessageCounts(live.model, queues);
  }

  /**
   * Closes channels and connection. The broker returns every unacknowledged delivery to its
   * place in the queue, atomically with removing our consumer. Memoised, safe in every
   * state, and done within CLOSE_DEADLINE_MS: a connection still in its handshake is
   * abandoned (and closed when the handshake ends); one the broker does not answer (it
   * stops reading from a blocked connection) has its socket destroyed, which the broker
   * sees as a lost connection and requeues the same way.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.stopController.abort();
    const live = this.live;
    this.setLive(undefined);
    if (live && !(await withDeadline(this.closeLive(live), CLOSE_DEADLINE_MS).catch(() => false))) {
      this.options.logger.warn({ deadlineMs: CLOSE_DEADLINE_MS }, 'the broker did not answer the close; dropping the connection');
      destroyConnection(live.model);
    }
    // A connection still opening its channels (a broker slow to answer) is closed the same way.
    const opening = this.opening;
    if (opening && !(await withDeadline(opening.close(), CLOSE_DEADLINE_MS).catch(() => true))) destroyConnection(opening);
    await this.loopDone;
    this.setState('closed');
  }

  private async closeLive(live: Live): Promise<void> {
    // Channels first: closing the connection right after an ack can drop the ack frame
    // still buffered in the channel (the event would be redelivered and sent twice).
    // Closing the consuming channel is also what returns unacknowledged deliveries to
    // the queue, atomically with removing the consumer. A blocked connection is not read
    // by the broker: amqplib then closes it at once, without a handshake.
    live.acks.flush();
    if (!isBlocked(live.model)) {
      for (const channel of [live.consumeChannel, live.publishChannel]) {
        await channel.close().catch(() => {}); // Already closed by the broker or the network.
      }
    }
    await live.model.close().catch(() => {});
  }

  /** Drops the connection and reconnects (a publish failed, a channel broke). */
  restart(reason: string): void {
    const live = this.live;
    if (!live || this.closing) return;
    this.options.logger.warn({ reason }, 'restarting the broker connection');
    live.model.close().catch(() => {});
  }

  /** Logs each change once (the broker sends one `connection.blocked` per alarm, one `unblocked`). */
  private setBlocked(reason: string | undefined): void {
    if (this.blockedReason === reason) return;
    const was = this.blockedReason;
    this.blockedReason = reason;
    if (reason !== undefined) this.options.logger.warn({ reason }, 'broker blocked this connection (resource alarm): dead letters, receipts and acks wait until it unblocks');
    else if (was !== undefined && this.live) this.options.logger.info('broker unblocked this connection');
    this.options.onBlockedChange?.(reason);
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
      // close() ends the wait: it closes the connection itself (or drops it past its deadline).
      const reason = await Promise.race([lost, whenAborted(this.stopController.signal).then(() => 'closing')]);
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
    const connecting = amqpConnect(connectionOptions(url, options.heartbeatSeconds), {
      clientProperties: { connection_name: options.connectionName },
      // Acks, receipts and confirms are small frames: Nagle's algorithm would hold them back
      // behind the broker's delayed ACKs (up to 40 ms each).
      noDelay: true,
      timeout: 10_000,
    });
    // close() does not wait for a handshake (a slow broker, a proxy holding the connection):
    // the connection is abandoned, and closed when the handshake ends.
    const model = await Promise.race([connecting, whenAborted(this.stopController.signal).then(() => undefined)]);
    if (!model) {
      connecting.then((late) => late.close().catch(() => {}), () => {});
      throw new SessionClosedError();
    }
    this.opening = model;
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
    // A blocked notice can come before the channels are up (an alarm already raised).
    let blockedReason: string | undefined;
    const onBlocked = (reason: string | undefined) => {
      blockedReason = reason;
      if (this.live === live) this.setBlocked(reason);
    };
    model.on('blocked', (reason: unknown) => onBlocked(String(reason)));
    model.on('unblocked', () => onBlocked(undefined));
    const ensureOpen = () => {
      if (this.closing) throw new SessionClosedError();
    };
    try {
      const { consumeChannel, publishChannel } = await openChannels(model, options, ensureOpen);
      for (const channel of [consumeChannel, publishChannel]) {
        channel.on('error', (error: Error) => drop(`channel error: ${describeAmqpError(error)}`));
        channel.on('close', () => drop('channel closed'));
      }
      live.consumeChannel = consumeChannel;
      live.publishChannel = publishChannel;
      live.publisher = new ConfirmedPublisher(publishChannel, String(this.generationCounter + 1));
      live.acks = new AckBatcher(consumeChannel);
      this.setLive(live as Live);
      if (blockedReason !== undefined) this.setBlocked(blockedReason);
      const generation = this.generationCounter;
      ensureOpen();
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
      ensureOpen();
      this.setState('consuming');
      this.opening = undefined;
      return { lost };
    } catch (error) {
      this.opening = undefined;
      model.removeAllListeners('close');
      model.on('error', () => {});
      if (this.live === live) this.setLive(undefined);
      if (!(await withDeadline(model.close(), CLOSE_DEADLINE_MS).catch(() => true))) destroyConnection(model);
      throw error;
    }
  }
}
