import type { ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { Delivery } from '../amqp/session-options.js';
import type { Hold } from './hold-book.js';
import type { HoldChannel } from './hold-channel.js';

export interface DrainOptions {
  hold: Hold;
  channel: HoldChannel;
  generation: number;
  /** False once the connection generation the drain belongs to is gone. */
  isCurrent: () => boolean;
  /** Sends a parked event (through the resolution stage and the stream); settling it calls `delivery.ack`. */
  resolve: (delivery: Delivery) => void;
  logger: Logger;
}

/**
 * Releases a hold in state `releasing` (docs/PATIENT-HOLD.md, step 4): fetches the parked
 * events one at a time, in order, and sends each, fetching the next only after the one in
 * hand is settled and acked. Events of the patient that arrive meanwhile are parked behind
 * them. When the queue is empty and no park is unconfirmed, the hold is `finishing`: its
 * queue is deleted and the `release` record written. Resolves true when the hold ended,
 * false when it stopped early (dead-lettered again, or the connection went: a crash or a
 * reconnect resumes from the log, the event in hand back at the head of its queue).
 */
export async function drainHold(options: DrainOptions): Promise<boolean> {
  const { hold, channel, logger } = options;
  const live = () => options.isCurrent() && hold.state === 'releasing';
  await channel.declareHeld(hold.id);
  const seen = new Set<string>();
  let sent = 0;
  while (live()) {
    const message = await channel.next(hold.id);
    if (!live()) return false; // a message in hand returns to the head of its queue with the channel
    if (message === false) {
      if (hold.pendingParks > 0) {
        await new Promise<void>((resolve) => hold.parksIdle.push(resolve));
        continue;
      }
      hold.state = 'finishing';
      await channel.deleteHeld(hold.id);
      await channel.append({ op: 'release', hold: hold.id });
      if (!options.isCurrent()) return false;
      logger.info({ hold: hold.id, sent }, 'patient hold ended: the parked events were sent');
      return true;
    }
    // The AMQP message id is the event id (README, "Dead letters: inspect, replay, discard").
    const eventId = message.properties.messageId as unknown;
    if (typeof eventId === 'string' && (seen.has(eventId) || eventId === hold.eventId)) {
      // A second copy of a park whose ack was lost with a connection: sent once only. Or a
      // copy of the dead-lettered event itself (redelivered after a crash before its ack,
      // and parked behind its own dead letter): the dead letter was replayed or discarded.
      channel.ack(message);
      continue;
    }
    if (typeof eventId === 'string') seen.add(eventId);
    await new Promise<void>((settled) => {
      const delivery: Delivery = {
        message: message as unknown as ConsumeMessage,
        generation: options.generation,
        ack: () => {
          if (!options.isCurrent()) return false;
          channel.ack(message);
          settled();
          return true;
        },
      };
      options.resolve(delivery);
    });
    sent++;
  }
  return false;
}
