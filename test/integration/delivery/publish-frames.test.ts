import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { directPublisher } from '../../../src/amqp/publish-frames.js';
import { ConfirmedPublisher } from '../../../src/amqp/confirmed-publish.js';
import { AMQP_URL, uniqueName } from '../../helpers/broker.js';

/** The direct receipt publish (src/amqp/publish-frames.ts) against the real broker, mixed with amqplib's own publishes. */

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

describe('direct publish on a confirm channel', () => {
  it('is available with the pinned amqplib, and the broker routes, confirms and stores what it writes, in order with amqplib publishes', async () => {
    const model = await amqp.connect(AMQP_URL);
    closers.push(() => model.close());
    const channel = await model.createConfirmChannel();
    const queue = uniqueName('publish-frames');
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
    closers.push(() => channel.deleteQueue(queue));
    expect(directPublisher(channel)).toBeDefined();

    const publisher = new ConfirmedPublisher(channel, 'test');
    const options = (i: number) => ({ contentType: 'application/json', persistent: true, correlationId: `evt-${i}` });
    const confirms: Array<Promise<void>> = [];
    for (let i = 0; i < 6; i++) {
      const body = Buffer.from(JSON.stringify({ eventId: `evt-${i}`, note: 'Zoë' }));
      // Every third one takes amqplib's path (a header makes the direct writer decline).
      confirms.push(i % 3 === 2 ? publisher.publish('', queue, body, { ...options(i), headers: { 'x-test': i } }, false) : publisher.publish('', queue, body, options(i), false));
    }
    await Promise.all(confirms);

    const got: amqp.GetMessage[] = [];
    for (let i = 0; i < 6; i++) {
      const message = await channel.get(queue, { noAck: true });
      if (message === false) break;
      got.push(message);
    }
    expect(got.map((m) => JSON.parse(m.content.toString()).eventId)).toEqual(['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5']);
    for (const [i, message] of got.entries()) {
      expect(message.content.toString()).toBe(JSON.stringify({ eventId: `evt-${i}`, note: 'Zoë' }));
      expect(message.properties).toMatchObject({ contentType: 'application/json', deliveryMode: 2, correlationId: `evt-${i}` });
    }
  });
});
