import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { closedPort, outcomeCounts, patientIdOf, receiptsOf, subscriptionStatus } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * Subscriptions are isolated: a receiver that is down, one that rejects everything and one
 * that is slow each affect only their own subscription.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

describe('subscriptions: isolation', () => {
  it('a receiver down, one rejecting (AR) and one slow: the slow and the rejecting progress, the down one waits, nothing is lost', async () => {
    const broker = await TestBroker.open(testTopology('subs-iso'));
    cleanups.push(() => broker.close());
    const receipts = await broker.captureReceipts();

    const slow = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AA', delayMs: 30 }));
    cleanups.push(() => slow.close());
    const rejecting = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AR', errorCode: '207', text: 'rejected by test' }));
    cleanups.push(() => rejecting.close());
    const downPort = await closedPort();

    const a = uniqueName('iso-slow');
    const b = uniqueName('iso-down');
    const c = uniqueName('iso-reject');
    for (const name of [a, b, c]) broker.ownSubscription(name);
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [
        subscriptionEntry(a, slow.port),
        // A small prefetch, so part of B's backlog stays ready in its queue.
        subscriptionEntry(b, downPort, { prefetch: 5 }),
        subscriptionEntry(c, rejecting.port, { retry: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } }),
      ]),
    );
    cleanups.push(() => daemon.stop());

    const events = Array.from({ length: 20 }, (_, index) => patientEvent({ type: index % 3 === 1 ? 'update' : 'create', patientId: `PAT-ISO${String(index).padStart(2, '0')}` }) as Record<string, unknown> & { id: string });
    const patientIds = events.map((_, index) => `PAT-ISO${String(index).padStart(2, '0')}`);
    await broker.publishAll(events);

    // A: every event, in order, each acknowledged after the slow AA.
    await waitFor(() => receiptsOf(receipts, a).length === events.length, { message: 'A: a receipt per event', timeoutMs: 30_000 });
    expect(slow.received.map((message) => patientIdOf(message.text))).toEqual(patientIds);
    expect(receiptsOf(receipts, a).map((receipt) => [receipt.eventId, receipt.outcome])).toEqual(events.map((event) => [event.id, 'accepted']));
    // C: every event refused twice (maxAttempts 2), then dead-lettered; the stream moved on.
    await waitFor(() => receiptsOf(receipts, c).length === events.length, { message: 'C: a receipt per event', timeoutMs: 30_000 });
    expect(receiptsOf(receipts, c).map((receipt) => [receipt.eventId, receipt.outcome, receipt.ackCode, receipt.attempts])).toEqual(
      events.map((event) => [event.id, 'rejected', 'AR', 2]),
    );
    expect(rejecting.received.map((message) => patientIdOf(message.text))).toEqual(patientIds.flatMap((id) => [id, id]));
    await waitFor(async () => (await broker.messageCount(`mllp.${c}.dead`)) === events.length, { message: 'C: every event dead-lettered' });

    // B, all this time: nothing settled, every event either ready in its queue or in flight.
    const statusOf = (name: string) => subscriptionStatus(daemon, name)!;
    expect(receiptsOf(receipts, b)).toEqual([]);
    const backlog = await waitFor(
      async () => {
        const ready = await broker.messageCount(`mllp.${b}`);
        const inFlight = statusOf(b).eventsInFlight;
        return ready + inFlight === events.length ? { ready, inFlight } : undefined;
      },
      { message: 'B: ready + in flight = published' },
    );
    expect(backlog.inFlight).toBeLessThanOrEqual(5);
    expect(backlog.ready).toBeGreaterThanOrEqual(events.length - 5);
    expect(statusOf(b).receiverUp).toBe(false);
    expect(statusOf(a)).toMatchObject({ receiverUp: true, eventsInFlight: 0 });
    await waitFor(async () => (await broker.messageCount(`mllp.${a}`)) === 0, { message: 'A: queue empty' });
    await waitFor(async () => (await broker.messageCount(`mllp.${c}`)) === 0, { message: 'C: queue empty' });
    // Every subscription still consumes its queue; only B reports its receiver down.
    expect(statusOf(a)).toMatchObject({ consuming: true, receiverUp: true });
    expect(statusOf(b)).toMatchObject({ consuming: true, receiverUp: false, receiverConnections: 0 });
    expect(statusOf(c)).toMatchObject({ consuming: true, receiverUp: true, eventsInFlight: 0 });
    console.info(
      `isolation: A ${JSON.stringify(outcomeCounts(receiptsOf(receipts, a)))}, C ${JSON.stringify(outcomeCounts(receiptsOf(receipts, c)))}, ` +
        `B waiting: ${backlog.ready} ready + ${backlog.inFlight} in flight`,
    );

    // B's receiver comes up on its port: B delivers its whole backlog, in order, none lost.
    const late = await ScriptedReceiver.start(undefined, undefined, downPort);
    cleanups.push(() => late.close());
    await waitFor(() => receiptsOf(receipts, b).length === events.length, { message: 'B: a receipt per event', timeoutMs: 30_000 });
    expect(late.received.map((message) => patientIdOf(message.text))).toEqual(patientIds);
    expect(receiptsOf(receipts, b).map((receipt) => [receipt.eventId, receipt.outcome])).toEqual(events.map((event) => [event.id, 'accepted']));
    await waitFor(async () => (await broker.messageCount(`mllp.${b}`)) === 0, { message: 'B: queue empty' });
    // A and C got nothing more meanwhile.
    expect(slow.received).toHaveLength(events.length);
    expect(rejecting.received).toHaveLength(2 * events.length);
  });
});
