import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../helpers/broker.js';
import { configFor, DaemonProcess, subscriptionEntry, writeConfig } from '../helpers/daemon.js';
import { patientEvent } from '../helpers/events.js';
import { ScriptedReceiver, type Behaviour } from '../helpers/scripted-receiver.js';
import { queueCounts } from '../helpers/rabbitmqctl.js';
import { checkStream } from '../helpers/stream-check.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const EVENTS = 5;

/**
 * A daemon consuming EVENTS queued events whose receiver holds the ACK of the first
 * message for `ackDelayMs`; SIGTERM is sent the moment that message arrives.
 */
async function sigtermWithMessageInFlight(options: { graceMs: number; ackDelayMs: number }) {
  const topology = testTopology('dis-term');
  const broker = await TestBroker.open(topology);
  cleanups.push(() => broker.close());
  const name = uniqueName('dis-term');
  broker.ownSubscription(name);

  let daemon: DaemonProcess | undefined;
  let sigtermAt = 0;
  const behaviour: Behaviour = (message) => {
    if (message.index === 0) {
      sigtermAt = Date.now();
      daemon!.kill('SIGTERM');
      return { kind: 'ack', code: 'AA', delayMs: options.ackDelayMs };
    }
    return { kind: 'ack', code: 'AA' };
  };
  const receiver = await ScriptedReceiver.start(behaviour);
  cleanups.push(() => receiver.close());
  const configFile = writeConfig(
    configFor(topology, [subscriptionEntry(name, receiver.port, { timeouts: { connectMs: 1000, ackMs: 30_000 } })], {
      shutdown: { graceMs: options.graceMs },
      log: { level: 'info' },
    }),
  );

  // Declare the queue (a first daemon run), queue the events with nothing consuming, then
  // start the daemon under test: it takes the events in order.
  const declarer = new DaemonProcess(configFile);
  await declarer.waitReady();
  declarer.kill('SIGTERM');
  expect((await declarer.exited).code).toBe(0);
  const events = Array.from({ length: EVENTS }, (_, index) => {
    const patientId = `PAT-TERM-${index}`;
    return { event: patientEvent({ patientId }), patientId };
  });
  await broker.publishAll(events.map(({ event }) => event));
  const published = events.map(({ event, patientId }) => ({ id: event.id, patientId }));

  daemon = new DaemonProcess(configFile);
  const started = daemon;
  cleanups.push(async () => {
    started.kill('SIGKILL');
    await started.exited;
  });
  const exit = await started.exited;
  const stoppedAfterMs = Date.now() - sigtermAt;
  return { broker, name, receiver, daemon: started, exit, stoppedAfterMs, published, configFile };
}

describe('SIGTERM mid-stream', () => {
  it('every event settled as accepted before the exit is acknowledged: none is left in the queue to be sent twice', async () => {
    const topology = testTopology('dis-term');
    const broker = await TestBroker.open(topology);
    cleanups.push(() => broker.close());
    const name = uniqueName('dis-term');
    broker.ownSubscription(name);
    // A quick receiver: ACKs, receipts and acks follow each other closely.
    const receiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AA' }));
    cleanups.push(() => receiver.close());
    const configFile = writeConfig(configFor(topology, [subscriptionEntry(name, receiver.port)], { log: { level: 'info' } }));
    const started = new DaemonProcess(configFile);
    cleanups.push(async () => {
      started.kill('SIGKILL');
      await started.exited;
    });
    await started.waitReady();
    // Published while it consumes: each event is delivered as it arrives.
    const events = Array.from({ length: 40 }, (_, index) => patientEvent({ patientId: `PAT-BURST-${index}` }));
    const publishing = broker.publishAll(events);
    // The signal follows the tenth "event settled" line as closely as the log allows: while that
    // event's receipt confirm and ack are still on their way.
    await waitFor(() => started.settled().length >= 10, { intervalMs: 1, message: '10 events settled' });
    started.kill('SIGTERM');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    await publishing;
    const accepted = started.settled().filter((line) => line.outcome === 'accepted').map((line) => String(line.eventId));
    const left = (await broker.drain(`mllp.${name}`)).map((message) => String(message.json().id));
    expect(accepted.length).toBeGreaterThanOrEqual(10);
    // Settled and acknowledged, or never started and requeued in order: never both.
    expect(left.filter((id) => accepted.includes(id))).toEqual([]);
    expect([...accepted, ...left]).toEqual(events.map((event) => event.id));
    console.info(`[sigterm mid-stream] exit 0; ${accepted.length} accepted and acked, ${left.length} requeued`);
  });
});

