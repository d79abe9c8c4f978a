import { writeFileSync } from 'node:fs';
import { TestBroker, testTopology, type CapturedMessage } from './broker.js';
import { configFor, InProcessDaemon, type DaemonProcess } from './daemon.js';
import { ScriptedReceiver } from './scripted-receiver.js';
import type { SubscriptionStatus } from '../../src/runner/subscription-runner.js';

/**
 * Helpers for tests with several subscriptions: reading receipts per subscription, fields of
 * the HL7 messages a receiver got, dates relative to today, a port nobody listens on, and
 * stopping a daemon process at the end of a test.
 */

/** The receipt body as published to `mllp.receipts` (README "Delivery and outcomes"). */
export interface ReceiptBody {
  eventId: string | null;
  subscription: string;
  controlId: string | null;
  trigger: string | null;
  outcome: string;
  ackCode: string | null;
  attempts: number;
  latencyMs: number | null;
  at: string;
}

/** The receipts of one subscription, in arrival order, each with its routing key checked by the caller. */
export function receiptsOf(receipts: readonly CapturedMessage[], subscription: string): Array<ReceiptBody & { routingKey: string }> {
  return receipts
    .filter((receipt) => receipt.routingKey.startsWith(`${subscription}.`))
    .map((receipt) => ({ ...receipt.json<ReceiptBody>(), routingKey: receipt.routingKey }));
}

/** Number of receipts per outcome, e.g. `{ accepted: 12, filtered: 3 }`. */
export function outcomeCounts(receipts: ReadonlyArray<{ outcome: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const receipt of receipts) counts[receipt.outcome] = (counts[receipt.outcome] ?? 0) + 1;
  return counts;
}

/** Field `n` (1-based, HL7 numbering: MSH-9 is `segmentField(text, 'MSH', 9)`) of the first segment named `segment`. */
export function segmentField(text: string, segment: string, n: number): string | undefined {
  const line = text.split('\r').find((candidate) => candidate.startsWith(`${segment}|`));
  if (!line) return undefined;
  const fields = line.split('|');
  // MSH-1 is the field separator itself, so MSH fields are shifted by one.
  return segment === 'MSH' ? fields[n - 1] : fields[n];
}

/** MSH-9 (message type), e.g. `ADT^A04^ADT_A01`. */
export function messageType(text: string): string | undefined {
  return segmentField(text, 'MSH', 9);
}

/** The ID of the first PID-3 repetition (the patient id the message is about). */
export function patientIdOf(text: string): string | undefined {
  return segmentField(text, 'PID', 3)?.split('~')[0]?.split('^')[0];
}

export { freePort as closedPort } from './ports.js';

/** `YYYY-MM-DD` of `date` in UTC. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * The UTC calendar day `years` years and `days` days before `from`'s UTC day, clamping the
 * day of month (Feb 29 -> Feb 28) the way the When Criteria age arithmetic does.
 */
export function dayYearsAgo(from: Date, years: number, days = 0): string {
  const shifted = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() - days));
  const year = shifted.getUTCFullYear() - years;
  const month = shifted.getUTCMonth();
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return utcDay(new Date(Date.UTC(year, month, Math.min(shifted.getUTCDate(), lastDay))));
}

/** SIGTERM, then SIGKILL if the process has not exited within `timeoutMs`; resolves with its exit. */
export async function stopProcess(child: DaemonProcess, timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    child.kill('SIGTERM');
  } catch {
    // already gone
  }
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      resolve();
    }, timeoutMs);
  });
  await Promise.race([child.exited, killed]);
  clearTimeout(timer);
  return child.exited;
}

/** Overwrites a configuration file in place (writeConfig always makes a new one), e.g. before a SIGHUP. */
export function rewriteConfig(file: string, config: Record<string, unknown>): void {
  writeFileSync(file, JSON.stringify(config, null, 2));
}

/** Each subscription's status as the daemon's readiness reports it (typed). */
export function subscriptionStatuses(daemon: InProcessDaemon): Array<SubscriptionStatus & { problems: string[] }> {
  return daemon.daemon.readiness().subscriptions as Array<SubscriptionStatus & { problems: string[] }>;
}

/** One subscription's status, or undefined when the daemon does not run it. */
export function subscriptionStatus(daemon: InProcessDaemon, name: string): (SubscriptionStatus & { problems: string[] }) | undefined {
  return subscriptionStatuses(daemon).find((status) => status.name === name);
}

type Cleanups = Array<() => Promise<unknown>>;

/** A test broker on its own exchanges, with its receipts captured; closed by `cleanups`. */
export async function openBroker(prefix: string, cleanups: Cleanups): Promise<{ broker: TestBroker; receipts: CapturedMessage[] }> {
  const broker = await TestBroker.open(testTopology(prefix));
  cleanups.push(() => broker.close());
  return { broker, receipts: await broker.captureReceipts() };
}

/** A receiver answering AA; closed by `cleanups`. */
export async function startReceiver(cleanups: Cleanups): Promise<ScriptedReceiver> {
  const started = await ScriptedReceiver.start();
  cleanups.push(() => started.close());
  return started;
}

/** The daemon in process with these subscriptions (their queues deleted afterwards); stopped by `cleanups`. */
export async function startSubscriptions(broker: TestBroker, subscriptions: Array<Record<string, unknown>>, cleanups: Cleanups): Promise<InProcessDaemon> {
  for (const sub of subscriptions) broker.ownSubscription(String(sub.name));
  const daemon = await InProcessDaemon.start(configFor(broker.topology, subscriptions));
  cleanups.push(() => daemon.stop());
  return daemon;
}
