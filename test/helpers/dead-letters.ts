import type { ConfirmChannel } from 'amqplib';
import { declareTopology } from '../../src/amqp/topology.js';
import { EVENT_TYPES } from '../../src/event/patient-event.js';
import { TestBroker, testTopology, uniqueName } from './broker.js';
import { configFor, subscriptionEntry, writeConfig } from './daemon.js';
import { patientEvent } from './events.js';
import { ScriptedReceiver, type Behaviour } from './scripted-receiver.js';
import { openBroker, startSubscriptions } from './subscriptions.js';

/** Declares a subscription's queues as the daemon does (without running it); close() deletes them. */
export async function declareSubscription(broker: TestBroker, name: string): Promise<void> {
  broker.ownSubscription(name);
  await declareTopology(broker.channel, { subscription: name, eventsExchange: broker.topology.exchange, deadLetterExchange: broker.topology.deadLetterExchange, receiptsExchange: broker.topology.receiptsExchange, events: new Set(EVENT_TYPES), queueType: 'classic' });
}

export interface SyntheticDeadLetter {
  eventId: string;
  outcome: string;
  reason: string;
  at: string;
  ackCode?: string;
  controlId?: string;
  attempts?: number;
}

/** Publishes a dead letter the way the daemon's settler writes one (src/runner/settler.ts), confirmed. */
export async function publishDeadLetter(broker: TestBroker, subscription: string, letter: SyntheticDeadLetter): Promise<void> {
  const body = Buffer.from(JSON.stringify(patientEvent({ id: letter.eventId })));
  await new Promise<void>((resolve, reject) => {
    (broker.channel as ConfirmChannel).publish(
      broker.topology.deadLetterExchange,
      subscription,
      body,
      {
        persistent: true,
        contentType: 'application/json',
        messageId: letter.eventId,
        headers: {
          'x-producer-trace': 'kept',
          'x-mllp-outcome': letter.outcome,
          'x-mllp-reason': letter.reason,
          'x-mllp-ack-code': letter.ackCode ?? '',
          'x-mllp-attempts': letter.attempts ?? 1,
          'x-mllp-control-id': letter.controlId ?? '',
          'x-mllp-subscription': subscription,
          'x-mllp-routing-key': 'patient.create',
          'x-mllp-dead-lettered-at': letter.at,
        },
      },
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

/** Message ids of a queue, in order, read and acked (empties the queue). */
export async function drainIds(broker: TestBroker, queue: string): Promise<string[]> {
  return (await broker.drain(queue)).map((message) => String(message.properties.messageId));
}

/**
 * A running daemon with two subscriptions on the same events: `name`, whose receiver answers
 * as `behaviour` says, and `other`, a bystander answering AA, to show that what an operator
 * command puts into `mllp.<name>` reaches no other subscription. `configFile` is the same
 * configuration, for the CLI.
 */
export async function targetAndBystander(prefix: string, behaviour: Behaviour, cleanups: Array<() => Promise<unknown>>) {
  const { broker, receipts } = await openBroker(prefix, cleanups);
  const target = await ScriptedReceiver.start(behaviour);
  cleanups.push(() => target.close());
  const bystander = await ScriptedReceiver.start();
  cleanups.push(() => bystander.close());
  const name = uniqueName(prefix);
  const other = uniqueName(`${prefix}-other`);
  const entries = [subscriptionEntry(name, target.port), subscriptionEntry(other, bystander.port)];
  await startSubscriptions(broker, entries, cleanups);
  return { broker, receipts, target, bystander, name, other, configFile: writeConfig(configFor(broker.topology, entries)) };
}

/**
 * A test broker on its own exchanges and a subscription's queues, declared as the daemon
 * declares them, without a daemon; `configFile` names the subscription for the CLI.
 * Everything is deleted by `cleanups`.
 */
export async function subscriptionQueues(prefix: string, cleanups: Array<() => Promise<unknown>>): Promise<{ broker: TestBroker; name: string; configFile: string }> {
  const broker = await TestBroker.open(testTopology(prefix));
  cleanups.push(() => broker.close());
  const name = uniqueName(prefix);
  await declareSubscription(broker, name);
  return { broker, name, configFile: writeConfig(configFor(broker.topology, [subscriptionEntry(name, 1)])) };
}
