import { afterEach, describe, expect, it } from 'vitest';
import { configFor, InProcessDaemon, subscriptionEntry, writeConfig } from '../helpers/daemon.js';
import { scrape } from '../helpers/metrics.js';
import { ScriptedReceiver } from '../helpers/scripted-receiver.js';
import { closedPort, subscriptionStatus } from '../helpers/subscriptions.js';
import { queueCounts, rabbitmqctl } from '../helpers/rabbitmqctl.js';
import { queuedSubscription, startDaemon, timedSigterm } from '../helpers/stop-timing.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A broker memory alarm (rabbitmqctl set_vm_memory_high_watermark to a tiny value) blocks
 * every publishing connection of the SHARED broker: the window is kept as short as the test
 * allows and the previous value is restored in a finally block.
 *
 * RabbitMQ blocks a connection (and says so with connection.blocked) when it publishes
 * during the alarm. Two daemons deliver events whose receipts the blocked broker will not
 * confirm: one, a
 * process, gets SIGTERM while blocked (exit 0 within graceMs + 5 s, every event back in
 * the queue); the other, in this process, shows the state (log once, /readyz, metric) and
 * its recovery once the alarm clears.
 */

const GRACE_MS = 2000;
const EVENTS = 3;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

/** The current memory high watermark as `set_vm_memory_high_watermark` takes it back. */
async function currentWatermark(): Promise<string[]> {
  const value = (await rabbitmqctl('eval', 'vm_memory_monitor:get_vm_memory_high_watermark().')).trim();
  const absolute = /^\{absolute,\s*"?([^"}]+)"?\}$/.exec(value);
  if (absolute) return ['absolute', absolute[1]!];
  if (!/^[0-9.]+$/.test(value)) throw new Error(`unexpected watermark ${value}`);
  return [value];
}

describe('broker blocked (memory alarm)', () => {
  it('is logged once, named in /readyz and the metric, cleared on unblock; SIGTERM while blocked exits 0 in time and loses nothing', async () => {
    const port = await closedPort();
    const sub = (name: string) => subscriptionEntry(name, port);
    const stopped = await queuedSubscription('i15-bb', sub, EVENTS, cleanups);
    const watched = await queuedSubscription('i15-bw', sub, EVENTS, cleanups);
    const config = (broker: typeof stopped.broker, name: string) => configFor(broker.topology, [sub(name)], { shutdown: { graceMs: GRACE_MS }, log: { level: 'info' } });
    const daemon = startDaemon(writeConfig(config(stopped.broker, stopped.name)), cleanups);
    const started = await daemon.waitForLog((line) => line.msg === 'mllp-dispatcher started', 15_000, 'started');
    const inProcess = await InProcessDaemon.start(config(watched.broker, watched.name), { waitConsuming: false });
    cleanups.push(() => inProcess.stop());
    // Both hold their events while the receiver is down: nothing is published yet.
    for (const name of [stopped.name, watched.name]) {
      await waitFor(async () => (await queueCounts(`mllp.${name}`))?.unacked === EVENTS, { intervalMs: 200, message: `${name} holds its events` });
    }

    const previous = await currentWatermark();
    let receiver: ScriptedReceiver | undefined;
    cleanups.push(async () => receiver?.close());
    let exit: Awaited<ReturnType<typeof timedSigterm>>;
    let blockedReady: { status: number; body: string };
    let blockedMetric: string;
    try {
      await rabbitmqctl('set_vm_memory_high_watermark', '0.0001');
      // The broker blocks a connection when it publishes during the alarm: the receiver comes
      // up now, accepts everything, and the receipts that follow are what the broker blocks.
      const up = await ScriptedReceiver.start(undefined, undefined, port);
      receiver = up;
      await waitFor(() => up.received.length === 2 * EVENTS, { message: 'both daemons delivered' });
      await daemon.waitForLog((line) => line.msg === 'broker blocked this connection (resource alarm): dead letters, receipts and acks wait until it unblocks', 15_000, 'blocked (process)');
      await waitFor(() => subscriptionStatus(inProcess, watched.name)?.brokerBlocked, { message: 'blocked (in process)' });
      const httpPort = Number(started.httpPort);
      blockedReady = await scrape(httpPort, '/readyz');
      blockedMetric = (await scrape(httpPort, '/metrics')).body;
      exit = await timedSigterm(daemon);
    } finally {
      await rabbitmqctl('set_vm_memory_high_watermark', ...previous);
    }
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.afterMs).toBeLessThan(GRACE_MS + 5000);
    expect(blockedReady.status).toBe(503);
    expect(blockedReady.body).toMatch(/the broker blocks this connection \(resource alarm\): .*memory/i);
    expect(blockedMetric).toMatch(new RegExp(`mllp_broker_blocked\\{subscription="${stopped.name}"\\} 1`));
    // The stop left no event acknowledged that was not settled: all back in the queue.
    await waitFor(async () => {
      const counts = await queueCounts(`mllp.${stopped.name}`);
      return counts?.ready === EVENTS && counts.unacked === 0;
    }, { intervalMs: 200, message: 'the stopped daemon\'s events requeued' });

    // The other daemon recovers on its own: unblocked once, ready, every event settled.
    await waitFor(() => inProcess.settled().length === EVENTS, { message: 'events settled after the unblock' });
    const blockedLines = inProcess.logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('broker blocked this connection'));
    const unblockedLines = inProcess.logs.filter((line) => line.msg === 'broker unblocked this connection');
    expect(blockedLines).toHaveLength(1);
    expect(unblockedLines).toHaveLength(1);
    expect(subscriptionStatus(inProcess, watched.name)?.brokerBlocked).toBeUndefined();
    await waitFor(() => inProcess.daemon.readiness().ready, { message: 'ready again' });
    expect(await inProcess.daemon.metrics.brokerBlocked.get()).toMatchObject({ values: [{ value: 0, labels: { subscription: watched.name } }] });
    console.info(`[stop while the broker is blocked] exit ${exit.code} after ${exit.afterMs} ms (grace ${GRACE_MS} ms); ${EVENTS} events requeued`);
  });
});
