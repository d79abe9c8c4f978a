import type { ChannelModel } from 'amqplib';
import { readDeadLetter, type DeadLetterRecord } from './dead-letter.js';
import { scanQueue } from './operator-broker.js';

/** What waits in a dead-letter queue (`dead-letters`): no body, no patient data. */
export interface DeadLetterReport {
  queue: string;
  total: number;
  byOutcome: Record<string, number>;
  byReason: Record<string, number>;
  /** Earliest and latest `x-mllp-dead-lettered-at`, null when the queue is empty. */
  oldest: string | null;
  newest: string | null;
  /** One entry per dead letter in queue order, when asked for. */
  deadLetters?: DeadLetterRecord[];
}

/**
 * Reads every dead letter of `queue` without consuming it: each is fetched unacknowledged
 * and all return to their places, in order, when the channel closes (README, "dead-letters").
 */
export async function inspectDeadLetters(model: ChannelModel, queue: string, list: boolean): Promise<DeadLetterReport> {
  const channel = await model.createChannel();
  let failure: Error | undefined;
  channel.on('error', (error: Error) => (failure = error));
  const report: DeadLetterReport = { queue, total: 0, byOutcome: {}, byReason: {}, oldest: null, newest: null };
  const records: DeadLetterRecord[] = [];
  try {
    const { messageCount } = await channel.checkQueue(queue);
    await scanQueue(channel, queue, messageCount, async (message) => {
      const record = readDeadLetter(message);
      report.total++;
      report.byOutcome[record.outcome] = (report.byOutcome[record.outcome] ?? 0) + 1;
      report.byReason[record.reason] = (report.byReason[record.reason] ?? 0) + 1;
      if (record.deadLetteredAt !== null) {
        if (report.oldest === null || record.deadLetteredAt < report.oldest) report.oldest = record.deadLetteredAt;
        if (report.newest === null || record.deadLetteredAt > report.newest) report.newest = record.deadLetteredAt;
      }
      if (list) records.push(record);
      return 'continue';
    });
  } finally {
    await channel.close().catch(() => {});
  }
  if (failure) throw failure;
  if (list) report.deadLetters = records;
  return report;
}
