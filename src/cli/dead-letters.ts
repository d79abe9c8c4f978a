import { deadLetterQueueName } from '../amqp/topology.js';
import type { DeadLetterRecord } from '../operations/dead-letter.js';
import { inspectDeadLetters, type DeadLetterReport } from '../operations/inspect.js';
import { readyCount } from '../operations/operator-broker.js';
import { holdingDeadLetters, parkedCount } from '../operations/release-request.js';
import { EXIT_OK } from './exit-codes.js';
import { operatorCommand, STANDARD_STREAMS, subscriptionFromConfig, withOperatorConnection, type CommandStreams } from './operator-command.js';

export const DEAD_LETTERS_USAGE = `Usage: mllp-dispatcher dead-letters --subscription NAME [--config FILE] [--list] [--json]

Shows what waits in mllp.NAME.dead without consuming it: counts by outcome and by reason,
the oldest and newest dead letter, and the patients held behind a dead letter
(holdPatientOnDeadLetter) with the number of events parked behind each. The queue is
unchanged afterwards, order included.

Options:
  --subscription NAME   the subscription (required)
  --config FILE         configuration file (or env MLLP_DISPATCHER_CONFIG)
  --list                one line per dead letter: event id, outcome, ACK code, control id,
                        attempts, dead-lettered at, reason
  --json                the report as JSON (for scripts)
  --help

Exit codes: 0 done, 64 bad command line, 78 configuration error, 1 broker problem.
`;

const OPTIONS = {
  subscription: { type: 'string', short: 's' },
  config: { type: 'string', short: 'c' },
  list: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** `mllp-dispatcher dead-letters`: see DEAD_LETTERS_USAGE and the README. */
export function deadLettersCommand(argv: string[], streams: CommandStreams = STANDARD_STREAMS): Promise<number> {
  return operatorCommand('dead-letters', DEAD_LETTERS_USAGE, OPTIONS, argv, streams, async (values) => {
    const { config, subscription } = subscriptionFromConfig(values.config, values.subscription);
    const queue = deadLetterQueueName(subscription.name);
    const report = await withOperatorConnection(config.amqp, `dead-letters ${subscription.name}`, async (model) => {
      await readyCount(model, queue);
      const inspected = await inspectDeadLetters(model, queue, values.list ?? false);
      const held: HeldPatient[] = [];
      for (const record of await holdingDeadLetters(model, queue)) {
        held.push({ eventId: record.eventId, holdKey: record.holdKey!, parked: await parkedCount(model, subscription.name, record.holdKey!) });
      }
      return { ...inspected, heldPatients: held };
    });
    streams.out.write(values.json ? `${JSON.stringify({ subscription: subscription.name, ...report }, null, 2)}\n` : formatReport(report));
    return EXIT_OK;
  });
}

/** A dead letter that held its patient; `parked` null once the hold has ended (its queue is gone). */
interface HeldPatient {
  eventId: string | null;
  holdKey: string;
  parked: number | null;
}

function formatReport(report: DeadLetterReport & { heldPatients: HeldPatient[] }): string {
  const lines = [`${report.queue}: ${report.total} dead letter(s)`];
  if (report.total > 0) {
    lines.push(`oldest ${report.oldest ?? 'unknown'}, newest ${report.newest ?? 'unknown'}`, '', 'by outcome:');
    for (const [outcome, count] of sortedByCount(report.byOutcome)) lines.push(`  ${String(count).padStart(7)}  ${outcome}`);
    lines.push('', 'by reason:');
    for (const [reason, count] of sortedByCount(report.byReason)) lines.push(`  ${String(count).padStart(7)}  ${reason}`);
  }
  const held = report.heldPatients.filter((patient) => patient.parked !== null);
  if (report.heldPatients.length > 0) {
    lines.push('', `held patients: ${held.length}`);
    for (const patient of report.heldPatients) {
      const state = patient.parked === null ? 'hold ended' : `holds patient ${patient.holdKey}, ${patient.parked} event(s) parked`;
      lines.push(`  ${patient.eventId ?? '-'}  ${state}`);
    }
  }
  if (report.deadLetters && report.deadLetters.length > 0) lines.push('', ...table(report.deadLetters));
  return `${lines.join('\n')}\n`;
}

function sortedByCount(counts: Record<string, number>): Array<[string, number]> {
  return Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

/** Aligned columns, one row per dead letter in queue order; the reason last (it may be long). */
export function table(records: readonly DeadLetterRecord[]): string[] {
  const header = ['EVENT ID', 'OUTCOME', 'ACK', 'CONTROL ID', 'ATTEMPTS', 'DEAD-LETTERED AT', 'REASON'];
  const rows = records.map((record) => [
    record.eventId ?? '-',
    record.outcome,
    record.ackCode ?? '-',
    record.controlId ?? '-',
    String(record.attempts),
    record.deadLetteredAt ?? '-',
    record.reason,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
}
