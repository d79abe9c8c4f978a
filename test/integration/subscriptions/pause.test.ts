import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import { uniqueName } from '../../helpers/broker.js';
import { runCli } from '../../helpers/cli.js';
import { configFor, DaemonProcess, InProcessDaemon, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { metricValue, scrape } from '../../helpers/metrics.js';
import { queueCounts } from '../../helpers/rabbitmqctl.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { openBroker, patientIdOf, receiptsOf, rewriteConfig, stopProcess } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * `"paused": true` on a subscription: applied by SIGHUP, it stops consuming after the
 * message in flight settles; events wait in the queue, in order, none acknowledged;
 * /readyz stays ready and says paused; `mllp_subscription_paused` says so; resuming goes on
 * where it stopped.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

interface ReadyBody {
  ready: boolean;
  subscriptions: Array<{ name: string; paused: boolean; eventsWaiting?: number | null }>;
}

describe('pause and resume a subscription', () => {
  it('SIGHUP with paused: the in-flight event settles, later and new events wait unacknowledged, resume delivers them in order', async () => {
    const { broker, receipts } = await openBroker('i16-pause', cleanups);
    const receiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AA', delayMs: 300 }));
    cleanups.push(() => receiver.close());
    const name = uniqueName('i16-pause');
    broker.ownSubscription(name);
    const entry = subscriptionEntry(name, receiver.port);
    const config = configFor(broker.topology, [entry], { log: { level: 'info' } });
    const configFile = writeConfig(config);
    const daemon = new DaemonProcess(configFile);
    cleanups.push(() => stopProcess(daemon));
    await daemon.waitReady();
    const started = await daemon.waitForLog((line) => line.msg === 'mllp-dispatcher started');
    const port = Number(started.httpPort);

    const events = Array.from({ length: 8 }, (_, index) => patientEvent({ patientId: `PAT-PAUSE-${index}` }));
    await broker.publishAll(events.slice(0, 5));
    await waitFor(() => receiver.received.length >= 1, { message: 'first event in flight' });

    rewriteConfig(configFile, { ...config, subscriptions: [{ ...entry, paused: true }] });
    daemon.kill('SIGHUP');
    await daemon.waitForLog((line) => line.msg === 'subscription paused: events wait in the queue');
    // Whatever was sent before the pause was answered and settled; nothing was sent after.
    const sentBeforePause = receiver.received.length;
    expect(sentBeforePause).toBeGreaterThanOrEqual(1);
    expect(sentBeforePause).toBeLessThan(5);
    await waitFor(() => receiptsOf(receipts, name).length === sentBeforePause, { message: 'in-flight events settled' });

    await broker.publishAll(events.slice(5));
    const waiting = 8 - sentBeforePause;
    const counts = await waitFor(async () => {
      const current = await queueCounts(`mllp.${name}`);
      return current?.ready === waiting ? current : undefined;
    }, { intervalMs: 250, message: `${waiting} events waiting in the queue` });
    expect(counts.unacked).toBe(0);
    expect(receiver.received).toHaveLength(sentBeforePause);

    const readyz = await scrape(port, '/readyz');
    expect(readyz.status).toBe(200);
    const body = JSON.parse(readyz.body) as ReadyBody;
    expect(body.subscriptions).toEqual([expect.objectContaining({ name, paused: true })]);
    const metrics = await scrape(port);
    expect(metricValue(metrics.body, 'mllp_subscription_paused', { subscription: name })).toBe(1);
    expect(metricValue(metrics.body, 'mllp_subscription_consuming', { subscription: name })).toBe(0);

    rewriteConfig(configFile, config);
    daemon.kill('SIGHUP');
    await waitFor(() => receiptsOf(receipts, name).length === 8, { timeoutMs: 20_000, message: 'all 8 settled after resume' });
    expect(receiptsOf(receipts, name).every((receipt) => receipt.outcome === 'accepted')).toBe(true);
    // Each once, in publish order.
    expect(receiver.received.map((message) => patientIdOf(message.text))).toEqual(events.map((_, index) => `PAT-PAUSE-${index}`));
    const resumed = JSON.parse((await scrape(port, '/readyz')).body) as ReadyBody;
    expect(resumed.subscriptions).toEqual([expect.objectContaining({ name, paused: false })]);
    expect(metricValue((await scrape(port)).body, 'mllp_subscription_paused', { subscription: name })).toBe(0);
    expect(await stopProcess(daemon)).toEqual({ code: 0, signal: null });
  });

  it('a subscription paused from its first start declares its queue and keeps what is published until resumed', async () => {
    const { broker, receipts } = await openBroker('i16-pause', cleanups);
    const receiver = await ScriptedReceiver.start();
    cleanups.push(() => receiver.close());
    const name = uniqueName('i16-paused');
    broker.ownSubscription(name);
    const entry = subscriptionEntry(name, receiver.port);
    const daemon = await InProcessDaemon.start(configFor(broker.topology, [{ ...entry, paused: true }]));
    cleanups.push(() => daemon.stop());
    await waitFor(async () => (await queueCounts(`mllp.${name}`)) !== undefined, { intervalMs: 250, message: 'queue declared by the paused subscription' });
    const events = Array.from({ length: 3 }, (_, index) => patientEvent({ patientId: `PAT-PFS-${index}` }));
    await broker.publishAll(events);
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 3, { message: 'three events waiting' });
    expect(daemon.daemon.readiness().ready).toBe(true);
    expect(receiver.received).toHaveLength(0);

    const summary = await daemon.daemon.reload(loadConfig({ configFile: writeConfig(configFor(broker.topology, [entry])), env: {} }));
    expect(summary.changed).toEqual([name]);
    await waitFor(() => receiptsOf(receipts, name).length === 3, { message: 'delivered after resume' });
    expect(receiver.received.map((message) => patientIdOf(message.text))).toEqual(['PAT-PFS-0', 'PAT-PFS-1', 'PAT-PFS-2']);
  });

  it('check-config refuses a paused that is not a boolean (78, naming the key)', async () => {
    const file = writeConfig({ subscriptions: [{ ...subscriptionEntry('i16-bad', 1), paused: 'yes' }] });
    const result = await runCli(['check-config', '--config', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('subscriptions[0] (i16-bad).paused: must be true or false');
  });
});
