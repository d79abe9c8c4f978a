import type { Logger } from 'pino';
import type { AppConfig } from './config/load-config.js';
import { createEventDecoder, type EventDecoder } from './event/decode-event.js';
import { DispatcherMetrics } from './observability/metrics.js';
import { HealthServer, type Readiness } from './observability/http-server.js';
import { forgetFetchMetrics } from './fhir/fetch-metrics.js';
import { SubscriptionRunner, type SubscriptionStatus } from './runner/subscription-runner.js';
import { PausedFeed, pausedGauge, type PausedStatus } from './operations/paused-feed.js';
import { runSteps } from './util/lifecycle.js';

/** How long a stop waits for the HTTP server to close. */
const HTTP_CLOSE_DEADLINE_MS = 500;

export interface ReloadSummary {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export interface DaemonOptions {
  config: AppConfig;
  logger: Logger;
  /**
   * Something a restart of the subscription cannot fix: the broker refuses our topology
   * (exit 78), or a subscription's delivery thread died (exit 1).
   */
  onFatal: (error: Error) => void;
  metrics?: DispatcherMetrics;
}

/**
 * The composition root: builds one runner per subscription and the HTTP server, and
 * owns their lifecycle. Nothing else constructs long-lived parts.
 */
export class Daemon {
  readonly metrics: DispatcherMetrics;
  /** A paused subscription (`"paused": true`) has a PausedFeed in place of its runner. */
  private readonly runners = new Map<string, SubscriptionRunner | PausedFeed>();
  private readonly http: HealthServer;
  private readonly decodeEvent: EventDecoder;
  private config: AppConfig;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private reloading: Promise<void> = Promise.resolve();
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

