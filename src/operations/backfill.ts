import { renameSync, writeFileSync } from 'node:fs';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { EventDecoder } from '../event/decode-event.js';
import { readBackfillInput } from './backfill-input.js';
import { sleep } from '../util/sleep.js';

/** What `--resume` continues from: the first `confirmed` valid events of these files are on the broker. */
export interface BackfillCheckpoint {
  version: 1;
  subscription: string;
  files: string[];
  /** The first run's start: the `occurredAt` of Patients without `meta.lastUpdated`, so a resumed run builds the same events. */
  startedAt: string;
  confirmed: number;
}

export interface BackfillProgress {
  /** Valid events in the input. */
  total: number;
  /** Confirmed by the broker, this run and earlier runs together. */
  confirmed: number;
}

export interface BackfillSummary extends BackfillProgress {
  invalid: Array<{ location: string; reason: string }>;
  /** Confirmed by an earlier run (skipped by --resume). */
  resumedAt: number;
  /** Published and refused by the broker (or returned unroutable). */
  failed: number;
  interrupted: boolean;
  error?: string;
}

export interface BackfillOptions {
  model: ChannelModel;
  /** The subscription's own queue, `mllp.<name>`. */
  queue: string;
  checkpoint: BackfillCheckpoint;
  checkpointFile: string;
  decode: EventDecoder;
  /** Events per second; as fast as confirms allow when unset. */
  rate?: number;
  signal?: AbortSignal;
  /** Called with the invalid records once the input is validated, before anything is published. */
  onValidated?: (invalid: BackfillSummary['invalid']) => void;
  /** Called once the input is validated, then as confirms arrive. */
  onProgress?: (progress: BackfillProgress) => void;
}

/** Publishes in flight without a confirm yet, at most. */
const WINDOW = 256;

/**
 * `backfill` (README): validates every input record first (a pass over all files that
 * publishes nothing), then publishes the valid events in input order into the
 * subscription's own queue (default exchange, mandatory, persistent, message id = event
 * id), at most WINDOW unconfirmed at a time. The checkpoint file is rewritten (write, then
 * rename) whenever the run of confirmed events from the start grows, so `--resume` skips
 * exactly what the broker confirmed; an event published whose confirm had not arrived at an
 * interruption is published again (same event id, same MSH-10). A refused publish stops
 * the run: the checkpoint never skips past an event that is not on the broker.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillSummary> {
  const { checkpoint } = options;
  const summary: BackfillSummary = { total: 0, confirmed: checkpoint.confirmed, invalid: [], resumedAt: checkpoint.confirmed, failed: 0, interrupted: false };
  for await (const item of readBackfillInput(checkpoint.files, options.decode, checkpoint.startedAt)) {
    if (item.ok) summary.total++;
    else summary.invalid.push({ location: item.location, reason: item.reason });
  }
  if (checkpoint.confirmed > summary.total) throw new Error(`the checkpoint says ${checkpoint.confirmed} events were confirmed, but the input has ${summary.total} valid events: it belongs to other input`);
  options.onValidated?.(summary.invalid);
  options.onProgress?.({ total: summary.total, confirmed: summary.confirmed });
  if (summary.confirmed === summary.total) return summary;
  writeCheckpoint(options.checkpointFile, checkpoint);

  const channel: ConfirmChannel = await options.model.createConfirmChannel();
  let failure: Error | undefined;
  channel.on('error', (error: Error) => (failure = error));
  channel.on('close', () => (failure ??= new Error('the broker closed the channel')));
  const returned = new Set<string>();
  channel.on('return', (message: { properties: { messageId?: string } }) => returned.add(String(message.properties.messageId)));

  const done = new Set<number>();
  let outstanding = 0;
  let wake: (() => void) | undefined;
  let flushQueued = false;
  const saveCheckpoint = () => {
    flushQueued = false;
    try {
      writeCheckpoint(options.checkpointFile, { ...checkpoint, confirmed: summary.confirmed });
    } catch (error) {
      // Publishing on without a record of it would publish it all again on --resume.
      failure ??= new Error(`cannot write the checkpoint ${options.checkpointFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    options.onProgress?.({ total: summary.total, confirmed: summary.confirmed });
  };
  const settled = (ordinal: number, ok: boolean) => {
    outstanding--;
    if (!ok) summary.failed++;
    else {
      done.add(ordinal);
      while (done.delete(summary.confirmed)) summary.confirmed++;
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(saveCheckpoint);
      }
    }
    wake?.();
  };
  const room = (limit: number) =>
    outstanding < limit || failure
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = () => {
            if (outstanding < limit || failure) {
              wake = undefined;
              resolve();
            }
          };
        });

  const started = Date.now();
  let ordinal = -1;
  let sent = 0;
  for await (const item of readBackfillInput(checkpoint.files, options.decode, checkpoint.startedAt)) {
    if (!item.ok) continue;
    ordinal++;
    if (ordinal < checkpoint.confirmed) continue;
    if (options.signal?.aborted || failure || summary.failed > 0) break;
    if (options.rate) {
      // Against the schedule from the start, waiting only when 2 ms or more ahead: a timer
      // per event would cap the rate near 1000/s (timers fire after 1 ms at the earliest).
      const ahead = started + (sent * 1000) / options.rate - Date.now();
      if (ahead >= 2) await sleep(ahead, options.signal ?? new AbortController().signal);
    }
    await room(WINDOW);
    if (options.signal?.aborted || failure || summary.failed > 0) break;
    const current = ordinal;
    const eventId = item.eventId;
    outstanding++;
    sent++;
    channel.publish('', options.queue, item.body, { persistent: true, mandatory: true, contentType: 'application/json', messageId: eventId, headers: { 'x-mllp-backfill': true, 'x-mllp-routing-key': `patient.${item.type}` } }, (error) =>
      settled(current, !error && !returned.delete(eventId)),
    );
  }
  await room(1);
  if (flushQueued) saveCheckpoint();
  summary.interrupted = options.signal?.aborted === true && summary.confirmed < summary.total;
  if (failure) summary.error = failure.message;
  await channel.close().catch(() => {});
  return summary;
}

export function writeCheckpoint(file: string, checkpoint: BackfillCheckpoint): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(checkpoint)}\n`);
  renameSync(`${file}.tmp`, file);
}
