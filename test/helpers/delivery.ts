import { TestBroker, testTopology, uniqueName, type CapturedMessage } from './broker.js';
import { configFor, InProcessDaemon, subscriptionEntry, type LogLine } from './daemon.js';
import type { Received } from './scripted-receiver.js';
import { waitFor } from './wait.js';

/**
 * Helpers for the delivery integration tests (test/integration/delivery): one daemon in
 * this process against the real broker, on the test's own exchanges and subscription.
 */

/** Cleanups run in reverse order after each test; failures are ignored so all of them run. */
export class Cleanups {
  private readonly steps: Array<() => Promise<unknown>> = [];

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    while (this.steps.length) await this.steps.pop()!().catch(() => {});
  }
}

export { freePort } from './ports.js';

export interface DeliveryHarness {
  broker: TestBroker;
  daemon: InProcessDaemon;
  /** The subscription name (queues `mllp.<name>` and `mllp.<name>.dead`). */
  name: string;
  queue: string;
  deadQueue: string;
  /** Every receipt published so far, in arrival order. */
  receipts: CapturedMessage[];
}

export interface HarnessOptions {
  prefix: string;
  /** The receiver's port (the subscription's endpoint is llp://127.0.0.1:<port> unless `entry` says otherwise). */
  port: number;
  /** Overrides of the subscription entry (see subscriptionEntry). */
  entry?: Record<string, unknown>;
  /** Extra top-level config (e.g. `{ amqp: { maxMessageBytes: 2048 } }`). */
  extra?: Record<string, unknown>;
  cleanups: Cleanups;
}

/** Opens the test broker, starts the daemon with one subscription and waits until it consumes. */
export async function startDelivery(options: HarnessOptions): Promise<DeliveryHarness> {
  const broker = await TestBroker.open(testTopology(options.prefix));
  options.cleanups.add(() => broker.close());
  const name = uniqueName(options.prefix);
  broker.ownSubscription(name);
  const receipts = await broker.captureReceipts();
  const daemon = await InProcessDaemon.start(configFor(broker.topology, [subscriptionEntry(name, options.port, options.entry ?? {})], options.extra ?? {}));
  options.cleanups.add(() => daemon.stop());
  return { broker, daemon, name, queue: `mllp.${name}`, deadQueue: `mllp.${name}.dead`, receipts };
}

/** The receipt of one event, once it has arrived. */
export function receiptOf(harness: DeliveryHarness, eventId: string): Record<string, unknown> | undefined {
  return harness.receipts.map((receipt) => receipt.json()).find((receipt) => receipt.eventId === eventId);
}

/** Waits for `count` receipts. */
export async function waitReceipts(harness: DeliveryHarness, count: number, timeoutMs = 20_000): Promise<Array<Record<string, unknown>>> {
  await waitFor(() => harness.receipts.length >= count, { timeoutMs, message: `${count} receipts (have ${harness.receipts.length})` });
  return harness.receipts.map((receipt) => receipt.json());
}

/** Waits until `count` dead letters are in `mllp.<name>.dead`, then takes them out. */
export async function takeDeadLetters(harness: DeliveryHarness, count: number, timeoutMs = 20_000): Promise<CapturedMessage[]> {
  await waitFor(async () => (await harness.broker.messageCount(harness.deadQueue)) >= count, { timeoutMs, message: `${count} dead letters` });
  return harness.broker.drain(harness.deadQueue);
}

/** Events the daemon holds in the subscription's stream (received, not yet settled), from its readiness report. */
export function eventsInFlight(harness: DeliveryHarness): number | undefined {
  const subscriptions = harness.daemon.daemon.readiness().subscriptions as Array<{ name: string; eventsInFlight: number }> | undefined;
  return subscriptions?.find((status) => status.name === harness.name)?.eventsInFlight;
}

/** The daemon's log lines about one event. */
export function logsOf(daemon: InProcessDaemon, eventId: string): LogLine[] {
  return daemon.logs.filter((line) => line.eventId === eventId);
}

/** The settle line ("event settled" / "event dead-lettered") of one event. */
export function settleLineOf(daemon: InProcessDaemon, eventId: string): LogLine | undefined {
  return daemon.settled().find((line) => line.eventId === eventId);
}

/**
 * Stops the daemon, which requeues whatever it has not acknowledged, and returns how many
 * messages are then ready in the subscription queue: 0 means every event was acked.
 */
export async function unackedAfterStop(harness: DeliveryHarness): Promise<number> {
  await harness.daemon.stop();
  return harness.broker.messageCount(harness.queue);
}

/** Control ids in first-delivery order (each id once, where it first arrived). */
export function firstDeliveries(received: readonly Received[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const message of received) {
    if (seen.has(message.controlId)) continue;
    seen.add(message.controlId);
    out.push(message.controlId);
  }
  return out;
}

/** How many times each control id arrived, for those that arrived more than once. */
export function duplicates(received: readonly Received[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const message of received) counts.set(message.controlId, (counts.get(message.controlId) ?? 0) + 1);
  return Object.fromEntries([...counts].filter(([, count]) => count > 1));
}

/** The log lines whose `msg` is one of `messages`, in order: for checking sequences. */
export function sequence(daemon: InProcessDaemon, messages: readonly string[]): LogLine[] {
  return daemon.logs.filter((line) => messages.includes(String(line.msg)));
}

