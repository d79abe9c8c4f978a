import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, DaemonProcess, InProcessDaemon, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver, type Received } from '../../helpers/scripted-receiver.js';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

interface Planned {
  event: Record<string, unknown>;
  index: number;
  patient: string;
  merge: boolean;
  controlId: string;
}

/**
 * `count` events for `patients` patients: creates first, then updates, with a merge every
 * ~25 events (survivor and replaced record are two different patients of the set).
 */
function plan(subscription: string, count: number, patients: number): Planned[] {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const created = new Set<number>();
  return Array.from({ length: count }, (_, index) => {
    const p = Math.floor(random() * patients);
    const patient = `LANE-${p}`;
    const merge = created.has(p) && index % 25 === 24;
    const type = merge ? 'merge' : created.has(p) ? 'update' : 'create';
    created.add(p);
    const other = `LANE-${(p + 1 + Math.floor(random() * (patients - 1))) % patients}`;
    const event = patientEvent({
      id: `${subscription}-${String(index).padStart(5, '0')}`,
      type,
      patientId: patient,
      ...(merge
        ? { replaced: [{ resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: other }], name: [{ use: 'official', family: 'Merged' }] }] }
        : {}),
    });
    return { event, index, patient, merge, controlId: controlIdFor(String(event.id), subscription, 0) };
  });
}

/** Checks the lane guarantees on what the receiver got; returns the number of duplicates. */
function verify(planned: Planned[], received: Received[]): number {
  const byControlId = new Map(planned.map((entry) => [entry.controlId, entry]));
  const firstArrival = new Map<string, number>();
  received.forEach((message, position) => {
    if (!firstArrival.has(message.controlId)) firstArrival.set(message.controlId, position);
  });
  // Nothing lost, nothing foreign.
  expect(firstArrival.size).toBe(planned.length);
  for (const id of firstArrival.keys()) expect(byControlId.has(id)).toBe(true);
  // Per patient, arrival order = publish order.
  const perPatient = new Map<string, number[]>();
  for (const [id] of [...firstArrival].sort((a, b) => a[1] - b[1])) {
    const entry = byControlId.get(id)!;
    perPatient.set(entry.patient, [...(perPatient.get(entry.patient) ?? []), entry.index]);
  }
  for (const [patient, indexes] of perPatient) {
    expect(indexes, `order of ${patient}`).toEqual([...indexes].sort((a, b) => a - b));
  }
  // Every merge after everything published before it, before everything published after it.
  const arrival = (entry: Planned) => firstArrival.get(entry.controlId)!;
  const merges = planned.filter((entry) => entry.merge);
  expect(merges.length).toBeGreaterThan(10);
  for (const merge of merges) {
    const at = arrival(merge);
    for (const entry of planned) {
      if (entry.index < merge.index) expect(arrival(entry), `event ${entry.index} before merge ${merge.index}`).toBeLessThan(at);
      if (entry.index > merge.index) expect(arrival(entry), `event ${entry.index} after merge ${merge.index}`).toBeGreaterThan(at);
    }
  }
  return received.length - planned.length;
}

function randomDelayReceiver() {
  let seed = 7;
  return ScriptedReceiver.start(() => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return { kind: 'ack', code: 'AA', delayMs: Math.floor((seed / 2 ** 31) * 6) };
  });
}

describe('lanes: ordered per patient, parallel across patients', () => {
  it('4 lanes, 2,000 events for 200 patients with merges: per-patient order, merge barriers, nothing lost', async () => {
    const receiver = await randomDelayReceiver();
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('lanes'));
    cleanups.push(() => broker.close());
    const name = uniqueName('lanes');
    broker.ownSubscription(name);
    const planned = plan(name, 2000, 200);
    const receipts = await broker.captureReceipts();
    const daemon = await InProcessDaemon.start(configFor(broker.topology, [subscriptionEntry(name, receiver.port, { lanes: 4, timeouts: { connectMs: 1000, ackMs: 5000 } })], { log: { level: 'warn' } }));
    cleanups.push(() => daemon.stop());
    await broker.publishAll(planned.map((entry) => entry.event));
    await waitFor(() => receipts.length >= planned.length, { timeoutMs: 60_000, message: 'every event settled' });
    expect(verify(planned, receiver.received)).toBe(0);
    // The lanes really ran in parallel: four connections were used.
    expect(receiver.connections).toBe(4);
    expect(receipts.every((receipt) => receipt.json().outcome === 'accepted')).toBe(true);
  });

  it('keeps those guarantees across a SIGKILL mid-run and a restart', async () => {
    const receiver = await randomDelayReceiver();
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('lanes-kill'));
    cleanups.push(() => broker.close());
    const name = uniqueName('lanes-kill');
    broker.ownSubscription(name);
    const planned = plan(name, 2000, 200);
    const configFile = writeConfig(
      configFor(broker.topology, [subscriptionEntry(name, receiver.port, { lanes: 4, timeouts: { connectMs: 1000, ackMs: 5000 } })], { log: { level: 'info' } }),
    );
    const first = new DaemonProcess(configFile);
    cleanups.push(async () => {
      first.kill('SIGKILL');
      await first.exited;
    });
    await first.waitReady();
    await broker.publishAll(planned.map((entry) => entry.event));
    await waitFor(() => receiver.received.length >= 700, { timeoutMs: 60_000, message: '700 delivered' });
    first.kill('SIGKILL');
    await first.exited;
    const second = new DaemonProcess(configFile);
    cleanups.push(async () => {
      second.kill('SIGKILL');
      await second.exited;
    });
    await waitFor(() => new Set(receiver.controlIds()).size === planned.length, { timeoutMs: 60_000, message: 'all delivered after restart' });
    const duplicates = verify(planned, receiver.received);
    // Only what was unacknowledged at the kill (at most the prefetch window) comes twice.
    expect(duplicates).toBeLessThanOrEqual(64);
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: 'queue drained' });
  });
});
