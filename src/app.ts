import type { Logger } from 'pino';
import type { AppConfig } from './config/load-config.js';
import { createEventDecoder, type EventDecoder } from './event/decode-event.js';
import { DispatcherMetrics } from './observability/metrics.js';
import { HealthServer, type Readiness } from './observability/http-server.js';
import { SubscriptionRunner, type SubscriptionRunnerOptions, type SubscriptionStatus } from './runner/subscription-runner.js';

export interface DaemonOptions {
  config: AppConfig;
  logger: Logger;
  /** The broker refuses our topology, or something else that a restart cannot fix: exit 78. */
  onFatal: (error: Error) => void;
  metrics?: DispatcherMetrics;
  createSender?: SubscriptionRunnerOptions['createSender'];
}

/**
 * The composition root: builds one runner per subscription and the HTTP server, and
 * owns their lifecycle. Nothing else constructs long-lived parts.
 */
export class Daemon {
  readonly metrics: DispatcherMetrics;
  private readonly runners = new Map<string, SubscriptionRunner>();
  private readonly http: HealthServer;
  private readonly decodeEvent: EventDecoder;
  private config: AppConfig;
  private stopping: Promise<void> | undefined;
  private httpPort: number | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.config = options.config;
    this.metrics = options.metrics ?? new DispatcherMetrics();
    this.decodeEvent = createEventDecoder({ maxMessageBytes: options.config.amqp.maxMessageBytes });
    this.http = new HealthServer({
      port: options.config.http.port,
      host: options.config.http.host,
      registry: this.metrics.registry,
      readiness: () => this.readiness(),
    });
  }

  /** The port /healthz, /readyz and /metrics listen on (after start). */
  get port(): number | undefined {
    return this.httpPort;
  }

  async start(): Promise<void> {
    this.httpPort = await this.http.listen();
    for (const subscription of this.config.subscriptions) this.startRunner(subscription);
    this.options.logger.info({ httpPort: this.httpPort, subscriptions: [...this.runners.keys()] }, 'mllp-dispatcher started');
  }

  /**
   * Ready when every subscription has a broker connection and consumes its queue. The
   * body lists each subscription's state so a failing probe says what is wrong.
   */
  readiness(): Readiness {
    const subscriptions: Array<SubscriptionStatus & { problems: string[] }> = [];
    for (const runner of this.runners.values()) {
      const status = runner.status();
      const problems: string[] = [];
      if (status.broker === 'connecting') problems.push('not connected to the broker');
      else if (!status.consuming) problems.push(`not consuming (${status.broker})`);
      subscriptions.push({ ...status, problems });
    }
    const ready = this.stopping === undefined && subscriptions.every((status) => status.problems.length === 0);
    return { ready, status: this.stopping ? 'stopping' : ready ? 'ready' : 'not ready', subscriptions };
  }

  /** Graceful stop of every subscription in parallel, then the HTTP server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const graceMs = this.config.shutdownGraceMs;
      this.options.logger.info({ graceMs }, 'stopping: no new events; in-flight messages get the grace period');
      await Promise.all([...this.runners.values()].map((runner) => runner.stop(graceMs)));
      await this.http.close();
      this.options.logger.info('mllp-dispatcher stopped');
    })();
    return this.stopping;
  }

  private startRunner(subscription: AppConfig['subscriptions'][number]): void {
    const runner = new SubscriptionRunner({
      subscription,
      amqp: this.config.amqp,
      logger: this.options.logger,
      metrics: this.metrics,
      phi: this.config.log.phi,
      decodeEvent: this.decodeEvent,
      onFatal: this.options.onFatal,
      ...(this.options.createSender ? { createSender: this.options.createSender } : {}),
    });
    this.runners.set(subscription.name, runner);
    runner.start();
  }
}
