import type { ConfirmChannel, Options } from 'amqplib';

/**
 * A faster `ConfirmChannel.publish` for the daemon's own small messages (receipts): the three
 * AMQP 0-9-1 frames of a publish (basic.publish, content header, body) written as one buffer,
 * with the basic.publish frame of each exchange and routing key encoded once. amqplib builds
 * each frame through its generic codec (about 3 µs per publish, most of it checking and
 * encoding 14 optional properties); the bytes written here are the same as amqplib's, which
 * test/unit/amqp/publish-frames.test.ts checks against amqplib's own encoder.
 *
 * Only the options receipts use are handled: `contentType`, `persistent`, `correlationId`,
 * not mandatory. Anything else, or a body too large for one frame, returns false and the
 * caller publishes the usual way. Relies on amqplib internals checked for 2.3.1 (pinned in
 * package.json): the channel's number (`ch`), its connection's per-channel write stream
 * (`connection.channels[ch].buffer`), `frameMax`, and `pushConfirmCallback`; without them
 * `directPublisher` returns undefined (src/amqp/coalesce-writes.ts relies on the same
 * connection).
 */

const FRAME_END = 0xce;
const CLASS_BASIC = 60;
const METHOD_PUBLISH = 40;
// Property flags of class basic, in property order (AMQP 0-9-1, section 4.2.6.1).
const FLAG_CONTENT_TYPE = 0x8000;
const FLAG_HEADERS = 0x2000;
const FLAG_DELIVERY_MODE = 0x1000;
const FLAG_CORRELATION_ID = 0x0400;

interface ChannelInternals {
  ch?: number;
  connection?: { channels?: Array<{ buffer?: { write(chunk: Buffer): boolean } } | undefined>; frameMax?: number; sentSinceLastCheck?: boolean };
  pushConfirmCallback?: (cb: (error: unknown) => void) => void;
}

export type DirectPublish = (exchange: string, routingKey: string, content: Buffer, options: Options.Publish, confirmed: (error: unknown) => void) => boolean;

/** The direct publish for this confirm channel, or undefined when amqplib's internals are not as expected. */
export function directPublisher(channel: ConfirmChannel): DirectPublish | undefined {
  const internals = channel as unknown as ChannelInternals;
  const ch = internals.ch;
  const connection = internals.connection;
  if (typeof ch !== 'number' || !connection?.channels || typeof internals.pushConfirmCallback !== 'function') return undefined;
  const methodFrames = new Map<string, Buffer>();
  return (exchange, routingKey, content, options, confirmed) => {
    const frames = publishFrames(ch, exchange, routingKey, content, options, methodFrames);
    const stream = connection.channels?.[ch]?.buffer;
    if (frames === undefined || stream === undefined || content.length + 8 > (connection.frameMax ?? 0)) return false;
    connection.sentSinceLastCheck = true;
    stream.write(frames);
    internals.pushConfirmCallback!.call(channel, confirmed);
    return true;
  };
}

/** The frames of one publish as one buffer, or undefined for options this writer does not handle. */
export function publishFrames(ch: number, exchange: string, routingKey: string, content: Buffer, options: Options.Publish, methodFrames = new Map<string, Buffer>()): Buffer | undefined {
  for (const key in options) if (key !== 'contentType' && key !== 'persistent' && key !== 'correlationId') return undefined;
  const { contentType, persistent, correlationId } = options as { contentType?: string; persistent?: boolean; correlationId?: string };
  if (Buffer.byteLength(exchange) > 255 || Buffer.byteLength(routingKey) > 255) return undefined;
  const key = `${exchange}\u0000${routingKey}`;
  let method = methodFrames.get(key);
  if (method === undefined) {
    method = methodFrame(ch, exchange, routingKey);
    methodFrames.set(key, method);
  }
  const typeLength = contentType === undefined ? 0 : Buffer.byteLength(contentType);
  const correlationLength = correlationId === undefined ? 0 : Buffer.byteLength(correlationId);
  if (typeLength > 255 || correlationLength > 255) return undefined;
  // Header payload: class, weight, body size (64 bits), flags, then the properties in order;
  // amqplib always writes a headers table (empty here).
  const headerPayload = 2 + 2 + 8 + 2 + (contentType === undefined ? 0 : 1 + typeLength) + 4 + (persistent === undefined ? 0 : 1) + (correlationId === undefined ? 0 : 1 + correlationLength);
  const all = Buffer.allocUnsafe(method.length + 7 + headerPayload + 1 + 7 + content.length + 1);
  let at = method.copy(all, 0);
  all[at] = 2;
  all.writeUInt16BE(ch, at + 1);
  all.writeUInt32BE(headerPayload, at + 3);
  at += 7;
  all.writeUInt16BE(CLASS_BASIC, at);
  all.writeUInt16BE(0, at + 2);
  all.writeUInt32BE(Math.floor(content.length / 0x1_0000_0000), at + 4);
  all.writeUInt32BE(content.length >>> 0, at + 8);
  let flags = FLAG_HEADERS;
  if (contentType !== undefined) flags |= FLAG_CONTENT_TYPE;
  if (persistent !== undefined) flags |= FLAG_DELIVERY_MODE;
  if (correlationId !== undefined) flags |= FLAG_CORRELATION_ID;
  all.writeUInt16BE(flags, at + 12);
  at += 14;
  if (contentType !== undefined) {
    all[at++] = typeLength;
    at += all.write(contentType, at);
  }
  all.writeUInt32BE(0, at);
  at += 4;
  if (persistent !== undefined) all[at++] = persistent ? 2 : 1;
  if (correlationId !== undefined) {
    all[at++] = correlationLength;
    at += all.write(correlationId, at);
  }
  all[at++] = FRAME_END;
  all[at] = 3;
  all.writeUInt16BE(ch, at + 1);
  all.writeUInt32BE(content.length, at + 3);
  at += 7 + content.copy(all, at + 7);
  all[at] = FRAME_END;
  return all;
}

/** The basic.publish method frame (not mandatory, not immediate). */
function methodFrame(ch: number, exchange: string, routingKey: string): Buffer {
  const exchangeBytes = Buffer.from(exchange);
  const keyBytes = Buffer.from(routingKey);
  const payload = 2 + 2 + 2 + 1 + exchangeBytes.length + 1 + keyBytes.length + 1;
  const frame = Buffer.alloc(7 + payload + 1);
  frame[0] = 1;
  frame.writeUInt16BE(ch, 1);
  frame.writeUInt32BE(payload, 3);
  let at = 7;
  at = frame.writeUInt16BE(CLASS_BASIC, at);
  at = frame.writeUInt16BE(METHOD_PUBLISH, at);
  at = frame.writeUInt16BE(0, at);
  frame[at++] = exchangeBytes.length;
  at += exchangeBytes.copy(frame, at);
  frame[at++] = keyBytes.length;
  at += keyBytes.copy(frame, at);
  frame[at++] = 0;
  frame[at] = FRAME_END;
  return frame;
}
