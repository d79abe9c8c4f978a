#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package-paths.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';
import { runCommand } from './run.js';
import { checkConfigCommand } from './check-config.js';
import { renderCommand } from './render.js';
import { listenCommand } from './listen.js';
import { CHARSETS, type Charset } from '../hl7/charset.js';
import { deadLettersCommand } from './dead-letters.js';
import { replayCommand } from './replay.js';
import { backfillCommand } from './backfill.js';
import { releaseCommand } from './release.js';

/** Operator commands parse their own options and print their own --help. */
const OPERATOR_COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  'dead-letters': deadLettersCommand,
  replay: replayCommand,
  backfill: backfillCommand,
  release: releaseCommand,
};

const USAGE = `Usage: mllp-dispatcher [command] [options]

Commands:
  run                      run the daemon (default)
  check-config             validate the configuration; print it with secrets masked
  render <event.json>      print the HL7 a subscription would send for an event
  listen                   a local MLLP test receiver that prints what it gets
  dead-letters             what waits in a subscription's dead-letter queue (see dead-letters --help)
  replay                   move dead letters back into their subscription's queue (see replay --help)
  backfill FILE...         load a subscription's receiver with existing patients (see backfill --help)
  release                  end a patient's hold after a dead letter (see release --help)

Options:
  --config FILE            configuration file (or env MLLP_DISPATCHER_CONFIG)
  --subscription NAME      render: the subscription to render for
  --charset CHARSET        render: send in this charset instead of the subscription's;
                           listen: decode messages and encode ACKs in it (default UTF-8)
                           (UTF-8, ISO-8859-1, Windows-1252, ASCII)
  --bytes                  render: also print the framed bytes, as a hex dump
  --port P                 listen: port (default 2575)
  --host H                 listen: address (default 127.0.0.1)
  --tls                    listen: TLS (certificates from certs/dev, see npm run certs)
  --cert F --key F         listen: server certificate and key for --tls
  --ca F                   listen: require client certificates signed by this CA
  --ack AA|AE|AR|none      listen: what to answer (default AA)
  --help, --version

Exit codes: 0 clean stop, 78 configuration error, 64 bad command line, 1 anything else.
`;

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  const command = first === undefined || first.startsWith('-') ? 'run' : first;
  const rest = command === first ? argv.slice(1) : argv;
  const operator = OPERATOR_COMMANDS[command];
  if (operator) return operator(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      subscription: { type: 'string', short: 's' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      tls: { type: 'boolean' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      ack: { type: 'string' },
      charset: { type: 'string' },
      bytes: { type: 'boolean' },
      now: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT_OK;
  }
  switch (command) {
    case 'run':
      expectPositionals(positionals, 0, command);
      return runCommand({ configFile: values.config });
    case 'check-config':
      expectPositionals(positionals, 0, command);
      return checkConfigCommand({ configFile: values.config });
    case 'render': {
      expectPositionals(positionals, 1, command);
      const now = values.now ? new Date(values.now) : undefined;
      if (now && Number.isNaN(now.getTime())) throw new UsageError('--now must be an ISO 8601 date-time');
      return renderCommand({
        eventFile: positionals[0]!,
        subscription: values.subscription,
        configFile: values.config,
        now,
        charset: charsetOption(values.charset),
        bytes: values.bytes ?? false,
      });
    }
    case 'listen': {
      expectPositionals(positionals, 0, command);
      const port = /^\d+$/.test(values.port ?? '2575') ? Number(values.port ?? 2575) : Number.NaN;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a port number');
      const ack = (values.ack ?? 'AA').toUpperCase();
      if (ack !== 'AA' && ack !== 'AE' && ack !== 'AR' && ack !== 'NONE') throw new UsageError('--ack must be AA, AE, AR or none');
      const receiver = await listenCommand({
        port,
        host: values.host ?? '127.0.0.1',
        tls: values.tls ?? false,
        ack: ack === 'NONE' ? 'none' : ack,
        cert: values.cert,
        key: values.key,
        ca: values.ca,
        charset: charsetOption(values.charset) ?? 'UTF-8',
      });
      return new Promise((resolveExit) => {
        const stop = () => void receiver.close().then(() => resolveExit(EXIT_OK));
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function charsetOption(value: string | undefined): Charset | undefined {
  if (value === undefined) return undefined;
  const charset = CHARSETS.find((name) => name.toLowerCase() === value.toLowerCase());
  if (!charset) throw new UsageError(`--charset must be one of ${CHARSETS.join(', ')}`);
  return charset;
}

function expectPositionals(positionals: string[], count: number, command: string): void {
  if (positionals.length !== count) {
    throw new UsageError(count === 0 ? `${command} takes no arguments` : `${command} needs exactly ${count} argument(s)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    const usage = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`mllp-dispatcher: ${error.message}\n${usage ? `\n${USAGE}` : ''}`);
    process.exitCode = usage ? EXIT_USAGE : EXIT_FAILURE;
  },
);
