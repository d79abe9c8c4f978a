import { Daemon } from '../app.js';
import { ConfigError, describeConfig, loadConfig, type AppConfig } from '../config/load-config.js';
import { createLogger, flushLogsSync } from '../observability/logger.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { TopologyConflictError } from '../amqp/topology.js';
import { STOP_MARGIN_MS } from '../runner/subscription-runner.js';
import { applyHeapBudget, DEFAULT_HEAP_BUDGET } from '../util/heap-budget.js';

/**
 * The daemon's stop is bounded (Daemon.stop: graceMs + STOP_MARGIN_MS + 0.5 s); this
 * backstop exits anyway, with 1, should a bug keep it from ending. The broker requeues
 * whatever was not acknowledged when the process's connections close.
 */
const BACKSTOP_MARGIN_MS = STOP_MARGIN_MS + 800;

/**
 * `mllp-dispatcher run`: the daemon. Resolves with the exit code once it has stopped.
 *
 * SIGHUP: live reload (see Daemon.reload).
 * SIGTERM / SIGINT: graceful stop (see Daemon.stop), exit 0 within `shutdown.graceMs` + 5 s
 * in every state (connecting, backing off, receiver down, reloading, broker blocked). A second signal during the
 * stop exits at once with 1; the broker then redelivers whatever was not acknowledged.
 * An uncaught error logs and exits 1 without acknowledging anything further.
 */
export async function runCommand(options: { configFile?: string | undefined }): Promise<number> {
  // Young and old generations bounded for the process's lifetime, so that peak RSS with a
  // backlog does not depend on the drain speed (src/util/heap-budget.ts).
  applyHeapBudget(DEFAULT_HEAP_BUDGET);
  let config: AppConfig;
  try {
    config = loadConfig({ configFile: options.configFile });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mllp-dispatcher: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  const logger = createLogger(config.log);
  logger.info({ config: describeConfig(config) }, 'configuration loaded');

  return new Promise<number>((resolve) => {
    let exitCode = EXIT_OK;
    let stopping = false;
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      const backstopMs = config.shutdownGraceMs + BACKSTOP_MARGIN_MS;
      setTimeout(() => {
        logger.error({ afterMs: backstopMs }, 'the stop did not end in time; exiting; unacknowledged events will be redelivered');
        flushLogsSync(logger);
        process.exit(EXIT_FAILURE);
      }, backstopMs).unref();
      daemon
        .stop()
        .catch((error: Error) => {
          logger.error({ err: error.message }, 'error while stopping');
          exitCode = EXIT_FAILURE;
        })
        .finally(() => {
          flushLogsSync(logger);
          resolve(exitCode);
          // Nothing outlives the stop: a broker connection abandoned in its handshake (closed
          // when the handshake ends) must not hold the process. Logs are flushed above.
          setImmediate(() => process.exit(exitCode));
        });
    };
    const daemon = new Daemon({
      config,
      logger,
      onFatal: (error) => {
        logger.fatal({ err: error.message }, error instanceof TopologyConflictError ? 'cannot run with this broker setup' : 'stopping after a fatal error');
        process.stderr.write(`mllp-dispatcher: ${error.message}\n`);
        stop(error instanceof TopologyConflictError ? EXIT_CONFIG : EXIT_FAILURE);
      },
    });
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now; unacknowledged events will be redelivered');
        flushLogsSync(logger);
        process.exit(EXIT_FAILURE);
      }
      logger.info({ signal }, 'signal received');
      stop(EXIT_OK);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // SIGHUP: re-read the configuration; an invalid one is refused and the old one keeps running.
    process.on('SIGHUP', () => {
      if (stopping) return;
      let next: AppConfig;
      try {
        next = loadConfig({ configFile: options.configFile });
      } catch (error) {
        const problems = error instanceof ConfigError ? error.problems : [(error as Error).message];
        logger.error({ problems }, 'reload refused: the new configuration is invalid; the running one stays');
        return;
      }
      daemon.reload(next).catch((error: Error) => logger.error({ err: error.message }, 'reload failed'));
    });
    process.on('uncaughtException', (error) => {
      logger.fatal({ err: { type: error.name, message: error.message, stack: error.stack } }, 'uncaught exception; exiting');
      flushLogsSync(logger);
      process.exit(EXIT_FAILURE);
    });
    process.on('unhandledRejection', (reason) => {
      const error = reason instanceof Error ? reason : new Error(String(reason));
      logger.fatal({ err: { type: error.name, message: error.message, stack: error.stack } }, 'unhandled rejection; exiting');
      flushLogsSync(logger);
      process.exit(EXIT_FAILURE);
    });
    daemon.start().catch((error: Error) => {
      logger.fatal({ err: error.message }, 'could not start');
      process.stderr.write(`mllp-dispatcher: could not start: ${error.message}\n`);
      stop(EXIT_FAILURE);
    });
  });
}
