import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { metricValue, scrape } from '../../helpers/metrics.js';
import { subscriptionQueueArguments } from '../../../src/amqp/topology.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

describe('a dead letter with nowhere to go', () => {
  it('is never silently dropped: the event stays unacknowledged, readiness and a metric say why', async () => {
    const receiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AE' }));
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('unroutable'));
    cleanups.push(() => broker.close());
    const name = uniqueName('unroutable');
    broker.ownSubscription(name);
    // The topology is "managed elsewhere" (amqp.declare false) and nobody bound a dead-letter queue.
    await broker.channel.assertQueue(`mllp.${name}`, { durable: true, arguments: subscriptionQueueArguments('classic') });
    await broker.channel.bindQueue(`mllp.${name}`, broker.topology.exchange, 'patient.*');
    const daemon = await InProcessDaemon.start(configFor(broker.topology, [subscriptionEntry(name, receiver.port)], { amqp: { declare: false } }));
    cleanups.push(() => daemon.stop());

    await broker.publish(patientEvent());
    const line = await waitFor(() => daemon.logs.find((entry) => String(entry.msg).startsWith('dead letter could not be routed')), { message: 'unroutable logged' });
    expect(String(line.err)).toContain(`no queue is bound to exchange ${broker.topology.deadLetterExchange} with routing key ${name}`);
    const readiness = daemon.daemon.readiness() as { ready: boolean; subscriptions: Array<{ problems: string[] }> };
    expect(readiness.ready).toBe(false);
    expect(readiness.subscriptions[0]!.problems.join(' ')).toContain('dead letter(s) could not be routed');
    expect(metricValue((await scrape(daemon.daemon.port!)).body, 'mllp_dead_letters_unroutable_total', { subscription: name })).toBe(1);

    // Not acknowledged: stopping returns it to the queue, where an operator finds it.
    await daemon.stop();
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 1, { message: 'the event is back in its queue' });
  });
});
