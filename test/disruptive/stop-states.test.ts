import { afterEach, describe, expect, it } from 'vitest';
import { AMQP_URL, TestBroker, testTopology, uniqueName } from '../helpers/broker.js';
import { configFor, subscriptionEntry, writeConfig } from '../helpers/daemon.js';
import { ScriptedReceiver } from '../helpers/scripted-receiver.js';
import { closedPort, rewriteConfig } from '../helpers/subscriptions.js';
import { queueCounts } from '../helpers/rabbitmqctl.js';
import { queuedSubscription, startDaemon, timedSigterm } from '../helpers/stop-timing.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

/**
 * SIGTERM ends the daemon within shutdown.graceMs + 5 s with exit 0 in every state, and
 * nothing unacknowledged is lost (README "Running in production"; src/util/lifecycle.ts).
 * Real daemon processes, the real broker (behind a proxy where the test needs it slow or
 * away), real receivers. Each test prints the exit time it measured.
 */

const GRACE_MS = 2000;
const DEADLINE_MS = GRACE_MS + 5000;
const BROKER_PORT = Number(new URL(AMQP_URL).port || 5672);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

/** A proxy in front of the broker that holds each new connection `delayMs` before connecting it through. */
async function slowBroker(delayMs: number): Promise<{ proxy: TcpProxy; url: string }> {
  const proxy = await TcpProxy.start(BROKER_PORT);
  proxy.delayMs = delayMs;
  cleanups.push(() => proxy.close());
  const url = new URL(AMQP_URL);
  url.port = String(proxy.port);
  return { proxy, url: url.toString() };
}

async function receiver(behaviour?: ConstructorParameters<typeof ScriptedReceiver>[0]): Promise<ScriptedReceiver> {
  const started = await ScriptedReceiver.start(behaviour);
  cleanups.push(() => started.close());
  return started;
}

