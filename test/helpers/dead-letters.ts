import type { ConfirmChannel } from 'amqplib';
import { declareTopology } from '../../src/amqp/topology.js';
import { EVENT_TYPES } from '../../src/event/patient-event.js';
import type { TestBroker } from './broker.js';
import { patientEvent } from './events.js';

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
