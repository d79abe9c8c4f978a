import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { directPublisher, type DirectPublish } from './publish-frames.js';

/** Header that identifies a mandatory publication, to match the broker's basic.return to it. */
export const PUBLISH_ID_HEADER = 'x-mllp-publish-id';

/** A mandatory publish that no queue was bound to receive. */
export class UnroutableError extends Error {
  readonly code = 'UNROUTABLE';
  constructor(message: string) {
    super(message);
    this.name = 'UnroutableError';
  }
}

/** Publishes on one publisher-confirm channel, and tells which mandatory publishes the broker returned. */
export class ConfirmedPublisher {
  private counter = 0;
  /** Ids of mandatory publishes the broker returned as unroutable (basic.return precedes the confirm). */
  private readonly returned = new Set<string>();
  private readonly direct: DirectPublish | undefined;

  constructor(
    private readonly channel: ConfirmChannel,
    /** Makes publish ids unique across the session's connections. */
    private readonly idPrefix: string,
  ) {
    this.direct = directPublisher(channel);
    channel.on('return', (message: { properties: { headers?: Record<string, unknown> } }) => {
      const id = message.properties.headers?.[PUBLISH_ID_HEADER];
      if (typeof id === 'string') this.returned.add(id);
    });
  }

  /**
   * Resolves when the broker has taken responsibility for the message, rejects when it
   * refused it or the channel closed first. With `mandatory`, a message no queue is bound
   * to receive is returned by the broker (before its confirm) and the promise rejects with
   * UnroutableError instead of resolving.
   */
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, mandatory: boolean): Promise<void> {
    const publishId = mandatory ? `${this.idPrefix}.${++this.counter}` : undefined;
    const publishOptions = publishId ? { ...options, mandatory: true, headers: { ...(options.headers ?? {}), [PUBLISH_ID_HEADER]: publishId } } : options;
    return new Promise((resolve, reject) => {
      const confirmed = (error: unknown) => {
        if (error) return reject(error instanceof Error ? error : new Error('publish not confirmed'));
        if (publishId !== undefined && this.returned.delete(publishId)) {
          return reject(new UnroutableError(`no queue is bound to exchange ${exchange} with routing key ${routingKey}`));
        }
        resolve();
      };
      try {
        // Receipts take the direct path (publish-frames.ts); the rest, or when it declines, amqplib's.
        if (publishId === undefined && this.direct?.(exchange, routingKey, content, options, confirmed)) return;
        this.channel.publish(exchange, routingKey, content, publishOptions, confirmed);
      } catch (error) {
        reject(error as Error);
      }
    });
  }
}

/**
 * Ready-message counts of the given queues, read with passive declares on a short-lived
 * channel (a missing queue closes the channel it was asked on, never the session's).
 */
export async function queueMessageCounts(model: ChannelModel, queues: readonly string[]): Promise<Array<number | undefined>> {
  const channel = await model.createChannel();
  channel.on('error', () => {});
  const counts: Array<number | undefined> = [];
  try {
    for (const queue of queues) counts.push((await channel.checkQueue(queue)).messageCount);
  } catch {
    while (counts.length < queues.length) counts.push(undefined);
    return counts;
  }
  await channel.close().catch(() => {});
  return counts;
}
