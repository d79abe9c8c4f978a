import type { Channel } from 'amqplib';
import { EVENT_TYPES, type EventType } from '../event/patient-event.js';

/**
 * The broker objects one subscription needs (README "How it works" and "Delivery and outcomes"):
 *
 * - topic exchange `patient.events` (producers publish `patient.<type>`);
 * - durable queue `mllp.<name>` bound for the subscription's event types, declared with
 *   `x-single-active-consumer` so that any number of replicas can run while exactly one
 *   consumes (the order of a subscription must never be split across processes);
 * - direct exchange `mllp.dead` and durable queue `mllp.<name>.dead` bound with key `<name>`;
 * - topic exchange `mllp.receipts` (consumers bind their own queues).
 *
 * Declaring is idempotent. Bindings for event types the subscription no longer takes are
 * removed, so a changed `events` list takes effect on the broker too.
 */
export interface TopologySpec {
  subscription: string;
  eventsExchange: string;
  deadLetterExchange: string;
  receiptsExchange: string;
  events: ReadonlySet<EventType>;
  queueType: 'classic' | 'quorum';
}

export function queueName(subscription: string): string {
  return `mllp.${subscription}`;
}

export function deadLetterQueueName(subscription: string): string {
  return `mllp.${subscription}.dead`;
}

export function subscriptionQueueArguments(queueType: 'classic' | 'quorum'): Record<string, unknown> {
  return { 'x-queue-type': queueType, 'x-single-active-consumer': true };
}

/** AMQP 0-9-1 reply code of a declaration whose arguments differ from the existing object's. */
const PRECONDITION_FAILED = 406;

/** Thrown when the broker already has an object with other arguments: a deployment problem, not a transient one. */
export class TopologyConflictError extends Error {
  readonly code = 'TOPOLOGY_CONFLICT';
  constructor(message: string) {
    super(message);
    this.name = 'TopologyConflictError';
  }
}

export async function declareTopology(channel: Channel, spec: TopologySpec): Promise<void> {
  const queue = queueName(spec.subscription);
  const deadQueue = deadLetterQueueName(spec.subscription);
  await channel.assertExchange(spec.eventsExchange, 'topic', { durable: true });
  await channel.assertExchange(spec.deadLetterExchange, 'direct', { durable: true });
  await channel.assertExchange(spec.receiptsExchange, 'topic', { durable: true });
  await assertQueue(channel, queue, { durable: true, arguments: subscriptionQueueArguments(spec.queueType) });
  await assertQueue(channel, deadQueue, { durable: true, arguments: { 'x-queue-type': spec.queueType } });
  await channel.bindQueue(deadQueue, spec.deadLetterExchange, spec.subscription);
  for (const type of EVENT_TYPES) {
    if (spec.events.has(type)) await channel.bindQueue(queue, spec.eventsExchange, `patient.${type}`);
    else await channel.unbindQueue(queue, spec.eventsExchange, `patient.${type}`);
  }
}

async function assertQueue(channel: Channel, queue: string, options: { durable: boolean; arguments: Record<string, unknown> }): Promise<void> {
  try {
    await channel.assertQueue(queue, options);
  } catch (error) {
    // amqplib gives the broker's reply code (406 PRECONDITION_FAILED) as `code`; the name of the
    // argument in conflict is only in the broker's reply text, so it is read from there.
    if ((error as { code?: unknown }).code !== PRECONDITION_FAILED) throw error;
    const argument = /inequivalent arg '([^']+)'/.exec((error as Error).message)?.[1] ?? 'an argument';
    const wanted = argument in options.arguments ? ` (the dispatcher declares ${argument}=${String(options.arguments[argument])})` : '';
    throw new TopologyConflictError(
      `queue ${queue} already exists on the broker with a different ${argument}${wanted}. ` +
        `Queue arguments cannot be changed in place: drain the queue, then delete it ` +
        `(rabbitmqctl delete_queue ${queue}) and restart the dispatcher, which re-creates it; ` +
        `or set amqp.declare to false if the topology is managed elsewhere.`,
    );
  }
}
