import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../helpers/broker.js';
import { configFor, DaemonProcess, subscriptionEntry, writeConfig } from '../helpers/daemon.js';
import { patientEvent } from '../helpers/events.js';
import { ScriptedReceiver } from '../helpers/scripted-receiver.js';
import { queueCounts } from '../helpers/rabbitmqctl.js';
import { checkStream } from '../helpers/stream-check.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const EVENTS = 500;
/**
 * Sent but not yet acknowledged to the broker when the kill lands: the message in flight,
 * and those accepted whose receipt confirm (and so whose ack) was still pending.
 */
const UNACKED_AT_KILL_MAX = 5;

describe('daemon SIGKILL with events queued, then restart', () => {
  it(`loses nothing: all ${EVENTS} delivered, first arrivals in publish order, redeliveries with the same MSH-10, queue empty`, async () => {
    const topology = testTopology('dis-kill');
    const broker = await TestBroker.open(topology);
    cleanups.push(() => broker.close());
    const name = uniqueName('dis-kill');
    broker.ownSubscription(name);
    // 10 ms per ACK until the kill (500 events would take over 5 s, so the kill lands
    // mid-stream), 2 ms after it.
    let ackDelayMs = 10;
    const receiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AA', delayMs: ackDelayMs }));
    cleanups.push(() => receiver.close());
    const configFile = writeConfig(configFor(topology, [subscriptionEntry(name, receiver.port)], { log: { level: 'info' } }));

    // The first daemon declares the topology; the events are queued behind it.
    const first = new DaemonProcess(configFile);
    cleanups.push(async () => {
      first.kill('SIGKILL');
      await first.exited;
    });
    await first.waitReady();
    const events = Array.from({ length: EVENTS }, (_, index) => {
      const patientId = `PAT-KILL-${String(index).padStart(3, '0')}`;
      return { event: patientEvent({ patientId }), patientId };
    });
    // Receipts are the durable record of outcomes: log lines of a SIGKILLed process may
    // miss its last 100 ms (they are buffered), receipts are confirmed before each ack.
    const receipts = await broker.captureReceipts();
    await broker.publishAll(events.map(({ event }) => event));
    const published = events.map(({ event, patientId }) => ({ id: event.id, patientId }));

    await waitFor(() => receiver.received.length >= 100, { timeoutMs: 30_000, message: '100 messages before the kill' });
    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const atKill = checkStream(receiver.received, published, name);
    const settledBeforeKill = new Set(first.settled().map((line) => line.eventId)).size;
    // Mid-stream: some, not all.
    expect(atKill.distinct).toBeGreaterThanOrEqual(100);
    expect(atKill.distinct).toBeLessThan(EVENTS);
    // The broker takes every unacknowledged delivery back.
    const afterKill = await waitFor(async () => {
      const counts = await queueCounts(`mllp.${name}`);
      return counts && counts.unacked === 0 ? counts : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, message: 'unacked deliveries returned to the queue' });
    // Back in the queue: everything never sent, plus the last few sent whose acks had not
    // reached the broker (in flight, or waiting for their receipt's confirm). Nothing older.
    expect(afterKill.ready).toBeGreaterThanOrEqual(EVENTS - atKill.distinct);
    expect(afterKill.ready).toBeLessThanOrEqual(EVENTS - atKill.distinct + UNACKED_AT_KILL_MAX);

    ackDelayMs = 2;
    const second = new DaemonProcess(configFile);
    cleanups.push(async () => {
      second.kill('SIGKILL');
      await second.exited;
    });
    const restartedAt = Date.now();
    await waitFor(() => checkStream(receiver.received, published, name).distinct === EVENTS, { timeoutMs: 90_000, message: `all ${EVENTS} events at the receiver` });
    const catchUpMs = Date.now() - restartedAt;
    await waitFor(async () => {
      const counts = await queueCounts(`mllp.${name}`);
      return counts?.ready === 0 && counts.unacked === 0;
    }, { timeoutMs: 30_000, intervalMs: 250, message: 'queue empty, nothing unacknowledged' });

    const report = checkStream(receiver.received, published, name);
    expect(report.unknownMessages).toBe(0);
    expect(report.distinct).toBe(EVENTS);
    expect(report.firstArrivalInPublishOrder).toBe(true);
    // Redelivered events (the one in flight at the kill) carry the MSH-10 of their first send.
    expect(report.wrongControlIds).toEqual([]);
    // Only events the first daemon sent without getting to ack them come twice: the last few
    // before the kill, each exactly twice, the second time from the second daemon.
    expect(report.duplicates).toBe(report.duplicatedEvents.length);
    expect(report.duplicates).toBeLessThanOrEqual(UNACKED_AT_KILL_MAX);
    second.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(await broker.messageCount(`mllp.${name}`)).toBe(0);

    const indexOf = new Map(published.map((event, index) => [String(event.id), index]));
    for (const eventId of report.duplicatedEvents) {
      expect(indexOf.get(eventId)!).toBeGreaterThanOrEqual(atKill.distinct - UNACKED_AT_KILL_MAX);
      expect(indexOf.get(eventId)!).toBeLessThan(atKill.distinct);
      // The second daemon (stopped cleanly, so its log is complete) settled it.
      expect(second.settled().some((line) => line.eventId === eventId)).toBe(true);
    }
    // Every event has an accepted receipt (from one daemon or the other).
    const accepted = new Set(receipts.map((receipt) => receipt.json()).filter((receipt) => receipt.outcome === 'accepted').map((receipt) => receipt.eventId));
    expect(accepted.size).toBe(EVENTS);

    console.info(
      `[sigkill] killed after ${atKill.distinct} distinct at the receiver (${settledBeforeKill} settled by the first daemon), ` +
        `${afterKill.ready} back in the queue; after restart all ${report.distinct}/${EVENTS} delivered in ${catchUpMs} ms, ` +
        `${report.messages} messages, ${report.duplicates} duplicate(s) ${JSON.stringify(report.duplicatedEvents)} with the same MSH-10`,
    );
  });
});
