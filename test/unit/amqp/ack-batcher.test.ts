import { describe, expect, it } from 'vitest';
import type { Channel } from 'amqplib';
import { AckBatcher } from '../../../src/amqp/ack-batcher.js';

/** Records the acks sent, as [deliveryTag, multiple]. */
function recordingChannel() {
  const acks: Array<[number, boolean]> = [];
  const channel = {
    ack: (message: { fields: { deliveryTag: number } }, multiple: boolean) => acks.push([message.fields.deliveryTag, multiple]),
  } as unknown as Channel;
  return { channel, acks };
}

describe('AckBatcher', () => {
  it('acknowledges a settled run at the head with one multiple ack', () => {
    const { channel, acks } = recordingChannel();
    const batcher = new AckBatcher(channel);
    for (const tag of [1, 2, 3, 4]) batcher.received(tag);
    for (const tag of [1, 2, 3]) batcher.ack(tag);
    batcher.flush();
    expect(acks).toEqual([[3, true]]);
  });

  it('acks out-of-order settlements singly, and never covers an unsettled delivery', () => {
    const { channel, acks } = recordingChannel();
    const batcher = new AckBatcher(channel);
    for (const tag of [1, 2, 3, 4, 5]) batcher.received(tag);
    batcher.ack(2);
    batcher.ack(4);
    batcher.flush();
    // 1 is not settled: nothing may be acked with multiple, 2 and 4 go singly.
    expect(acks).toEqual([
      [2, false],
      [4, false],
    ]);
    acks.length = 0;
    batcher.ack(1);
    batcher.ack(3);
    batcher.flush();
    // Now 1..4 are settled (2 and 4 already acked): one multiple ack up to 3 covers 1 and 3,
    // and the head moves past 4 without acking it again.
    expect(acks).toEqual([[3, true]]);
    acks.length = 0;
    batcher.ack(5);
    batcher.flush();
    expect(acks).toEqual([[5, true]]);
  });

  it('sends the batch of one event loop turn by itself', async () => {
    const { channel, acks } = recordingChannel();
    const batcher = new AckBatcher(channel);
    batcher.received(7);
    batcher.received(8);
    batcher.ack(7);
    batcher.ack(8);
    expect(acks).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(acks).toEqual([[8, true]]);
  });

  it('survives a channel that closed before the flush', () => {
    const channel = {
      ack: () => {
        throw new Error('Channel closed');
      },
    } as unknown as Channel;
    const batcher = new AckBatcher(channel);
    batcher.received(1);
    batcher.ack(1);
    expect(() => batcher.flush()).not.toThrow();
  });
});