describe('SIGTERM in every state', () => {
  it('mid-handshake (the broker holds the connection 10 s, longer than the deadline): exit 0 within the deadline', async () => {
    const broker = await TestBroker.open(testTopology('i15-hs'));
    cleanups.push(() => broker.close());
    const name = uniqueName('i15-hs');
    broker.ownSubscription(name);
    const { proxy, url } = await slowBroker(10_000);
    const target = await receiver();
    const config = configFor(broker.topology, [subscriptionEntry(name, target.port)], { amqp: { url }, shutdown: { graceMs: GRACE_MS }, log: { level: 'info' } });
    const daemon = startDaemon(writeConfig(config), cleanups);
    await daemon.waitForLog((line) => line.msg === 'subscription starting', 10_000, 'subscription starting');
    await waitFor(() => proxy.connections >= 1, { message: 'the handshake held by the proxy' });
    const exit = await timedSigterm(daemon);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.afterMs).toBeLessThan(DEADLINE_MS);
    expect(daemon.lines.some((line) => line.msg === 'broker session consuming')).toBe(false);
    console.info(`[stop mid-handshake] exit ${exit.code} after ${exit.afterMs} ms (grace ${GRACE_MS} ms)`);
  });

  it('reconnect backoff (broker port closed, next try in 20 s): exit 0 at once', async () => {
    const topology = testTopology('i15-bo');
    const name = uniqueName('i15-bo');
    const url = new URL(AMQP_URL);
    url.port = String(await closedPort());
    const target = await receiver();
    const config = configFor(topology, [subscriptionEntry(name, target.port)], {
      amqp: { url: url.toString(), reconnect: { initialDelayMs: 20_000, maxDelayMs: 30_000 } },
      shutdown: { graceMs: GRACE_MS },
      log: { level: 'info' },
    });
    const daemon = startDaemon(writeConfig(config), cleanups);
    await daemon.waitForLog((line) => line.msg === 'cannot connect to the broker', 10_000, 'backing off');
    const exit = await timedSigterm(daemon);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // The backoff sleep is cut short: no grace is needed, nothing is in flight.
    expect(exit.afterMs).toBeLessThan(GRACE_MS);
    console.info(`[stop in reconnect backoff] exit ${exit.code} after ${exit.afterMs} ms`);
  });

  it('receiver down with events waiting (4 lanes): exit 0, every event back in the queue', async () => {
    const port = await closedPort();
    const sub = (name: string) => subscriptionEntry(name, port, { lanes: 4, retry: { initialDelayMs: 500, maxDelayMs: 5000, maxAttempts: 3 } });
    const { broker, name } = await queuedSubscription('i15-rd', sub, 6, cleanups);
    const config = configFor(broker.topology, [sub(name)], { shutdown: { graceMs: GRACE_MS }, log: { level: 'info' } });
    const daemon = startDaemon(writeConfig(config), cleanups);
    await daemon.waitForLog((line) => line.msg === 'receiver unreachable', 15_000, 'receiver unreachable');
    await waitFor(async () => (await queueCounts(`mllp.${name}`))?.unacked === 6, { intervalMs: 200, message: 'all 6 events held by the daemon' });
    const exit = await timedSigterm(daemon);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.afterMs).toBeLessThan(DEADLINE_MS);
    expect(daemon.settled()).toEqual([]);
    await waitFor(async () => {
      const counts = await queueCounts(`mllp.${name}`);
      return counts?.ready === 6 && counts.unacked === 0;
    }, { intervalMs: 200, message: 'the 6 events requeued' });
    console.info(`[stop with receiver down] exit ${exit.code} after ${exit.afterMs} ms; 6 events requeued`);
  });

  it('broker stops answering while the daemon consumes (a partition): exit 0 in time, events back in the queue once the broker notices', async () => {
    const port = await closedPort();
    const sub = (name: string) => subscriptionEntry(name, port);
    const { broker, name } = await queuedSubscription('i15-fz', sub, 3, cleanups);
    const { proxy, url } = await slowBroker(0);
    const config = configFor(broker.topology, [sub(name)], { amqp: { url }, shutdown: { graceMs: GRACE_MS }, log: { level: 'info' } });
    const daemon = startDaemon(writeConfig(config), cleanups);
    await daemon.waitForLog((line) => line.msg === 'receiver unreachable', 15_000, 'receiver unreachable');
    await waitFor(async () => (await queueCounts(`mllp.${name}`))?.unacked === 3, { intervalMs: 200, message: 'the 3 events held by the daemon' });
    proxy.freeze();
    const exit = await timedSigterm(daemon);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.afterMs).toBeLessThan(DEADLINE_MS);
    // The close got no answer: the connection was dropped.
    expect(daemon.lines.some((line) => line.msg === 'the broker did not answer the close; dropping the connection')).toBe(true);
    proxy.cut();
    await waitFor(async () => {
      const counts = await queueCounts(`mllp.${name}`);
      return counts?.ready === 3 && counts.unacked === 0;
    }, { intervalMs: 200, message: 'the 3 events requeued' });
    console.info(`[stop with the broker not answering] exit ${exit.code} after ${exit.afterMs} ms; 3 events requeued`);
  });

  it('mid-reload: a SIGHUP that removes a subscription still in its handshake ends, and so does the SIGTERM after it', async () => {
    const broker = await TestBroker.open(testTopology('i15-rl'));
    cleanups.push(() => broker.close());
    const stays = uniqueName('i15-rl-stays');
    const goes = uniqueName('i15-rl-goes');
    const third = uniqueName('i15-rl-third');
    for (const name of [stays, goes, third]) broker.ownSubscription(name);
    // The removed subscription's broker is behind a proxy that holds its handshake for a minute.
    const { proxy, url } = await slowBroker(60_000);
    const target = await receiver();
    const staysEntry = subscriptionEntry(stays, target.port);
    const before = configFor(broker.topology, [staysEntry, subscriptionEntry(goes, target.port)], { shutdown: { graceMs: GRACE_MS }, log: { level: 'info' } });
    // Per-subscription broker URLs do not exist: the whole daemon uses the slow broker, and
    // the subscription that stays waits for its handshake too. The reload must end anyway.
    (before.amqp as Record<string, unknown>).url = url;
    const file = writeConfig(before);
    const daemon = startDaemon(file, cleanups);
    await daemon.waitForLog((line) => line.msg === 'mllp-dispatcher started', 10_000, 'started');
    await waitFor(() => proxy.connections >= 2, { message: 'both handshakes held by the proxy' });
    rewriteConfig(file, { ...before, subscriptions: [staysEntry] });
    const hupAt = Date.now();
    daemon.kill('SIGHUP');
    const reloaded = await daemon.waitForLog((line) => line.msg === 'configuration reloaded', DEADLINE_MS, 'configuration reloaded');
    const reloadMs = Date.now() - hupAt;
    expect(reloaded.removed).toEqual([goes]);
    expect(reloaded.unchanged).toEqual([stays]);
    // A second reload (it replaces the subscription still connecting), and SIGTERM while it is in progress.
    rewriteConfig(file, { ...before, subscriptions: [subscriptionEntry(third, target.port)] });
    daemon.kill('SIGHUP');
    await daemon.waitForLog((line) => line.msg === 'reloading: stopping removed and changed subscriptions' && Array.isArray(line.removed) && line.removed.includes(stays), 5000, 'second reload begun');
    const exit = await timedSigterm(daemon);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.afterMs).toBeLessThan(DEADLINE_MS);
    console.info(`[reload removing a connecting subscription] reloaded after ${reloadMs} ms; [stop during a reload] exit ${exit.code} after ${exit.afterMs} ms`);
  });

  it('SIGTERM while a reload waits for an in-flight message: exit 0, the message settled or requeued, none lost', async () => {
    const slow = await receiver(() => ({ kind: 'ack', code: 'AA', delayMs: 1500 }));
    const sub = (name: string) => subscriptionEntry(name, slow.port, { timeouts: { connectMs: 1000, ackMs: 10_000 } });
    const { broker, name, ids } = await queuedSubscription('i15-rf', sub, 3, cleanups);
    const keepReceiver = await receiver();
    const keep = uniqueName('i15-rf-keep');
    broker.ownSubscription(keep);
    const keepEntry = subscriptionEntry(keep, keepReceiver.port);
    const before = configFor(broker.topology, [sub(name), keepEntry], { shutdown: { graceMs: GRACE_MS }, log: { level: 'info' } });
    const file = writeConfig(before);
    const daemon = startDaemon(file, cleanups);
    await waitFor(() => slow.received.length === 1, { message: 'first message in flight' });
    rewriteConfig(file, { ...before, subscriptions: [keepEntry] });
    daemon.kill('SIGHUP');
    await daemon.waitForLog((line) => line.msg === 'reloading: stopping removed and changed subscriptions', 5000, 'reload begun');
    // The reload now waits for the in-flight message's ACK (1.5 s).
    expect(daemon.lines.some((line) => line.msg === 'configuration reloaded')).toBe(false);
    const exit = await timedSigterm(daemon);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.afterMs).toBeLessThan(DEADLINE_MS);
    const accepted = daemon.settled().filter((line) => line.outcome === 'accepted').map((line) => String(line.eventId));
    await waitFor(async () => (await queueCounts(`mllp.${name}`))?.unacked === 0, { intervalMs: 200, message: 'nothing unacknowledged' });
    const left = (await broker.drain(`mllp.${name}`)).map((message) => String(message.json().id));
    // Accepted and acknowledged, or back in the queue in order: every event exactly once.
    expect([...accepted, ...left]).toEqual(ids);
    console.info(`[stop during a reload with a message in flight] exit ${exit.code} after ${exit.afterMs} ms; ${accepted.length} accepted, ${left.length} requeued`);
  });
});