describe('SIGTERM with a message in flight', () => {
  it('an ACK within shutdown.graceMs: that message is accepted and acked, the rest requeued in order, exit 0', async () => {
    const graceMs = 3_000;
    const ackDelayMs = 2_000;
    const { broker, name, receiver, daemon, exit, stoppedAfterMs, published } = await sigtermWithMessageInFlight({ graceMs, ackDelayMs });
    expect(exit).toEqual({ code: 0, signal: null });
    // It waited for the ACK, not for the whole grace period.
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(ackDelayMs - 100);
    expect(stoppedAfterMs).toBeLessThan(graceMs + 2_000);
    // Nothing new was sent after the signal.
    expect(receiver.received).toHaveLength(1);
    // The in-flight event was settled as accepted...
    const settled = daemon.settled();
    expect(settled.map((line) => [line.eventId, line.outcome, line.ackCode])).toEqual([[published[0]!.id, 'accepted', 'AA']]);
    // ...and acknowledged: the queue holds exactly the other events, in publish order.
    const left = await broker.drain(`mllp.${name}`);
    expect(left.map((message) => message.json().id)).toEqual(published.slice(1).map((event) => event.id));
    console.info(`[sigterm within grace] exit ${exit.code} after ${stoppedAfterMs} ms (ACK delay ${ackDelayMs} ms, grace ${graceMs} ms); in-flight event accepted; ${left.length} requeued`);
  });

  it('an ACK later than shutdown.graceMs: the in-flight message is requeued, exit 0, and the next daemon resends it with the same MSH-10', async () => {
    const graceMs = 1_000;
    const ackDelayMs = 4_000;
    const { broker, name, receiver, daemon, exit, stoppedAfterMs, published, configFile } = await sigtermWithMessageInFlight({ graceMs, ackDelayMs });
    expect(exit).toEqual({ code: 0, signal: null });
    // It gave up after the grace period instead of waiting for the ACK.
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(graceMs - 100);
    expect(stoppedAfterMs).toBeLessThan(ackDelayMs);
    expect(receiver.received).toHaveLength(1);
    expect(daemon.settled()).toEqual([]);
    // Everything, the abandoned message included, is back in the queue.
    const counts = await queueCounts(`mllp.${name}`);
    expect(counts).toEqual({ ready: EVENTS, unacked: 0 });

    // The next daemon delivers all of them; the first one again with the same MSH-10.
    receiver.setBehaviour(() => ({ kind: 'ack', code: 'AA' }));
    const next = new DaemonProcess(configFile);
    cleanups.push(async () => {
      next.kill('SIGKILL');
      await next.exited;
    });
    await waitFor(() => checkStream(receiver.received, published, name).distinct === EVENTS && next.settled().length === EVENTS, {
      message: 'all events delivered by the next daemon',
    });
    const report = checkStream(receiver.received, published, name);
    expect(report.firstArrivalInPublishOrder).toBe(true);
    expect(report.wrongControlIds).toEqual([]);
    expect(report.duplicatedEvents).toEqual([published[0]!.id]);
    expect(receiver.received[1]!.controlId).toBe(receiver.received[0]!.controlId);
    expect(next.settled().map((line) => line.outcome)).toEqual(Array(EVENTS).fill('accepted'));
    await waitFor(async () => {
      const after = await queueCounts(`mllp.${name}`);
      return after?.ready === 0 && after.unacked === 0;
    }, { intervalMs: 250, message: 'queue empty' });
    next.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
    expect(await broker.messageCount(`mllp.${name}`)).toBe(0);
    console.info(
      `[sigterm past grace] exit ${exit.code} after ${stoppedAfterMs} ms (ACK delay ${ackDelayMs} ms, grace ${graceMs} ms); ${counts!.ready} requeued; ` +
        `next daemon: ${report.messages} messages for ${report.distinct} events, duplicate ${report.duplicatedEvents.join(',')} with the same MSH-10 ${receiver.received[0]!.controlId}`,
    );
  });
});
