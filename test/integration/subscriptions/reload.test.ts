import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, DaemonProcess, InProcessDaemon, subscriptionEntry, writeConfig, type LogLine } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { patientIdOf, receiptsOf, rewriteConfig, stopProcess, subscriptionStatus, subscriptionStatuses } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';

/**
 * Live reload: added subscriptions start, removed ones stop after their in-flight message
 * settles, changed ones restart, unchanged ones are not touched; an invalid configuration
 * is refused and the running one stays.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

type Event = Record<string, unknown> & { id: string };

function event(type: string, patientId: string, gender: string): Event {
  const created = patientEvent({ type, patientId }) as Event & { patient: Record<string, unknown> };
  created.patient.gender = gender;
  return created;
}

async function receiver(behaviour?: ConstructorParameters<typeof ScriptedReceiver>[0]): Promise<ScriptedReceiver> {
  const started = await ScriptedReceiver.start(behaviour);
  cleanups.push(() => started.close());
  return started;
}

const ids = (received: ScriptedReceiver) => received.received.map((message) => patientIdOf(message.text));

describe('subscriptions: live reload in process (Daemon.reload)', () => {
  it('adds, removes after the in-flight message settles, restarts changed ones and leaves unchanged ones alone', async () => {
    const broker = await TestBroker.open(testTopology('subs-reload'));
    cleanups.push(() => broker.close());
    const receipts = await broker.captureReceipts();

    const keepReceiver = await receiver();
    // Slow enough that the reload starts while its ACK is outstanding, well within shutdown.graceMs (2 s).
    const goneReceiver = await receiver(() => ({ kind: 'ack', code: 'AA', delayMs: 700 }));
    const changeReceiver = await receiver();
    const movedFrom = await receiver();
    const movedTo = await receiver();
    const freshReceiver = await receiver();
    const keep = uniqueName('keep');
    const gone = uniqueName('gone');
    const change = uniqueName('change');
    const moved = uniqueName('moved');
    const fresh = uniqueName('fresh');
    for (const name of [keep, gone, change, moved, fresh]) broker.ownSubscription(name);

    const keepEntry = subscriptionEntry(keep, keepReceiver.port);
    const before = configFor(broker.topology, [
      keepEntry,
      subscriptionEntry(gone, goneReceiver.port),
      subscriptionEntry(change, changeReceiver.port, { when: ['patient.gender=female'] }),
      subscriptionEntry(moved, movedFrom.port),
    ]);
    const daemon = await InProcessDaemon.start(before);
    cleanups.push(() => daemon.stop());

    // e1 .. e3 under the first configuration.
    const e1 = event('create', 'PAT-RL1', 'female');
    const e2 = event('create', 'PAT-RL2', 'female');
    const e3 = event('update', 'PAT-RL3', 'female');
    await broker.publishAll([e1, e2, e3]);
    for (const name of [keep, change, moved]) {
      await waitFor(() => receiptsOf(receipts, name).length === 3, { message: `${name}: receipts for e1..e3` });
    }
    // gone: e1 accepted, e2 sent and its (slow) ACK outstanding, e3 prefetched behind it.
    await waitFor(() => goneReceiver.received.length === 2 && receiptsOf(receipts, gone).length === 1, { message: 'gone: e2 in flight' });
    const statusOf = (name: string) => subscriptionStatus(daemon, name);
    await waitFor(() => statusOf(gone)?.eventsInFlight === 2, { message: 'gone: e2 and e3 held by its runner' });

    const after = configFor(broker.topology, [
      keepEntry,
      subscriptionEntry(change, changeReceiver.port, { when: ['patient.gender=male'] }),
      subscriptionEntry(moved, movedTo.port),
      subscriptionEntry(fresh, freshReceiver.port),
    ]);
    const configFile = writeConfig(after);
    const summary = await daemon.daemon.reload(loadConfig({ configFile, env: {} }));
    expect({
      added: [...summary.added].sort(),
      removed: [...summary.removed].sort(),
      changed: [...summary.changed].sort(),
      unchanged: [...summary.unchanged].sort(),
    }).toEqual({ added: [fresh], removed: [gone], changed: [change, moved].sort(), unchanged: [keep] });
    // reload() resolved only after the in-flight e2 had its ACK and was settled.
    const settledE2 = daemon.logs.findIndex((line) => line.subscription === gone && line.msg === 'event settled' && line.eventId === e2.id);
    const reloadedAt = daemon.logs.findIndex((line) => line.msg === 'configuration reloaded');
    expect(settledE2).toBeGreaterThan(-1);
    expect(reloadedAt).toBeGreaterThan(settledE2);

    // The removed subscription stopped after its in-flight message settled: e2 was accepted
    // and acknowledged (only e3 went back to the queue), e3 was never sent.
    await waitFor(() => receiptsOf(receipts, gone).length === 2, { message: 'gone: receipt for the in-flight e2' });
    expect(receiptsOf(receipts, gone).map((receipt) => [receipt.eventId, receipt.outcome, receipt.ackCode])).toEqual([
      [e1.id, 'accepted', 'AA'],
      [e2.id, 'accepted', 'AA'],
    ]);
    // (Soft, so the rest of the reload is still checked when this fails: see the last step.)
    const goneBacklog = await waitFor(async () => {
      const ready = await broker.messageCount(`mllp.${gone}`);
      return ready >= 1 ? ready : undefined;
    }, { message: 'gone: e3 back in its queue' });
    expect(goneBacklog, 'gone: only e3 is back in its queue (e2 was acknowledged before the connection closed)').toBe(1);
    expect(ids(goneReceiver)).toEqual(['PAT-RL1', 'PAT-RL2']);
    expect(daemon.logs.some((line) => line.subscription === gone && line.msg === 'subscription stopped')).toBe(true);
    expect(subscriptionStatuses(daemon).map((status) => status.name).sort()).toEqual([keep, change, moved, fresh].sort());

    // Added and restarted subscriptions consume again before e4, e5 are published.
    await waitFor(() => subscriptionStatuses(daemon).every((status) => status.consuming), { message: 'every subscription consuming' });
    const e4 = event('create', 'PAT-RL4', 'male');
    const e5 = event('update', 'PAT-RL5', 'female');
    await broker.publishAll([e4, e5]);
    await waitFor(() => receiptsOf(receipts, keep).length === 5, { message: 'keep: receipts for e4, e5' });
    await waitFor(() => receiptsOf(receipts, change).length === 5, { message: 'change: receipts for e4, e5' });
    await waitFor(() => receiptsOf(receipts, moved).length === 5, { message: 'moved: receipts for e4, e5' });
    await waitFor(() => receiptsOf(receipts, fresh).length === 2, { message: 'fresh: receipts for e4, e5' });

    const outcomes = (name: string) => receiptsOf(receipts, name).map((receipt) => [receipt.eventId, receipt.outcome]);
    // Unchanged: same rules, same receiver connection as before the reload.
    expect(ids(keepReceiver)).toEqual(['PAT-RL1', 'PAT-RL2', 'PAT-RL3', 'PAT-RL4', 'PAT-RL5']);
    expect(keepReceiver.connections).toBe(1);
    expect(keepReceiver.openConnections).toBe(1);
    // Changed `when`: restarted (new connection), the new rule applies from e4 on.
    // (A filtered event settles at once, possibly before the accepted one ahead of it: compare as a set.)
    expect(outcomes(change).slice(3).sort()).toEqual(
      [
        [e4.id, 'accepted'],
        [e5.id, 'filtered'],
      ].sort(),
    );
    expect(ids(changeReceiver)).toEqual(['PAT-RL1', 'PAT-RL2', 'PAT-RL3', 'PAT-RL4']);
    expect(changeReceiver.connections).toBe(2);
    // Changed endpoint: the old receiver gets nothing more, the new one the rest.
    expect(ids(movedFrom)).toEqual(['PAT-RL1', 'PAT-RL2', 'PAT-RL3']);
    expect(ids(movedTo)).toEqual(['PAT-RL4', 'PAT-RL5']);
    expect(movedFrom.openConnections).toBe(0);
    // Added: starts with what is published after it consumes.
    expect(ids(freshReceiver)).toEqual(['PAT-RL4', 'PAT-RL5']);
    expect(outcomes(fresh)).toEqual([
      [e4.id, 'accepted'],
      [e5.id, 'accepted'],
    ]);
    // Removed: consumes nothing more; its queue (still bound) keeps e4 and e5 too, for an operator.
    await waitFor(async () => (await broker.messageCount(`mllp.${gone}`)) === goneBacklog + 2, { message: 'gone: e4, e5 wait in its queue' });
    expect(goneReceiver.received).toHaveLength(2);
    expect(receiptsOf(receipts, gone)).toHaveLength(2);

    // Re-added later, it resumes with what it had not delivered: e3, e4, e5, and nothing the
    // receiver had already accepted (e2 must not be sent twice).
    goneReceiver.setBehaviour(() => ({ kind: 'ack', code: 'AA' }));
    const again = await daemon.daemon.reload(loadConfig({ configFile: writeConfig(configFor(broker.topology, [...(after.subscriptions as Array<Record<string, unknown>>), subscriptionEntry(gone, goneReceiver.port)])), env: {} }));
    expect(again).toMatchObject({ added: [gone], removed: [], changed: [] });
    await waitFor(async () => (await broker.messageCount(`mllp.${gone}`)) === 0 && statusOf(gone)?.eventsInFlight === 0, { message: 'gone (re-added): queue drained' });
    expect(ids(goneReceiver).slice(2)).toEqual(['PAT-RL3', 'PAT-RL4', 'PAT-RL5']);
    await waitFor(() => receiptsOf(receipts, gone).length === 5, { message: 'gone (re-added): receipts for e3, e4, e5' });
    expect(receiptsOf(receipts, gone).slice(2).map((receipt) => receipt.eventId)).toEqual([e3.id, e4.id, e5.id]);
  });
});

describe('subscriptions: live reload by signal (process)', () => {
  it('SIGHUP starts an added subscription; an invalid configuration is refused and the old one keeps delivering', async () => {
    if (!existsSync(join(PACKAGE_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const broker = await TestBroker.open(testTopology('subs-hup'));
    cleanups.push(() => broker.close());
    const receipts = await broker.captureReceipts();
    const first = await receiver();
    const second = await receiver();
    const third = await receiver();
    const a = uniqueName('hup-a');
    const b = uniqueName('hup-b');
    const c = uniqueName('hup-c');
    for (const name of [a, b, c]) broker.ownSubscription(name);

    const entryA = subscriptionEntry(a, first.port);
    const entryB = subscriptionEntry(b, second.port, { when: ['patient.gender=female|other'] });
    const file = writeConfig(configFor(broker.topology, [entryA]));
    const daemon = new DaemonProcess(file);
    cleanups.push(() => stopProcess(daemon));
    await daemon.waitReady();

    // Add B and reload.
    rewriteConfig(file, configFor(broker.topology, [entryA, entryB]));
    daemon.kill('SIGHUP');
    const reloaded = await daemon.waitForLog((line) => line.msg === 'configuration reloaded', 15_000, 'configuration reloaded');
    expect(reloaded).toMatchObject({ added: [b], removed: [], changed: [], unchanged: [a] });
    const consuming = (name: string) => (line: LogLine) => line.subscription === name && line.msg === 'broker session consuming';
    await daemon.waitForLog(consuming(b), 15_000, `${b} consuming`);

    const e1 = event('create', 'PAT-HUP1', 'female');
    await broker.publish(e1);
    await waitFor(() => receiptsOf(receipts, a).length === 1 && receiptsOf(receipts, b).length === 1, { message: 'e1 receipts from a and b' });
    expect(ids(first)).toEqual(['PAT-HUP1']);
    expect(ids(second)).toEqual(['PAT-HUP1']);
    expect(first.connections).toBe(1);

    // An invalid configuration (a when expression that does not parse), which would also add C.
    rewriteConfig(
      file,
      configFor(broker.topology, [entryA, { ...entryB, when: ['patient.gender==female'] }, subscriptionEntry(c, third.port)]),
    );
    daemon.kill('SIGHUP');
    const refused = await daemon.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('reload refused'), 15_000, 'reload refused');
    expect(JSON.stringify(refused.problems)).toContain(`(${b}).when[0]`);
    expect(JSON.stringify(refused.problems)).toContain('unknown operator');

    // The running configuration stays: A and B (with its old rule) deliver, C never starts.
    const e2 = event('update', 'PAT-HUP2', 'other');
    await broker.publish(e2);
    await waitFor(() => receiptsOf(receipts, a).length === 2 && receiptsOf(receipts, b).length === 2, { message: 'e2 receipts from a and b' });
    expect(receiptsOf(receipts, b).map((receipt) => [receipt.eventId, receipt.outcome])).toEqual([
      [e1.id, 'accepted'],
      [e2.id, 'accepted'],
    ]);
    expect(ids(first)).toEqual(['PAT-HUP1', 'PAT-HUP2']);
    expect(ids(second)).toEqual(['PAT-HUP1', 'PAT-HUP2']);
    expect(first.connections).toBe(1);
    expect(second.connections).toBe(1);
    expect(third.received).toEqual([]);
    expect(daemon.lines.filter((line) => line.msg === 'configuration reloaded')).toHaveLength(1);
    expect(daemon.lines.some((line) => line.subscription === c)).toBe(false);

    // And it still stops cleanly.
    expect(await stopProcess(daemon)).toEqual({ code: 0, signal: null });
  });
});
