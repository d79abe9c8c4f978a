import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { queueName } from '../amqp/topology.js';
import { createEventDecoder } from '../event/decode-event.js';
import { backfill, writeCheckpoint, type BackfillCheckpoint, type BackfillSummary } from '../operations/backfill.js';
import { readyCount } from '../operations/operator-broker.js';
import { EXIT_DATA, EXIT_FAILURE, EXIT_OK, UsageError } from './exit-codes.js';
import { operatorCommand, STANDARD_STREAMS, subscriptionFromConfig, withOperatorConnection, type CommandStreams } from './operator-command.js';
import { lazyProgress } from './progress.js';

export const BACKFILL_USAGE = `Usage: mllp-dispatcher backfill --subscription NAME [--config FILE] [--rate N] [--checkpoint FILE] FILE...
       mllp-dispatcher backfill --subscription NAME [--config FILE] [--rate N] --resume CHECKPOINT

Loads a receiver with an existing population: publishes the records of FILE... into the
subscription's own queue mllp.NAME (no other subscription sees them), in order, each with a
broker confirm. A file is NDJSON (one patient event, FHIR Patient or FHIR Bundle per line)
or one JSON document (a FHIR Bundle). A Patient becomes a create event with an id derived
from its content (the same input gives the same ids, hence the same MSH-10s).

Every record is validated before anything is published; invalid ones are listed by file and
line (Bundle entries by index), without their values, and are not published.

Options:
  --subscription NAME   the subscription (required)
  --config FILE         configuration file (or env MLLP_DISPATCHER_CONFIG)
  --rate N              publish at most N events per second
  --checkpoint FILE     where progress is recorded (default: backfill-NAME.checkpoint.json)
  --resume CHECKPOINT   continue an interrupted backfill from its checkpoint file (the
                        files and subscription come from it); confirmed events are not
                        published again
  --help

Progress goes to stderr (a bar with ETA on a terminal, a line a second otherwise), the
summary to stdout. Exit codes: 0 every record published; 65 every valid record published,
invalid ones skipped; 1 publishing stopped (interrupted, broker refused; resume with
--resume); 64 bad command line; 78 configuration error.
`;

const OPTIONS = {
  subscription: { type: 'string', short: 's' },
  config: { type: 'string', short: 'c' },
  rate: { type: 'string' },
  checkpoint: { type: 'string' },
  resume: { type: 'string' },
} as const;

/** `mllp-dispatcher backfill`: see BACKFILL_USAGE and the README. */
export function backfillCommand(argv: string[], streams: CommandStreams = STANDARD_STREAMS): Promise<number> {
  return operatorCommand('backfill', BACKFILL_USAGE, OPTIONS, argv, streams, async (values, files) => {
    const rate = values.rate === undefined ? undefined : positiveNumber(values.rate, '--rate');
    let checkpoint: BackfillCheckpoint;
    let checkpointFile: string;
    if (values.resume !== undefined) {
      if (files.length > 0) throw new UsageError('--resume takes the files from the checkpoint: give no FILE');
      checkpointFile = values.resume;
      checkpoint = readCheckpoint(checkpointFile);
      if (values.subscription !== undefined && values.subscription !== checkpoint.subscription) throw new UsageError(`--resume: the checkpoint is for subscription "${checkpoint.subscription}"`);
    } else {
      if (files.length === 0) throw new UsageError('give at least one FILE to backfill');
      if (values.subscription === undefined) throw new UsageError('--subscription NAME is required');
      checkpointFile = values.checkpoint ?? `backfill-${values.subscription}.checkpoint.json`;
      if (existsSync(checkpointFile)) throw new UsageError(`--checkpoint: ${checkpointFile} exists: continue it with --resume ${checkpointFile}, or remove it to start over`);
      for (const file of files) if (!existsSync(file)) throw new UsageError(`cannot read ${file}`);
      checkpoint = { version: 1, subscription: values.subscription, files: files.map((file) => resolve(file)), startedAt: new Date().toISOString(), confirmed: 0 };
    }
    const { config, subscription } = subscriptionFromConfig(values.config, checkpoint.subscription);
    if (values.resume === undefined) {
      try {
        writeCheckpoint(checkpointFile, checkpoint);
      } catch (error) {
        throw new UsageError(`--checkpoint: cannot write ${checkpointFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    const queue = queueName(subscription.name);
    const progress = lazyProgress('backfill', streams.err);
    const summary: BackfillSummary = await withOperatorConnection(config.amqp, `backfill ${subscription.name}`, async (model, interrupted) => {
      await readyCount(model, queue);
      return backfill({
        model,
        queue,
        checkpoint,
        checkpointFile,
        decode: createEventDecoder({ maxMessageBytes: config.amqp.maxMessageBytes }),
        ...(rate !== undefined ? { rate } : {}),
        signal: interrupted,
        onValidated: (invalid) => {
          for (const problem of invalid) streams.err.write(`${shown(problem.location)}: ${problem.reason}\n`);
        },
        onProgress: (state) => progress.update(state.total, state.confirmed, `published ${state.confirmed} of ${state.total}`),
      });
    });
    progress.stop();
    const resumed = summary.resumedAt > 0 ? ` (${summary.resumedAt} by an earlier run)` : '';
    streams.out.write(`backfill into ${queue}: published ${summary.confirmed} of ${summary.total} valid events${resumed}, invalid ${summary.invalid.length}, failed ${summary.failed}\n`);
    if (summary.confirmed < summary.total) {
      if (summary.error) streams.err.write(`mllp-dispatcher backfill: stopped: ${summary.error}\n`);
      streams.out.write(`not finished: continue with mllp-dispatcher backfill --resume ${checkpointFile}${values.config ? ` --config ${values.config}` : ''}\n`);
      return EXIT_FAILURE;
    }
    return summary.invalid.length > 0 ? EXIT_DATA : EXIT_OK;
  }, true);
}

/** Locations relative to the working directory when the file is below it (the checkpoint keeps absolute paths). */
function shown(location: string): string {
  const path = relative(process.cwd(), location);
  return path.startsWith('..') ? location : path;
}

function readCheckpoint(file: string): BackfillCheckpoint {
  let value: Partial<BackfillCheckpoint>;
  try {
    value = JSON.parse(readFileSync(file, 'utf8')) as Partial<BackfillCheckpoint>;
  } catch {
    throw new UsageError(`--resume: ${file} is not a readable checkpoint file`);
  }
  if (value.version !== 1 || typeof value.subscription !== 'string' || !Array.isArray(value.files) || typeof value.startedAt !== 'string' || !Number.isInteger(value.confirmed)) {
    throw new UsageError(`--resume: ${file} is not a backfill checkpoint`);
  }
  return value as BackfillCheckpoint;
}

function positiveNumber(text: string, option: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > 0)) throw new UsageError(`${option} must be a positive number (events per second)`);
  return value;
}
