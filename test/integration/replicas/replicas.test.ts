import { afterEach, describe, expect, it } from 'vitest';
import { AMQP_URL, TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, DaemonProcess, InProcessDaemon, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver, type Received } from '../../helpers/scripted-receiver.js';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function startProcess(configFile: string): DaemonProcess {
  const daemon = new DaemonProcess(configFile);
  cleanups.push(async () => {
    daemon.kill('SIGKILL');
    await daemon.exited;
  });
  return daemon;
}

/** Control ids in the order they first reached the receiver (redeliveries removed). */
function firstDeliveries(received: Received[]): string[] {
  const seen = new Set<string>();
  return received.map((message) => message.controlId).filter((id) => !seen.has(id) && seen.add(id));
}

async function setup(prefix: string, receiverDelayMs: number) {
  const receiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AA', delayMs: receiverDelayMs }));
  cleanups.push(() => receiver.close());
  const broker = await TestBroker.open(testTopology(prefix));
  cleanups.push(() => broker.close());
  const name = uniqueName(prefix);
  broker.ownSubscription(name);
  const configFile = writeConfig(configFor(broker.topology, [subscriptionEntry(name, receiver.port, { timeouts: { connectMs: 1000, ackMs: 5000 } })], { log: { level: 'info' } }));
  const events = Array.from({ length: 500 }, (_, i) => patientEvent({ id: `${name}-${String(i).padStart(4, '0')}`, patientId: `P${i % 37}` }));
  const expected = events.map((event) => controlIdFor(String(event.id), name, 0));
  return { receiver, broker, name, configFile, events, expected };
}

describe('replicas: single active consumer', () => {
  it('two processes on one subscription: one delivers; SIGKILL it mid-stream and the standby takes over, in order', async () => {
    const { receiver, broker, name, configFile, events, expected } = await setup('sac', 2);
    const a = startProcess(configFile);
    await a.waitReady();
    const b = startProcess(configFile);
    await b.waitReady();
    await broker.publishAll(events);

    await waitFor(() => receiver.received.length >= 100, { timeoutMs: 30_000, message: '100 messages delivered' });
    // Exactly one process delivers: only one has settled anything (log lines are flushed
    // every 100 ms, so wait for the first).
    await waitFor(() => a.settled().length + b.settled().length > 0, { message: 'settled lines logged' });
    const activeIsA = a.settled().length > 0;
    const [active, standby] = activeIsA ? [a, b] : [b, a];
    expect(standby.settled()).toHaveLength(0);
    expect(receiver.connections).toBe(1);

    const killedAt = Date.now();
    const countAtKill = receiver.received.length;
    active.kill('SIGKILL');
    await active.exited;
    const takeover = await waitFor(() => receiver.received.find((message) => message.index >= countAtKill && message.connection === 2), {
      timeoutMs: 30_000,
      message: 'the standby delivers',
    });
    const failoverMs = Date.now() - killedAt;
    expect(takeover.connection).toBe(2);

    const finished = await waitFor(() => (new Set(receiver.controlIds()).size === events.length ? receiver.received : undefined), {
      timeoutMs: 60_000,
      message: 'all 500 delivered',
    });
    expect(firstDeliveries(finished)).toEqual(expected);
    // Only the messages in flight or unacked at the kill can come twice, always with the same MSH-10.
    const duplicates = finished.length - events.length;
    expect(duplicates).toBeLessThanOrEqual(65);
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: 'queue drained' });
    expect(standby.lines.some((line) => line.msg === 'this process is the active consumer')).toBe(true);
    console.info(`failover: SIGKILL of the active replica to the standby's first delivery ${failoverMs} ms; duplicates ${duplicates}`);
  });

  it('a rolling restart (start B, SIGTERM A) loses and reorders nothing', async () => {
    // 10 ms per ACK: 500 events take ~5 s, so the hand-over lands mid-stream.
    const { receiver, broker, name, configFile, events, expected } = await setup('roll', 10);
    const a = startProcess(configFile);
    await a.waitReady();
    await broker.publishAll(events);
    await waitFor(() => receiver.received.length >= 100, { timeoutMs: 30_000, message: 'A delivering' });
    const b = startProcess(configFile);
    await b.waitReady();
    const deliveredByA = receiver.received.length;
    expect(deliveredByA).toBeLessThan(events.length);
    a.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    const finished = await waitFor(() => (new Set(receiver.controlIds()).size === events.length ? receiver.received : undefined), {
      timeoutMs: 60_000,
      message: 'all 500 delivered',
    });
    expect(firstDeliveries(finished)).toEqual(expected);
    // A graceful hand-over lets the in-flight message finish: at most it is sent again.
    expect(finished.length - events.length).toBeLessThanOrEqual(1);
    expect(b.settled().length).toBeGreaterThan(0);
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: 'queue drained' });
  });

  it('reports a standby as ready, with its role in /readyz', async () => {
    const { receiver, broker, name } = await setup('role', 0);
    const config = configFor(broker.topology, [subscriptionEntry(name, receiver.port)], { amqp: { queuePollMs: 50 } });
    const first = await InProcessDaemon.start(config);
    cleanups.push(() => first.stop());
    const second = await InProcessDaemon.start(config);
    cleanups.push(() => second.stop());
    // The active one gets deliveries; keep the queue non-empty with a receiver that never answers.
    receiver.setBehaviour(() => ({ kind: 'none' }));
    await broker.publishAll(Array.from({ length: 80 }, () => patientEvent()));
    const roles = await waitFor(() => {
      const rs = [first, second].map((d) => d.daemon.readiness().subscriptions as Array<{ role: string }>);
      const pair = rs.map((r) => r[0]!.role).sort();
      return pair[0] === 'active' && pair[1] === 'standby' ? pair : undefined;
    }, { message: 'one active, one standby' });
    expect(roles).toEqual(['active', 'standby']);
    expect(first.daemon.readiness().ready && second.daemon.readiness().ready).toBe(true);
  });
});

describe('cluster connection', () => {
  it('connects through the second URL when the first is a closed port', async () => {
    const receiver = await ScriptedReceiver.start();
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('urls'));
    cleanups.push(() => broker.close());
    const name = uniqueName('urls');
    broker.ownSubscription(name);
    const closed = new URL(AMQP_URL);
    closed.port = '1'; // nothing listens on port 1
    const receipts = await broker.captureReceipts();
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [subscriptionEntry(name, receiver.port)], { amqp: { url: [closed.toString(), AMQP_URL] } }),
    );
    cleanups.push(() => daemon.stop());
    await broker.publish(patientEvent());
    await waitFor(() => receipts.length === 1, { message: 'delivered through the second node' });
    expect(daemon.logs.some((line) => line.msg === 'cannot connect to the broker' && String(line.broker).includes(':1'))).toBe(true);
  });
});
