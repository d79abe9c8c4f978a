import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, DaemonProcess, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver, type Action, type Received } from '../../helpers/scripted-receiver.js';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { heldQueueName, holdLogQueueName, keyHash } from '../../../src/hold/hold-names.js';

/**
 * A subscription with `holdPatientOnDeadLetter: true` on its own broker objects, a receiver
 * that answers AE to the event ids in `failing` (so they are dead-lettered) and AA to the
 * rest, and helpers to follow each patient's events by event id (README, "Operator
 * workflows"; docs/PATIENT-HOLD.md).
 */
export type { Cleanups } from '../../helpers/stop-timing.js';
import type { Cleanups } from '../../helpers/stop-timing.js';

export const SYSTEM = 'urn:oid:1.2.3.4.5.6.1';

export async function holdSetup(prefix: string, cleanups: Cleanups, overrides: Record<string, unknown> = {}) {
  const failing = new Set<string>();
  /** Event ids whose next delivery the receiver leaves unanswered (the test kills the daemon meanwhile). */
  const silent = new Set<string>();
  const eventOf = new Map<string, string>();
  const receiver = await ScriptedReceiver.start((message): Action => {
    const eventId = eventOf.get(message.controlId) ?? '';
    if (silent.delete(eventId)) return { kind: 'none' };
    return failing.has(eventId) ? { kind: 'ack', code: 'AE', text: 'test failure' } : { kind: 'ack', code: 'AA' };
  });
  cleanups.push(() => receiver.close());
  const broker = await TestBroker.open(testTopology(prefix));
  cleanups.push(() => broker.close());
  const name = uniqueName(prefix);
  broker.ownSubscription(name);
  broker.ownQueue(holdLogQueueName(name));
  const entry = subscriptionEntry(name, receiver.port, { holdPatientOnDeadLetter: true, timeouts: { connectMs: 1000, ackMs: 5000 }, ...overrides });
  const config = configFor(broker.topology, [entry], { log: { level: 'info' } });
  const configFile = writeConfig(config);

  /** A patient's event with a readable id `<name>-<label>`; remembered so the receiver's copy can be named. */
  const event = (label: string, patientId: string, extra: Record<string, unknown> = {}) => {
    const built = patientEvent({ id: `${name}-${label}`, patientId, ...extra });
    eventOf.set(controlIdFor(String(built.id), name, 0), String(built.id));
    return built;
  };
  /** The held queue of a patient (declared by the daemon; deleted at cleanup). */
  const heldQueue = (patientId: string) => {
    const queue = heldQueueName(name, keyHash(name, `${SYSTEM}|${patientId}`));
    broker.ownQueue(queue);
    return queue;
  };
  /** Event ids as the receiver got them, in order, optionally only those with these labels' prefix. */
  const receivedIds = (filter?: (eventId: string) => boolean): string[] =>
    receiver.received.map((message: Received) => eventOf.get(message.controlId) ?? '?').filter((id) => (filter ? filter(id) : true));
  const id = (label: string) => `${name}-${label}`;
  return { broker, receiver, name, configFile, config, failing, silent, event, heldQueue, receivedIds, id };
}

export { startDaemon } from '../../helpers/stop-timing.js';

/** Ready messages of a queue, or null when it does not exist. */
export async function depthOrNull(broker: TestBroker, queue: string): Promise<number | null> {
  try {
    return await broker.messageCount(queue);
  } catch {
    return null;
  }
}

export async function killNow(daemon: DaemonProcess): Promise<void> {
  daemon.kill('SIGKILL');
  await daemon.exited;
}

export { configFor, subscriptionEntry, writeConfig };
