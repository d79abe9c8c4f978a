import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../helpers/broker.js';
import { configFor, DaemonProcess, subscriptionEntry, writeConfig } from '../helpers/daemon.js';
import { patientEvent } from '../helpers/events.js';
import { ScriptedReceiver } from '../helpers/scripted-receiver.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function setup() {
  const topology = testTopology('dis-topo');
  const broker = await TestBroker.open(topology);
  cleanups.push(() => broker.close());
  const name = uniqueName('dis-topo');
  broker.ownSubscription(name);
  const receiver = await ScriptedReceiver.start();
  cleanups.push(() => receiver.close());
  return { topology, broker, name, receiver };
}

function start(configFile: string): DaemonProcess {
  const daemon = new DaemonProcess(configFile);
  cleanups.push(async () => {
    daemon.kill('SIGKILL');
    await daemon.exited;
  });
  return daemon;
}

/** Exits on its own within the deadline; a daemon still running fails the test. */
async function exitOf(daemon: DaemonProcess, timeoutMs = 20_000) {
  const timeout = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), timeoutMs).unref());
  return Promise.race([daemon.exited, timeout]);
}

describe('a queue that exists on the broker with other arguments', () => {
  it('without x-single-active-consumer: run exits 78 naming the queue and the argument', async () => {
    const { topology, broker, name, receiver } = await setup();
    await broker.channel.assertQueue(`mllp.${name}`, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    const daemon = start(writeConfig(configFor(topology, [subscriptionEntry(name, receiver.port)])));
    expect(await exitOf(daemon)).toEqual({ code: 78, signal: null });
    const stderr = daemon.stderr.join('');
    expect(stderr).toContain(`queue mllp.${name} already exists on the broker with a different x-single-active-consumer`);
    expect(stderr).toContain('(the dispatcher declares x-single-active-consumer=true)');
    expect(stderr).toContain(`rabbitmqctl delete_queue mllp.${name}`);
    // It never consumed, and the existing queue was left as it was.
    expect(daemon.lines.some((line) => line.msg === 'broker session consuming')).toBe(false);
    expect(daemon.lines.some((line) => line.level === 'fatal')).toBe(true);
    expect(await broker.messageCount(`mllp.${name}`)).toBe(0);
  });

  it('a quorum queue where the configuration says classic: exit 78 naming x-queue-type', async () => {
    const { topology, broker, name, receiver } = await setup();
    await broker.channel.assertQueue(`mllp.${name}`, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true } });
    const daemon = start(writeConfig(configFor(topology, [subscriptionEntry(name, receiver.port)], { amqp: { queueType: 'classic' } })));
    expect(await exitOf(daemon)).toEqual({ code: 78, signal: null });
    const stderr = daemon.stderr.join('');
    expect(stderr).toContain(`queue mllp.${name} already exists on the broker with a different x-queue-type`);
    expect(stderr).toContain('(the dispatcher declares x-queue-type=classic)');
  });

  it('a classic queue where the configuration says quorum: exit 78 naming x-queue-type', async () => {
    const { topology, broker, name, receiver } = await setup();
    await broker.channel.assertQueue(`mllp.${name}`, { durable: true, arguments: { 'x-queue-type': 'classic', 'x-single-active-consumer': true } });
    const daemon = start(writeConfig(configFor(topology, [subscriptionEntry(name, receiver.port)], { amqp: { queueType: 'quorum' } })));
    expect(await exitOf(daemon)).toEqual({ code: 78, signal: null });
    expect(daemon.stderr.join('')).toContain(`queue mllp.${name} already exists on the broker with a different x-queue-type (the dispatcher declares x-queue-type=quorum)`);
  });

  it('with amqp.declare false the daemon uses the queue as it is (the remedy the message names)', async () => {
    const { topology, broker, name, receiver } = await setup();
    await broker.channel.assertQueue(`mllp.${name}`, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await broker.channel.bindQueue(`mllp.${name}`, topology.exchange, 'patient.create');
    const daemon = start(writeConfig(configFor(topology, [subscriptionEntry(name, receiver.port)], { amqp: { declare: false, receipts: false } })));
    await daemon.waitReady();
    const event = patientEvent({ type: 'create' });
    await broker.publish(event);
    await waitFor(() => daemon.settled().find((line) => line.eventId === event.id), { message: 'event settled' });
    expect(receiver.received).toHaveLength(1);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  });
});
