import { connect, type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { connectionOptions } from '../amqp/connection-options.js';
import { declareTopology, deadLetterQueueName, queueName, TopologyConflictError } from '../amqp/topology.js';
import type { AppConfig } from '../config/load-config.js';
import { maskUrlPassword } from '../config/load-config.js';
import type { SubscriptionConfig } from '../config/subscription.js';
import { backoffDelay } from '../delivery/policy.js';
import type { DispatcherMetrics } from '../observability/metrics.js';
import { sleep } from '../util/sleep.js';
import { maskUrls } from './operator-broker.js';

/** A paused subscription as `/readyz` shows it: it consumes nothing and is ready. */
export interface PausedStatus {
  name: string;
  paused: true;
  broker: 'connecting' | 'connected' | 'closed';
  consuming: false;
  /** Events waiting in `mllp.<name>` at the last poll. */
  eventsWaiting: number | null;
}

/** `mllp_subscription_paused`: 1 while a subscription is paused (`"paused": true`), 0 while it runs. */
export function pausedGauge(metrics: DispatcherMetrics): Gauge<'subscription'> {
  const existing = metrics.registry.getSingleMetric('mllp_subscription_paused');
  if (existing) return existing as Gauge<'subscription'>;
  return new Gauge({
    name: 'mllp_subscription_paused',
    help: 'Whether the subscription is paused ("paused": true): its events wait in the queue.',
    labelNames: ['subscription'],
    registers: [metrics.registry],
  });
}

export interface PausedFeedOptions {
  subscription: SubscriptionConfig;
  amqp: AppConfig['amqp'];
  metrics: DispatcherMetrics;
  logger: Logger;
  onFatal: (error: Error) => void;
}

/**
 * A subscription with `"paused": true` (README, "Pause and resume a feed"). It does not
 * consume: events wait in `mllp.<name>` in order, none acknowledged. It still declares the
 * topology (unless `amqp.declare` is false), so that a subscription paused from its first
 * start keeps every event published meanwhile, and it polls the depth of its two queues
 * for `mllp_queue_messages`. Resuming (SIGHUP with `paused` removed) replaces it with the
 * subscription's runner, which consumes from the head of the queue.
 */
export class PausedFeed {
  readonly name: string;
  private state: PausedStatus['broker'] = 'connecting';
  private waiting: number | null = null;
  private model: ChannelModel | undefined;
  private readonly stopController = new AbortController();
  private loopDone: Promise<void> | undefined;

  constructor(private readonly options: PausedFeedOptions) {
    this.name = options.subscription.name;
    const labels = { subscription: this.name };
    pausedGauge(options.metrics).set(labels, 1);
    for (const gauge of [options.metrics.consuming, options.metrics.activeConsumer, options.metrics.brokerConnected]) gauge.set(labels, 0);
  }

  start(): void {
    this.options.logger.info({ subscription: this.name, queue: queueName(this.name) }, 'subscription paused: events wait in the queue');
    this.loopDone ??= this.loop();
  }

  status(): PausedStatus {
    return { name: this.name, paused: true, broker: this.state, consuming: false, eventsWaiting: this.waiting };
  }

  /** Closes the broker connection; `graceMs` is accepted for symmetry with a runner (nothing is in flight). */
  async stop(_graceMs?: number): Promise<void> {
    this.stopController.abort();
    this.state = 'closed';
    await this.model?.close().catch(() => {});
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const { amqp, subscription, metrics } = this.options;
    const signal = this.stopController.signal;
    let failures = 0;
    while (!signal.aborted) {
      const url = amqp.urls[failures % amqp.urls.length]!;
      try {
        const model = await connect(connectionOptions(url, amqp.heartbeatSeconds), { clientProperties: { connection_name: `mllp-dispatcher ${this.name} (paused)` }, timeout: 10_000 });
        model.on('error', () => {});
        this.model = model;
        if (signal.aborted) break;
        const lost = new Promise<void>((resolve) => model.once('close', () => resolve()));
        const channel = await model.createChannel();
        channel.on('error', () => {});
        if (amqp.declare) {
          await declareTopology(channel, {
            subscription: this.name,
            eventsExchange: amqp.exchange,
            deadLetterExchange: amqp.deadLetterExchange,
            receiptsExchange: amqp.receiptsExchange,
            events: subscription.events,
            queueType: amqp.queueType,
          });
        }
        failures = 0;
        this.state = 'connected';
        metrics.brokerConnected.set({ subscription: this.name }, 1);
        while (!signal.aborted) {
          await this.poll(model);
          const stopped = await Promise.race([lost.then(() => 'lost' as const), sleep(amqp.queuePollMs, signal).then(() => 'tick' as const)]);
          if (stopped === 'lost') break;
        }
      } catch (error) {
        if (error instanceof TopologyConflictError) {
          this.options.onFatal(error);
          return;
        }
        if (signal.aborted) break;
        failures++;
        this.options.logger.warn({ subscription: this.name, broker: maskUrlPassword(url), err: maskUrls((error as Error).message) }, 'paused subscription: cannot reach the broker');
      }
      if (signal.aborted) break;
      this.state = 'connecting';
      metrics.brokerConnected.set({ subscription: this.name }, 0);
      await this.model?.close().catch(() => {});
      await sleep(backoffDelay(Math.max(failures, 1), amqp.reconnect), signal);
    }
    // A connection opened while stop() was already waiting.
    await this.model?.close().catch(() => {});
  }

  private async poll(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', () => {});
    try {
      for (const [queue, label] of [[queueName(this.name), 'events'], [deadLetterQueueName(this.name), 'dead']] as const) {
        const { messageCount } = await channel.checkQueue(queue);
        if (label === 'events') this.waiting = messageCount;
        this.options.metrics.queueMessages.set({ subscription: this.name, queue: label }, messageCount);
      }
    } catch {
      // A queue not declared (amqp.declare false): the depth stays unknown.
    } finally {
      await channel.close().catch(() => {});
    }
  }
}
