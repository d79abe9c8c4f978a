import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { publishFrames } from '../../../src/amqp/publish-frames.js';

// amqplib's own encoder (the path ConfirmChannel.publish takes), as the judge of every byte.
const require = createRequire(import.meta.url);
const amqplibLib = join(dirname(require.resolve('amqplib')), 'lib');
const defs = require(join(amqplibLib, 'defs.js'));
const Args = require(join(amqplibLib, 'api_args.js'));
const frame = require(join(amqplibLib, 'frame.js'));

function amqplibFrames(ch: number, exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Buffer {
  const fields = Args.publish(exchange, routingKey, options);
  return Buffer.concat([defs.encodeMethod(defs.BasicPublish, ch, fields), defs.encodeProperties(defs.BasicProperties, ch, content.length, fields), frame.makeBodyFrame(ch, content)]);
}

const receipt = Buffer.from('{"eventId":"evt-1","subscription":"lab","outcome":"accepted"}');

describe('publishFrames', () => {
  it.each([
    ['a receipt with a correlation id', 1, 'mllp.receipts', 'lab.accepted', receipt, { contentType: 'application/json', persistent: true, correlationId: 'evt-1' }],
    ['a receipt without one', 7, 'mllp.receipts', 'lab.invalid-event', receipt, { contentType: 'application/json', persistent: true }],
    ['non-persistent, no content type, empty body', 65535, '', 'some-queue', Buffer.alloc(0), { persistent: false }],
    ['a correlation id and keys outside ASCII', 2, 'échange', 'clé.accepted', Buffer.from('Zoë'), { contentType: 'text/plain', correlationId: 'évt-ü' }],
    ['no options at all', 3, 'x', 'y', receipt, {}],
  ] as const)('writes the bytes amqplib writes: %s', (_name, ch, exchange, routingKey, content, options) => {
    const ours = publishFrames(ch, exchange, routingKey, content, options);
    expect(ours?.toString('hex')).toBe(amqplibFrames(ch, exchange, routingKey, content, options).toString('hex'));
  });

  it('reuses the encoded basic.publish frame of an exchange and routing key, and still writes each body', () => {
    const cache = new Map<string, Buffer>();
    const first = publishFrames(1, 'mllp.receipts', 'lab.accepted', receipt, { persistent: true }, cache);
    const other = Buffer.from('{"eventId":"evt-2"}');
    const second = publishFrames(1, 'mllp.receipts', 'lab.accepted', other, { persistent: true }, cache);
    expect(cache.size).toBe(1);
    expect(first?.toString('hex')).toBe(amqplibFrames(1, 'mllp.receipts', 'lab.accepted', receipt, { persistent: true }).toString('hex'));
    expect(second?.toString('hex')).toBe(amqplibFrames(1, 'mllp.receipts', 'lab.accepted', other, { persistent: true }).toString('hex'));
  });

  it('declines what it does not encode, so the caller publishes through amqplib', () => {
    expect(publishFrames(1, 'x', 'y', receipt, { headers: { a: 1 } })).toBeUndefined();
    expect(publishFrames(1, 'x', 'y', receipt, { mandatory: true })).toBeUndefined();
    expect(publishFrames(1, 'x', 'y', receipt, { messageId: 'm' })).toBeUndefined();
    expect(publishFrames(1, 'x'.repeat(256), 'y', receipt, {})).toBeUndefined();
    expect(publishFrames(1, 'x', 'y', receipt, { correlationId: 'c'.repeat(256) })).toBeUndefined();
  });
});
