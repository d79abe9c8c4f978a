import { deadLetterQueueName, queueName } from '../amqp/topology.js';
import { DEAD_LETTER_OUTCOMES, type DeadLetterFilter } from '../operations/dead-letter.js';
import { readyCount } from '../operations/operator-broker.js';
import { replayDeadLetters, type ReplayMode, type ReplayProgress, type ReplaySummary } from '../operations/replay.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './exit-codes.js';
import { table } from './dead-letters.js';
import { operatorCommand, STANDARD_STREAMS, subscriptionFromConfig, withOperatorConnection, type CommandStreams } from './operator-command.js';
import { lazyProgress } from './progress.js';

export const REPLAY_USAGE = `Usage: mllp-dispatcher replay --subscription NAME [--config FILE] [filters] [--dry-run] [--limit N]
       mllp-dispatcher replay --subscription NAME [filters] --discard --yes

Moves dead letters of mllp.NAME.dead back into the subscription's own queue mllp.NAME (no
other subscription sees them), each published with a broker confirm before its dead letter
is acknowledged. The event keeps its body, event id and properties (the same MSH-10 goes
out) and is handled under the subscription's current configuration. Dead letters that do
not match stay where they were, in order.

Filters (all given must match; --outcome and --event-id may be repeated):
  --outcome OUTCOME        ${DEAD_LETTER_OUTCOMES.join(', ')}
  --event-id ID            the event id (AMQP message id)
  --since TIME             dead-lettered at or after TIME (ISO 8601, e.g. 2026-03-15T14:00:00Z)
  --until TIME             dead-lettered before TIME
  --reason-contains TEXT   the reason contains TEXT (case-insensitive)

Options:
  --subscription NAME      the subscription (required)
  --config FILE            configuration file (or env MLLP_DISPATCHER_CONFIG)
  --limit N                replay (or discard) at most N dead letters
  --dry-run                list what would be replayed; change nothing
  --discard                remove the matching dead letters instead of replaying them
                           (for those dealt with by hand); needs --yes. A dead letter that
                           holds its patient (holdPatientOnDeadLetter) releases the hold:
                           the patient's parked events are sent
  --yes                    confirms --discard
  --help

Progress goes to stderr (a bar on a terminal, a line a second otherwise), the summary to
stdout. Exit codes: 0 done, 1 a dead letter could not be replayed or the run was
interrupted (the summary says how far it got; nothing is lost), 64 bad command line,
78 configuration error.
`;

const OPTIONS = {
  subscription: { type: 'string', short: 's' },
  config: { type: 'string', short: 'c' },
  outcome: { type: 'string', multiple: true },
  'event-id': { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  'reason-contains': { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean' },
  discard: { type: 'boolean' },
  yes: { type: 'boolean' },
} as const;

/** `mllp-dispatcher replay`: see REPLAY_USAGE and the README. */
export function replayCommand(argv: string[], streams: CommandStreams = STANDARD_STREAMS): Promise<number> {
  return operatorCommand('replay', REPLAY_USAGE, OPTIONS, argv, streams, async (values) => {
    const filter = readFilter(values);
    const limit = values.limit === undefined ? undefined : positiveInteger(values.limit, '--limit');
    if (values.discard && values['dry-run']) throw new UsageError('--discard and --dry-run exclude each other (try --dry-run alone to see what --discard would remove)');
    if (values.discard && !values.yes) throw new UsageError('--discard removes dead letters for good: add --yes to confirm');
    if (values.yes && !values.discard) throw new UsageError('--yes only confirms --discard');
    const mode: ReplayMode = values.discard ? 'discard' : values['dry-run'] ? 'dry-run' : 'replay';
    const { config, subscription } = subscriptionFromConfig(values.config, values.subscription);
    const deadQueue = deadLetterQueueName(subscription.name);
    const targetQueue = queueName(subscription.name);

    const progress = lazyProgress(mode, streams.err);
    const summary: ReplaySummary = await withOperatorConnection(
      config.amqp,
      `replay ${subscription.name}`,
      async (model, interrupted) => {
        await readyCount(model, deadQueue);
        if (mode !== 'dry-run') await readyCount(model, targetQueue);
        return replayDeadLetters({
          model,
          deadQueue,
          targetQueue,
          filter,
          ...(limit !== undefined ? { limit } : {}),
          mode,
          signal: interrupted,
          onProgress: (state) => progress.update(state.total, state.scanned, describe(mode, state)),
        });
      },
    );
    progress.stop();
    if (mode === 'dry-run' && summary.records.length > 0) streams.out.write(`${table(summary.records).join('\n')}\n`);
    const verb = mode === 'replay' ? `replay of ${deadQueue} into ${targetQueue}` : mode === 'discard' ? `discard from ${deadQueue}` : `dry run on ${deadQueue} (nothing changed)`;
    streams.out.write(`${verb}: ${describe(mode, summary)}, scanned ${summary.scanned} of ${summary.total}\n`);
    if (summary.holdsReleased > 0) streams.out.write(`released ${summary.holdsReleased} held patient(s): their parked events are sent in order (docs/PATIENT-HOLD.md)\n`);
    if (limit !== undefined && summary.taken >= limit && summary.scanned < summary.total) streams.out.write(`stopped at --limit ${limit}: the dead letters behind were not looked at\n`);
    if (summary.interrupted) streams.out.write(`interrupted: the dead letters not yet looked at stay in ${deadQueue}\n`);
    if (summary.error) streams.err.write(`mllp-dispatcher replay: stopped: ${summary.error}; dead letters not replayed stay in ${deadQueue}\n`);
    return summary.failed > 0 || summary.interrupted || summary.error ? EXIT_FAILURE : EXIT_OK;
  });
}

function describe(mode: ReplayMode, state: ReplayProgress): string {
  const taken = mode === 'replay' ? 'replayed' : mode === 'discard' ? 'discarded' : 'would replay';
  return `${taken} ${state.taken}, skipped ${state.skipped}, failed ${state.failed}`;
}

function readFilter(values: { outcome?: string[]; 'event-id'?: string[]; since?: string; until?: string; 'reason-contains'?: string }): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (values.outcome) {
    for (const outcome of values.outcome) {
      if (!DEAD_LETTER_OUTCOMES.includes(outcome)) throw new UsageError(`--outcome must be one of ${DEAD_LETTER_OUTCOMES.join(', ')}`);
    }
    filter.outcomes = values.outcome;
  }
  if (values['event-id']) filter.eventIds = values['event-id'];
  if (values.since !== undefined) filter.since = instant(values.since, '--since');
  if (values.until !== undefined) filter.until = instant(values.until, '--until');
  if (filter.since && filter.until && filter.since >= filter.until) throw new UsageError('--until must be later than --since');
  if (values['reason-contains'] !== undefined) {
    if (values['reason-contains'] === '') throw new UsageError('--reason-contains must not be empty');
    filter.reasonContains = values['reason-contains'];
  }
  return filter;
}

function instant(text: string, option: string): Date {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) throw new UsageError(`${option} must be an ISO 8601 date or date-time, e.g. 2026-03-15T14:00:00Z`);
  return date;
}

function positiveInteger(text: string, option: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${option} must be a whole number of at least 1`);
  return Number(text);
}
