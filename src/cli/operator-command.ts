import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type AppConfig } from '../config/load-config.js';
import type { SubscriptionConfig } from '../config/subscription.js';
import type { ChannelModel } from 'amqplib';
import { connectForOperator, OperatorBrokerError } from '../operations/operator-broker.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';

/** Where an operator command writes: results on `out`, progress and problems on `err`. */
export interface CommandStreams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export const STANDARD_STREAMS: CommandStreams = { out: process.stdout, err: process.stderr };

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Runs an operator command (`dead-letters`, `replay`): parses its own options strictly,
 * prints its usage for `--help`, and maps failures to exit codes: a malformed command line
 * 64 (the message names the option), a configuration problem 78, a broker problem 1.
 */
export async function operatorCommand<O extends Options>(
  name: string,
  usage: string,
  options: O,
  argv: string[],
  streams: CommandStreams,
  body: (values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'], positionals: string[]) => Promise<number>,
  takesFiles = false,
): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }));
    if (!takesFiles && positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}" (${name} takes options only)`);
  } catch (error) {
    streams.err.write(`mllp-dispatcher ${name}: ${(error as Error).message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  // `dead-letters --list | head`: the reader went away; the queue is unchanged either way.
  streams.out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(EXIT_OK);
  });
  if ((values as { help?: boolean }).help) {
    streams.out.write(usage);
    return EXIT_OK;
  }
  try {
    return await body(values as never, positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      streams.err.write(`mllp-dispatcher ${name}: ${error.message}\n\n${usage}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      streams.err.write(`mllp-dispatcher ${name}: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    if (error instanceof OperatorBrokerError) {
      streams.err.write(`mllp-dispatcher ${name}: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}

/** The configuration and the named subscription in it; a name it does not have is a configuration error (78). */
export function subscriptionFromConfig(configFile: string | undefined, name: string | undefined): { config: AppConfig; subscription: SubscriptionConfig } {
  if (name === undefined) throw new UsageError('--subscription NAME is required');
  const config = loadConfig({ configFile });
  const subscription = config.subscriptions.find((sub) => sub.name === name);
  if (!subscription) {
    throw new ConfigError([`subscriptions: no subscription named "${name}" (configured: ${config.subscriptions.map((sub) => sub.name).join(', ')})`]);
  }
  return { config, subscription };
}

/**
 * Connects for an operator command, runs `work`, closes the connection. Ctrl-C and SIGTERM
 * abort the signal handed to `work`, which then finishes the item in hand and returns its
 * summary.
 */
export async function withOperatorConnection<T>(amqp: AppConfig['amqp'], label: string, work: (model: ChannelModel, signal: AbortSignal) => Promise<T>): Promise<T> {
  const model = await connectForOperator(amqp, label);
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(model, interrupt.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await model.close().catch(() => {});
  }
}
