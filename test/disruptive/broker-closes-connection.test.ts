import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../helpers/broker.js';
import { configFor, DaemonProcess, subscriptionEntry, writeConfig, type LogLine } from '../helpers/daemon.js';
import { patientEvent } from '../helpers/events.js';
import { ScriptedReceiver } from '../helpers/scripted-receiver.js';
import { brokerClosesConnections, queueCounts } from '../helpers/rabbitmqctl.js';
import { checkStream, ReadinessRecorder } from '../helpers/stream-check.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

/**
 * `rabbitmqctl close_all_connections` also closes the test's own connection;
 * amqplib then emits 'error' on it, which must not crash the test worker.
 */
function tolerateConnectionLoss(broker: TestBroker): void {
  const internals = broker as unknown as { model: NodeJS.EventEmitter; channel: NodeJS.EventEmitter };
  internals.model.on('error', () => {});
  internals.channel.on('error', () => {});
}

const timeOf = (line: LogLine) => Date.parse(String(line.time));

describe('the broker closes the daemon connection mid-stream', () => {
  it('reconnects with backoff, re-declares, resumes: all 200 delivered, first arrivals in publish order, duplicates only with the same MSH-10, /readyz drops and returns', async () => {
    const topology = testTopology('dis-close');
    const broker = await TestBroker.open(topology);
    tolerateConnectionLoss(broker);
    const name = uniqueName('dis-close');
    broker.ownSubscription(name);
    cleanups.push(async () => {
      // The test's first connection may have been closed too: clean up on a fresh one.
      await broker.close().catch(() => {});
      const cleaner = await TestBroker.open(topology);
      cleaner.ownSubscription(name);
      await cleaner.close();
    });
    // A receiver slow enough (25 ms per ACK until the loss, 3 ms after) that the close lands
    // mid-stream even though rabbitmqctl takes a second or two.
    let ackDelayMs = 25;
    const receiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AA', delayMs: ackDelayMs }));
    cleanups.push(() => receiver.close());

    const reconnect = { initialDelayMs: 400, maxDelayMs: 2_000 };
    const configFile = writeConfig(
      configFor(topology, [subscriptionEntry(name, receiver.port, { retry: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 3 } })], {
        amqp: { reconnect },
        log: { level: 'info' },
      }),
    );
    const daemon = new DaemonProcess(configFile);
    cleanups.push(async () => {
      daemon.kill('SIGKILL');
      await daemon.exited;
    });
    const started = await daemon.waitForLog((line) => line.msg === 'mllp-dispatcher started');
    await daemon.waitReady();
    const readiness = new ReadinessRecorder(Number(started.httpPort)).start();
    cleanups.push(async () => readiness.stop());
    await waitFor(() => readiness.last === 200, { message: '/readyz 200 before the close' });

    const events = Array.from({ length: 200 }, (_, index) => {
      const patientId = `PAT-CLOSE-${String(index).padStart(3, '0')}`;
      return { event: patientEvent({ patientId }), patientId };
    });
    await broker.publishAll(events.map(({ event }) => event));
    const published = events.map(({ event, patientId }) => ({ id: event.id, patientId }));

    await waitFor(() => receiver.received.length >= 40, { message: '40 messages at the receiver before the close' });
    // Remove one object the daemon declares: finding it again afterwards proves the re-declaration.
    await broker.channel.deleteQueue(`mllp.${name}.dead`);
    const closed = await brokerClosesConnections((connectionName) => connectionName === `mllp-dispatcher ${name}`, 'test', { all: true });
    expect(closed).toBe(1);

    const lost = await daemon.waitForLog((line) => line.msg === 'broker connection lost; reconnecting', 15_000, 'connection lost');
    const distinctAtLoss = checkStream(receiver.received, published, name).distinct;
    ackDelayMs = 3;
    expect(String(lost.reason)).toMatch(/CONNECTION_FORCED|test|closed/i);
    // The close landed mid-stream.
    expect(distinctAtLoss).toBeLessThan(200);

    // Resumes on a new connection (a second "consuming") and delivers everything.
    const resumed = await daemon.waitForLog((line) => line.msg === 'broker session consuming' && timeOf(line) >= timeOf(lost), 30_000, 'consuming again');
    // A fresh connection of the test's own: close_all_connections closed the first one.
    const verifier = await TestBroker.open(topology);
    cleanups.push(() => verifier.close());
    expect(await verifier.messageCount(`mllp.${name}.dead`)).toBe(0);
    await waitFor(() => checkStream(receiver.received, published, name).distinct === 200, { timeoutMs: 60_000, message: 'all 200 events at the receiver' });
    await waitFor(() => readiness.last === 200, { message: '/readyz 200 again' });
    readiness.stop();

    const report = checkStream(receiver.received, published, name);
    expect(report.unknownMessages).toBe(0);
    expect(report.distinct).toBe(200);
    expect(report.firstArrivalInPublishOrder).toBe(true);
    expect(report.wrongControlIds).toEqual([]);
    // Readiness dropped while reconnecting and came back.
    expect(readiness.sequence).toEqual([200, 503, 200]);
    const reconnectMs = timeOf(resumed) - timeOf(lost);
    // Backoff: the first reconnect waits between initialDelayMs / 2 and initialDelayMs.
    expect(reconnectMs).toBeGreaterThanOrEqual(reconnect.initialDelayMs / 2 - 5);
    expect(reconnectMs).toBeLessThan(10_000);
    const notReadyMs = readiness.changes[2]!.at - readiness.changes[1]!.at;

    // Every event was settled as accepted (at least once) and acknowledged while the daemon
    // still runs: nothing ready, nothing unacknowledged.
    await waitFor(
      () => new Set(daemon.settled().filter((line) => line.outcome === 'accepted').map((line) => line.eventId)).size === 200,
      { message: '200 accepted settlements' },
    );
    await waitFor(async () => {
      const counts = await queueCounts(`mllp.${name}`);
      return counts?.ready === 0 && counts.unacked === 0;
    }, { timeoutMs: 20_000, intervalMs: 250, message: `mllp.${name} empty with nothing unacknowledged` });
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(await verifier.messageCount(`mllp.${name}`)).toBe(0);
    expect(daemon.lines.filter((line) => line.msg === 'broker session consuming')).toHaveLength(2);

    console.info(
      `[broker close] delivered ${report.distinct}/200 distinct, ${report.messages} messages, ${report.duplicates} duplicates ` +
        `(${report.duplicatedEvents.length} events, same MSH-10: ${report.wrongControlIds.length === 0}), ` +
        `received before the loss ${distinctAtLoss}, reconnected after ${reconnectMs} ms, /readyz not ready for ${notReadyMs} ms, ` +
        `stale settlements ${daemon.lines.filter((line) => String(line.msg).startsWith('broker connection lost before the event was acknowledged')).length}, ` +
        `acked without resending ${daemon.lines.filter((line) => String(line.msg).startsWith('redelivered event was already accepted')).length}`,
    );
  });
});
