import { TestBroker, testTopology, uniqueName } from './broker.js';
import { configFor, DaemonProcess, writeConfig } from './daemon.js';
import { patientEvent } from './events.js';

/**
 * Helpers for the stop-state tests (test/disruptive/stop-states.test.ts,
 * broker-blocked.test.ts): a subscription whose queue holds events before any daemon
 * consumes it, and a SIGTERM whose exit is timed.
 */

export type Cleanups = Array<() => Promise<unknown>>;

/** SIGTERM to the daemon; resolves with its exit and how long after the signal it came. */
export async function timedSigterm(daemon: DaemonProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; afterMs: number }> {
  const sentAt = Date.now();
  daemon.kill('SIGTERM');
  const exit = await daemon.exited;
  return { ...exit, afterMs: Date.now() - sentAt };
}

/** A daemon process (the built one) killed (SIGKILL) at cleanup if the test left it running. */
export function startDaemon(configFile: string, cleanups: Cleanups): DaemonProcess {
  const daemon = new DaemonProcess(configFile);
  cleanups.push(async () => {
    daemon.kill('SIGKILL');
    await daemon.exited;
  });
  return daemon;
}

/**
 * A broker topology and a subscription whose queue exists (declared by a first daemon run
 * that stopped at once) and holds `events` events, published with nothing consuming.
 */
export async function queuedSubscription(
  prefix: string,
  subscription: (name: string) => Record<string, unknown>,
  events: number,
  cleanups: Cleanups,
): Promise<{ broker: TestBroker; name: string; ids: string[] }> {
  const broker = await TestBroker.open(testTopology(prefix));
  cleanups.push(() => broker.close());
  const name = uniqueName(prefix);
  broker.ownSubscription(name);
  const declarer = startDaemon(writeConfig(configFor(broker.topology, [subscription(name)], { log: { level: 'info' } })), cleanups);
  await declarer.waitReady();
  declarer.kill('SIGTERM');
  const exit = await declarer.exited;
  if (exit.code !== 0) throw new Error(`the declaring daemon exited with ${String(exit.code)}`);
  const published = Array.from({ length: events }, (_, index) => patientEvent({ patientId: `PAT-${prefix}-${index}` }));
  await broker.publishAll(published);
  return { broker, name, ids: published.map((event) => String(event.id)) };
}
