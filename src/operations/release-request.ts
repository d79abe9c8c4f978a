import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { CONTROL_HEADER, HOLD_KEY_HEADER, heldQueueName, RELEASE_EVENT_HEADER } from '../hold/hold-names.js';
import { readDeadLetter, type DeadLetterRecord } from './dead-letter.js';
import { scanQueue } from './operator-broker.js';

/**
 * The control message that ends a patient hold without sending its dead letter
 * (docs/PATIENT-HOLD.md, step 5): published into the subscription's own queue, so the
 * daemon takes it in queue order. It carries no event and no patient data.
 */
export function releaseRequest(eventId: string, holdKey: string): { content: Buffer; properties: Options.Publish } {
  return {
    content: Buffer.from('{}'),
    properties: {
      persistent: true,
      contentType: 'application/json',
      messageId: `release-${eventId}`,
      headers: { [CONTROL_HEADER]: 'release', [RELEASE_EVENT_HEADER]: eventId, [HOLD_KEY_HEADER]: holdKey },
    },
  };
}

/**
 * The control message a daemon with patient holds puts into its own queue on each new
 * connection: the active consumer (itself, or the replica that is) then reads the holds
 * and resumes a release a crash interrupted, even when no event comes.
 */
export function resumeRequest(): [Buffer, Options.Publish] {
  return [Buffer.from('{}'), { persistent: false, contentType: 'application/json', headers: { [CONTROL_HEADER]: 'resume' } }];
}

/** Publishes a release request (mandatory, confirmed); resolves false when the broker refused or returned it. */
export function publishReleaseRequest(channel: ConfirmChannel, queue: string, eventId: string, holdKey: string): Promise<boolean> {
  const { content, properties } = releaseRequest(eventId, holdKey);
  return new Promise((resolve) => {
    let returned = false;
    const onReturn = () => (returned = true);
    channel.once('return', onReturn);
    try {
      channel.publish('', queue, content, { ...properties, mandatory: true }, (error) => {
        channel.off('return', onReturn);
        resolve(!error && !returned);
      });
    } catch {
      resolve(false);
    }
  });
}

/**
 * The dead letters of `deadQueue` that hold a patient, read without consuming them (each
 * fetched unacknowledged; all return in order when the channel closes).
 */
export async function holdingDeadLetters(model: ChannelModel, deadQueue: string): Promise<DeadLetterRecord[]> {
  const channel = await model.createChannel();
  let failure: Error | undefined;
  channel.on('error', (error: Error) => (failure = error));
  const found: DeadLetterRecord[] = [];
  try {
    const { messageCount } = await channel.checkQueue(deadQueue);
    await scanQueue(channel, deadQueue, messageCount, async (message) => {
      const record = readDeadLetter(message);
      if (record.holdKey !== undefined) found.push(record);
      return 'continue';
    });
  } finally {
    await channel.close().catch(() => {});
  }
  if (failure) throw failure;
  return found;
}

/**
 * Events parked behind a hold (its queue's ready messages), or null when the hold's queue
 * does not exist: the patient is no longer held (or the daemon has not parked anything yet).
 */
export async function parkedCount(model: ChannelModel, subscription: string, holdKey: string): Promise<number | null> {
  const channel = await model.createChannel();
  channel.on('error', () => {});
  try {
    return (await channel.checkQueue(heldQueueName(subscription, holdKey))).messageCount;
  } catch {
    return null;
  } finally {
    await channel.close().catch(() => {});
  }
}