  /** Listens for HTTP, then starts every subscription (none once a stop has begun). */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.httpPort = await this.http.listen();
      if (this.stopping) return;
      for (const subscription of this.config.subscriptions) this.startRunner(subscription);
      this.options.logger.info({ httpPort: this.httpPort, subscriptions: [...this.runners.keys()] }, 'mllp-dispatcher started');
    })();
    return this.starting;
  }

  /**
   * Ready when every subscription has a broker connection, consumes its queue, and (unless
   * `http.readinessIncludesReceivers` is false) can reach its receiver. A replica standing
   * by on a single-active-consumer queue is ready: `role` in the body says which
   * subscriptions this process is active for. The body lists each subscription's state so
   * a failing probe says what is wrong.
   */
  readiness(): Readiness {
    const subscriptions: Array<(SubscriptionStatus & { paused: false } | PausedStatus) & { problems: string[] }> = [];
    for (const runner of this.runners.values()) {
      if (runner instanceof PausedFeed) {
        // Paused on purpose: ready, and the body says so.
        subscriptions.push({ ...runner.status(), problems: [] });
        continue;
      }
      const status = runner.status();
      const problems: string[] = [];
      if (status.broker === 'connecting') problems.push('not connected to the broker');
      else if (!status.consuming) problems.push(`not consuming (${status.broker})`);
      if (status.brokerBlocked !== undefined) problems.push(`the broker blocks this connection (resource alarm): ${status.brokerBlocked}`);
      if (status.unroutableDeadLetters > 0) {
        problems.push(`${status.unroutableDeadLetters} dead letter(s) could not be routed: bind a queue to ${this.config.amqp.deadLetterExchange} with key ${status.name}`);
      }
      if (status.resolutionWaiting) {
        const { since, outcome, reason } = status.resolutionWaiting;
        problems.push(`reference events wait for their FHIR source since ${since} (${outcome}): ${reason}`);
      }
      if (this.config.http.readinessIncludesReceivers && !status.receiverUp) {
        problems.push(`receiver unreachable since ${status.receiverDownSince}: ${status.receiverError ?? 'connect failed'}`);
      }
      subscriptions.push({ ...status, paused: false, problems });
    }
    const ready = this.stopping === undefined && subscriptions.every((status) => status.problems.length === 0);
    return { ready, status: this.stopping ? 'stopping' : ready ? 'ready' : 'not ready', subscriptions };
  }

  /**
   * Live reload (SIGHUP): applies a new, already validated configuration. Subscriptions
   * that were added start; removed ones stop after their in-flight message settles; changed
   * ones stop the same way and start again; unchanged ones are not touched. The log level
   * applies at once; `http.*` changes need a restart. Reloads are serialised.
   */
  reload(next: AppConfig): Promise<ReloadSummary> {
    const run = this.reloading.then(() => this.applyReload(next));
    this.reloading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async applyReload(next: AppConfig): Promise<ReloadSummary> {
    if (this.stopping) return { added: [], removed: [], changed: [], unchanged: [...this.runners.keys()] };
    const previous = this.config;
    const fingerprint = (config: AppConfig, subscription: AppConfig['subscriptions'][number]) =>
      JSON.stringify([subscription.fingerprint, config.amqp, config.raw.hl7, config.log.phi, config.fhirSources]);
    const before = new Map(previous.subscriptions.map((sub) => [sub.name, fingerprint(previous, sub)]));
    const after = new Map(next.subscriptions.map((sub) => [sub.name, sub]));
    const summary: ReloadSummary = { added: [], removed: [], changed: [], unchanged: [] };
    for (const name of before.keys()) if (!after.has(name)) summary.removed.push(name);
    for (const [name, sub] of after) {
      const old = before.get(name);
      if (old === undefined) summary.added.push(name);
      else if (old !== fingerprint(next, sub)) summary.changed.push(name);
      else summary.unchanged.push(name);
    }
    if (JSON.stringify(previous.http) !== JSON.stringify(next.http)) {
      this.options.logger.warn('http settings changed: they take effect at the next restart');
    }
    this.options.logger.level = next.log.level;
    this.config = { ...next, http: previous.http };
    const graceMs = next.shutdownGraceMs;
    if (summary.removed.length + summary.changed.length > 0) this.options.logger.info(summary, 'reloading: stopping removed and changed subscriptions');
    // Runner stops are bounded (SubscriptionRunner.stop), so a reload always ends, and a
    // daemon stop that comes meanwhile shares the same stops (they are memoised).
    await Promise.all(
      [...summary.removed, ...summary.changed].map(async (name) => {
        await this.runners.get(name)?.stop(graceMs);
        this.runners.delete(name);
        this.metrics.forget(name);
        forgetFetchMetrics(this.metrics.registry, name);
        pausedGauge(this.metrics).remove({ subscription: name });
      }),
    );
    if (this.stopping) return summary;
    for (const name of [...summary.changed, ...summary.added]) this.startRunner(after.get(name)!);
    this.options.logger.info(summary, 'configuration reloaded');
    return summary;
  }

  /**
   * Graceful stop of every subscription in parallel, then the HTTP server. Memoised, never
   * rejects, safe in every state (starting, reloading, subscriptions connecting, backing
   * off, blocked), and done within `shutdown.graceMs` + STOP_MARGIN_MS + 0.5 s.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const graceMs = this.config.shutdownGraceMs;
      this.options.logger.info({ graceMs }, 'stopping: no new events; in-flight messages get the grace period');
      const stopAll = () => Promise.all([...this.runners.values()].map((runner) => runner.stop(graceMs)));
      await runSteps(this.options.logger, [
        { name: 'start', run: () => this.starting?.catch(() => {}) },
        { name: 'subscriptions', run: stopAll },
        // A reload in progress only waits for the stops above; it starts nothing any more.
        { name: 'reload', run: () => this.reloading },
        { name: 'HTTP server', run: () => this.http.close(), deadlineMs: HTTP_CLOSE_DEADLINE_MS },
      ]);
      this.options.logger.info('mllp-dispatcher stopped');
    })();
    return this.stopping;
  }

  private startRunner(subscription: AppConfig['subscriptions'][number]): void {
    if (subscription.paused) {
      const paused = new PausedFeed({ subscription, amqp: this.config.amqp, metrics: this.metrics, logger: this.options.logger, onFatal: this.options.onFatal });
      this.runners.set(subscription.name, paused);
      paused.start();
      return;
    }
    pausedGauge(this.metrics).set({ subscription: subscription.name }, 0);
    const runner = new SubscriptionRunner({
      subscription,
      amqp: this.config.amqp,
      logger: this.options.logger,
      metrics: this.metrics,
      phi: this.config.log.phi,
      decodeEvent: this.decodeEvent,
      fhirSources: this.config.fhirSources,
      onFatal: this.options.onFatal,
    });
    this.runners.set(subscription.name, runner);
    runner.start();
  }
}
