import type { ChannelModel, ConfirmChannel, GetMessage, Options } from 'amqplib';
import { matchesFilter, readDeadLetter, REPLAYS_HEADER, type DeadLetterFilter, type DeadLetterRecord } from './dead-letter.js';
import { scanQueue } from './operator-broker.js';
import { releaseRequest } from './release-request.js';

export type ReplayMode = 'replay' | 'discard' | 'dry-run';

export interface ReplayOptions {
  model: ChannelModel;
  /** `mllp.<subscription>.dead`. */
  deadQueue: string;
  /** `mllp.<subscription>`: the subscription's own queue, so no other subscription sees the event. */
  targetQueue: string;
  filter: DeadLetterFilter;
  /** At most this many matching dead letters are replayed (or discarded). */
  limit?: number;
  mode: ReplayMode;
  /** Aborting stops after the dead letter in hand. */
  signal?: AbortSignal;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface ReplayProgress {
  /** Dead letters in the queue when the replay started (the ones it looks at). */
  total: number;
  scanned: number;
  /** Replayed, discarded, or (dry run) that would be. */
  taken: number;
  skipped: number;
  failed: number;
}

export interface ReplaySummary extends ReplayProgress {
  mode: ReplayMode;
  /** Stopped by the signal before the end. */
  interrupted: boolean;
  /** The channel or connection failed: the replay stopped there (nothing is lost). */
  error?: string;
  /** The dead letters taken (replayed, discarded, or that a dry run would take), in queue order. */
  records: DeadLetterRecord[];
  /** Discard: held patients whose release was requested (docs/PATIENT-HOLD.md, step 5). */
  holdsReleased: number;
}

/** Dead-letter headers that describe the failure: a replayed event starts clean. */
const FAILURE_HEADERS = ['x-mllp-outcome', 'x-mllp-reason', 'x-mllp-ack-code', 'x-mllp-attempts', 'x-mllp-control-id', 'x-mllp-subscription', 'x-mllp-dead-lettered-at', 'x-mllp-publish-id'];

/**
 * Moves dead letters back into their subscription's own queue (README, "replay").
 *
 * The dead letters present at the start are taken one at a time, in queue order, on one
 * confirm channel: a match is published (mandatory, to the default exchange with the queue
 * name as routing key) and, once the broker confirmed it, the dead letter is acked; the next
 * dead letter is fetched on the same channel only after that ack. So at any moment at most
 * one dead letter is both published and still in the dead-letter queue: an interruption of
 * any kind (Ctrl-C, SIGKILL, a lost connection) loses nothing and duplicates at most that
 * one. Dead letters that do not match are left unacknowledged and return to their places,
 * in order, when the channel closes. `discard` acks matches without publishing; `dry-run`
 * acks nothing.
 *
 * The replayed event keeps its body, message id (the event id, hence the same MSH-10) and
 * properties, and the original routing key in `x-mllp-routing-key`; the failure headers are
 * dropped and `x-mllp-replays` counts the replays. A dead letter that holds its patient
 * (`x-mllp-hold-key`) keeps that header: the daemon sends it, then the patient's parked
 * events. Discarding such a dead letter first publishes a release request into the
 * subscription's queue (confirmed), so the held events follow in queue order.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplaySummary> {
  const channel: ConfirmChannel = await options.model.createConfirmChannel();
  let closedReason: Error | undefined;
  channel.on('error', (error: Error) => (closedReason = error));
  let returned = false;
  channel.on('return', () => (returned = true));
  const { messageCount: total } = await channel.checkQueue(options.deadQueue);
  const progress: ReplayProgress = { total, scanned: 0, taken: 0, skipped: 0, failed: 0 };
  const records: DeadLetterRecord[] = [];
  let holdsReleased = 0;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  options.onProgress?.({ ...progress });

  let failure: Error | undefined;
  await scanQueue(
    channel,
    options.deadQueue,
    total,
    async (message) => {
      progress.scanned++;
      const record = readDeadLetter(message);
      if (!matchesFilter(record, options.filter)) {
        progress.skipped++;
      } else if (options.mode === 'dry-run') {
        progress.taken++;
        records.push(record);
      } else {
        if (options.mode === 'replay') {
          returned = false;
          const confirmed = await publishConfirmed(channel, options.targetQueue, message.content, replayProperties(message));
          if (!confirmed || returned) {
            // Refused or unroutable: the dead letter stays (it returns to its place at the end).
            progress.failed++;
            options.onProgress?.({ ...progress });
            return closedReason ? 'stop' : 'continue';
          }
        } else if (record.holdKey !== undefined && record.eventId !== null) {
          returned = false;
          const { content, properties } = releaseRequest(record.eventId, record.holdKey);
          if (!(await publishConfirmed(channel, options.targetQueue, content, properties)) || returned) {
            progress.failed++;
            options.onProgress?.({ ...progress });
            return closedReason ? 'stop' : 'continue';
          }
          holdsReleased++;
        }
        channel.ack(message);
        progress.taken++;
        records.push(record);
      }
      options.onProgress?.({ ...progress });
      // At the limit: the dead letters behind are not even fetched.
      return progress.taken >= limit ? 'stop' : 'continue';
    },
    options.signal,
  ).catch((error: Error) => (failure = error));
  const interrupted = options.signal?.aborted === true && progress.scanned < total && progress.taken < limit;
  // Closing returns every dead letter not acked to its place; the acks sent before it are
  // processed first (same channel).
  await channel.close().catch(() => {});
  const summary: ReplaySummary = { ...progress, mode: options.mode, interrupted, records, holdsReleased };
  const error = closedReason ?? failure;
  if (error) summary.error = error.message;
  return summary;
}

function publishConfirmed(channel: ConfirmChannel, queue: string, content: Buffer, properties: Options.Publish): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      channel.publish('', queue, content, { ...properties, mandatory: true }, (error) => resolve(!error));
    } catch {
      resolve(false);
    }
  });
}

export function replayProperties(message: Pick<GetMessage, 'properties' | 'fields'>): Options.Publish {
  const original = message.properties;
  const headers: Record<string, unknown> = { ...((original.headers ?? {}) as Record<string, unknown>) };
  const replays = Number(headers[REPLAYS_HEADER] ?? 0) || 0;
  for (const header of FAILURE_HEADERS) delete headers[header];
  headers[REPLAYS_HEADER] = replays + 1;
  const properties: Options.Publish = { persistent: true, mandatory: true, headers };
  if (original.contentType) properties.contentType = original.contentType;
  if (original.contentEncoding) properties.contentEncoding = original.contentEncoding;
  if (original.messageId) properties.messageId = original.messageId;
  if (original.correlationId) properties.correlationId = original.correlationId;
  if (original.timestamp) properties.timestamp = original.timestamp;
  if (original.type) properties.type = original.type;
  if (original.appId) properties.appId = original.appId;
  return properties;
}
