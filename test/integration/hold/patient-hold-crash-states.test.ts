import type { ConfirmChannel, Options } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { declareSubscription } from '../../helpers/dead-letters.js';
import { InProcessDaemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';
import type { TestBroker } from '../../helpers/broker.js';
import type { HoldRecord } from '../../../src/hold/hold-book.js';
import { HOLD_KEY_HEADER, holdLogQueueName, keyHash } from '../../../src/hold/hold-names.js';
import { depthOrNull, holdSetup, SYSTEM, type Cleanups } from './support.js';

/**
 * The crash points a timed SIGKILL cannot reach (docs/PATIENT-HOLD.md, "Crash points"):
 * the broker is put in exactly the state a crash between two steps leaves behind (log
 * records, parked events, the event redelivered), then the daemon starts on it.
 */

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function publishTo(broker: TestBroker, queue: string, body: unknown, properties: Options.Publish = {}): Promise<void> {
  return new Promise((resolve, reject) =>
    (broker.channel as ConfirmChannel).publish('', queue, Buffer.from(JSON.stringify(body)), { persistent: true, contentType: 'application/json', ...properties }, (error) => (error ? reject(error) : resolve())),
  );
}

/** The subscription's queues and the hold log with `records`, as the daemon declares them (amqp.queueType classic). */
async function crashState(prefix: string, records: (hold: string, eventId: (label: string) => string) => HoldRecord[]) {
  const setup = await holdSetup(prefix, cleanups);
  await declareSubscription(setup.broker, setup.name);
  const hold = keyHash(setup.name, `${SYSTEM}|PA`);
  const log = holdLogQueueName(setup.name);
  await setup.broker.channel.assertQueue(log, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  for (const record of records(hold, setup.id)) await publishTo(setup.broker, log, record);
  const heldA = setup.heldQueue('PA');
  /** An event as the producer sent it, or as a parked or replayed copy carries it. */
  const put = (queue: string, event: Record<string, unknown>, headers: Record<string, unknown> = {}) =>
    publishTo(setup.broker, queue, event, { messageId: String(event.id), headers: { 'x-mllp-routing-key': `patient.${String(event.type)}`, ...headers } });
  return { ...setup, hold, heldA, put, main: `mllp.${setup.name}` };
}

async function startInProcess(config: Record<string, unknown>): Promise<InProcessDaemon> {
  const daemon = await InProcessDaemon.start(config);
  cleanups.push(() => daemon.stop());
  return daemon;
}

describe('patient hold: the state a crash between two steps leaves', () => {
  it('after the dead letter and the hold record, before the ack: the redelivered event parks behind its own dead letter and is not sent again when that is discarded', async () => {
    const state = await crashState('hold-crash-ack', (hold, id) => [{ op: 'hold', hold, key: hold, eventId: id('A1') }]);
    const { broker, put, event, id, heldA, main, name, configFile, receivedIds } = state;
    await broker.channel.assertQueue(heldA, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    // The dead letter was confirmed; A1 itself was not acked, so it is still in the queue.
    await new Promise<void>((resolve, reject) =>
      (broker.channel as ConfirmChannel).publish(broker.topology.deadLetterExchange, name, Buffer.from(JSON.stringify(event('A1', 'PA'))), { persistent: true, messageId: id('A1'), headers: { 'x-mllp-outcome': 'application-error', 'x-mllp-reason': 'receiver answered AE', [HOLD_KEY_HEADER]: state.hold } }, (error) => (error ? reject(error) : resolve())),
    );
    await put(main, event('A1', 'PA'));
    await put(main, event('A2', 'PA'));
    await put(main, event('B1', 'PB'));
    await startInProcess(state.config);
    await waitFor(() => receivedIds().includes(id('B1')), { message: 'B1 delivered' });
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 2, { message: 'A1 (the copy) and A2 parked' });
    expect(receivedIds()).toEqual([id('B1')]);

    const discard = await runCli(['replay', '--subscription', name, '--config', configFile, '--event-id', id('A1'), '--discard', '--yes']);
    expect(discard.code, discard.stderr).toBe(0);
    await waitFor(() => receivedIds().includes(id('A2')), { message: 'A2 released' });
    await waitFor(async () => (await depthOrNull(broker, heldA)) === null, { message: 'held queue deleted' });
    expect(receivedIds()).toEqual([id('B1'), id('A2')]);
  });

  it('after the `releasing` record, before the replayed dead letter is acked: it is not sent again; the parked events are, each once', async () => {
    const state = await crashState('hold-crash-releasing', (hold, id) => [{ op: 'hold', hold, key: hold, eventId: id('A1') }, { op: 'releasing', hold }]);
    const { broker, put, event, id, heldA, main, receivedIds } = state;
    await broker.channel.assertQueue(heldA, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    // A2 and A3 were parked twice: their first parks were confirmed but not acked before a
    // crash, so they were redelivered and parked again (after a park is confirmed, before its ack).
    for (const label of ['A2', 'A3', 'A2', 'A3']) await put(heldA, event(label, 'PA'));
    await put(main, event('A1', 'PA'), { [HOLD_KEY_HEADER]: state.hold, 'x-mllp-replays': 1 });
    await put(main, event('A4', 'PA'));
    await startInProcess(state.config);
    await waitFor(() => receivedIds().includes(id('A4')), { message: 'A4 delivered' });
    expect(receivedIds()).toEqual([id('A2'), id('A3'), id('A4')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === null, { message: 'held queue deleted' });
    expect(await broker.messageCount(main)).toBe(0);
  });

  it('after the held queue is deleted, before the `release` record: the release is finished and the patient flows', async () => {
    const state = await crashState('hold-crash-deleted', (hold, id) => [{ op: 'hold', hold, key: hold, eventId: id('A1') }, { op: 'releasing', hold }]);
    const { broker, put, event, id, heldA, main, receivedIds } = state;
    const daemon = await startInProcess(state.config);
    await put(main, event('A2', 'PA'));
    await waitFor(() => receivedIds().includes(id('A2')), { message: 'A2 delivered' });
    await waitFor(() => daemon.logs.some((line) => line.msg === 'patient hold ended: the parked events were sent'), { message: 'hold ended' });
    expect(await depthOrNull(broker, heldA)).toBeNull();
    // The log now folds to no hold: a restart holds nobody.
    await daemon.stop();
    const again = await startInProcess(state.config);
    await put(main, event('A3', 'PA'));
    await waitFor(() => receivedIds().includes(id('A3')), { message: 'A3 delivered after a restart' });
    expect(again.logs.some((line) => line.msg === 'patient holds read from the broker')).toBe(false);
  });

  it('a log read twice (a crash during compaction): the duplicates fold away; the hold is still there, once', async () => {
    const state = await crashState('hold-crash-compact', (hold, id) => [
      { op: 'hold', hold, key: hold, eventId: id('A1') },
      { op: 'hold', hold, key: hold, eventId: id('A1') },
    ]);
    const { broker, put, event, id, heldA, main, receivedIds } = state;
    await broker.channel.assertQueue(heldA, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    const daemon = await startInProcess(state.config);
    await put(main, event('A2', 'PA'));
    await put(main, event('B1', 'PB'));
    await waitFor(() => receivedIds().includes(id('B1')), { message: 'B1 delivered' });
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 1, { message: 'A2 parked' });
    const metrics = await daemon.daemon.metrics.registry.metrics();
    expect(metrics).toMatch(new RegExp(`^mllp_held_patients\\{subscription="${state.name}"\\} 1$`, 'm'));
    await waitFor(async () => (await broker.messageCount(holdLogQueueName(state.name))) === 1, { message: 'log compacted to one record' });
  });

  it('a dead letter replayed while the daemon is down is the first thing it takes: it releases the hold (read before anything is decided)', async () => {
    const state = await crashState('hold-crash-replayed', (hold, id) => [{ op: 'hold', hold, key: hold, eventId: id('A1') }]);
    const { broker, put, event, id, heldA, main, receivedIds } = state;
    await broker.channel.assertQueue(heldA, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await put(heldA, event('A2', 'PA'));
    await put(main, event('A1', 'PA'), { [HOLD_KEY_HEADER]: state.hold, 'x-mllp-replays': 1 });
    await put(main, event('A3', 'PA'));
    await startInProcess(state.config);
    await waitFor(() => receivedIds().includes(id('A3')), { message: 'A3 delivered' });
    expect(receivedIds()).toEqual([id('A1'), id('A2'), id('A3')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === null, { message: 'held queue deleted' });
  });
});
