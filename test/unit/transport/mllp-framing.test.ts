import { describe, expect, it } from 'vitest';
import {
  CARRIAGE_RETURN,
  END_BLOCK,
  MllpFrameDecoder,
  START_BLOCK,
  encodeFrame,
  type DecodedItem,
} from '../../../src/transport/mllp-framing.js';

const SB = Buffer.from([START_BLOCK]);
const EB_CR = Buffer.from([END_BLOCK, CARRIAGE_RETURN]);

/** A frame built by hand (not with encodeFrame), so decoder tests do not trust the encoder. */
function rawFrame(payload: string | Buffer): Buffer {
  return Buffer.concat([SB, Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8'), EB_CR]);
}

/** Decoded items with payloads as text, easy to compare. */
function readable(items: DecodedItem[]): Array<{ frame: string } | { garbage: number }> {
  return items.map((item) => (item.kind === 'frame' ? { frame: item.payload.toString('utf8') } : { garbage: item.bytes }));
}

const ACK = 'MSH|^~\\&|RCV|FAC|SND|FAC|20260315143022+0100||ACK^A01^ACK|ACK1|P|2.5\rMSA|AA|K7Q2M9X4TB1C8D3E5F6G\r';

describe('encodeFrame', () => {
  it('writes 0x0B, the UTF-8 bytes of the message, then 0x1C 0x0D', () => {
    const frame = encodeFrame('MSH|A\rPID|1\r');
    expect([...frame]).toEqual([0x0b, ...Buffer.from('MSH|A\rPID|1\r', 'ascii'), 0x1c, 0x0d]);
  });

  it('sizes the frame from the encoded bytes, not the string length (multi-byte UTF-8)', () => {
    // é = 2 bytes, 中 = 3 bytes, 😀 = 4 bytes (a surrogate pair: string length 2).
    const message = 'PID|1||é中😀\r';
    expect(message.length).toBe(12);
    const bytes = Buffer.byteLength(message, 'utf8');
    expect(bytes).toBe(7 + 2 + 3 + 4 + 1);
    const frame = encodeFrame(message);
    expect(frame.length).toBe(bytes + 3);
    expect(frame[0]).toBe(START_BLOCK);
    expect(frame.subarray(1, -2).toString('utf8')).toBe(message);
    expect(frame[frame.length - 2]).toBe(END_BLOCK);
    expect(frame[frame.length - 1]).toBe(CARRIAGE_RETURN);
    // Nothing left over from allocUnsafe: the whole buffer is exactly the frame.
    expect(frame.equals(Buffer.concat([SB, Buffer.from(message, 'utf8'), EB_CR]))).toBe(true);
  });

  it('frames an empty message as just the three marker bytes', () => {
    expect([...encodeFrame('')]).toEqual([0x0b, 0x1c, 0x0d]);
  });

  it('round-trips through the decoder byte for byte', () => {
    const message = 'MSH|^~\\&|Ünïcödé|…\rPID|1||Zoë Ødegård^中文\r';
    const items = new MllpFrameDecoder().push(encodeFrame(message));
    expect(items).toHaveLength(1);
    expect(items[0]!.kind).toBe('frame');
    expect((items[0] as { payload: Buffer }).payload.toString('utf8')).toBe(message);
  });
});

describe('MllpFrameDecoder', () => {
  it('reads one frame delivered in one chunk', () => {
    const decoder = new MllpFrameDecoder();
    expect(readable(decoder.push(rawFrame(ACK)))).toEqual([{ frame: ACK }]);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('reads a frame split at every possible point into two chunks', () => {
    const frame = rawFrame('MSH|^~\\&|é\rMSA|AA|1\r');
    for (let split = 1; split < frame.length; split++) {
      const decoder = new MllpFrameDecoder();
      const first = decoder.push(frame.subarray(0, split));
      expect(first, `split at ${split}`).toEqual([]);
      expect(decoder.hasPartialFrame, `split at ${split}`).toBe(true);
      expect(readable(decoder.push(frame.subarray(split))), `split at ${split}`).toEqual([{ frame: 'MSH|^~\\&|é\rMSA|AA|1\r' }]);
      expect(decoder.hasPartialFrame).toBe(false);
    }
  });

  it('keeps its own copy of a partial frame, so the caller may reuse its read buffer (a socket reading into one buffer)', () => {
    const frame = rawFrame(ACK);
    const readBuffer = Buffer.alloc(frame.length);
    for (const split of [1, 2, 30, frame.length - 1]) {
      const decoder = new MllpFrameDecoder();
      let items: DecodedItem[] = [];
      for (let from = 0; from < frame.length; from += split) {
        const piece = frame.subarray(from, Math.min(from + split, frame.length));
        readBuffer.fill(0x58); // what the previous read left: 'X'
        piece.copy(readBuffer);
        items = items.concat(readable(decoder.push(readBuffer.subarray(0, piece.length))) as never[]);
      }
      expect(items, `pieces of ${split}`).toEqual([{ frame: ACK }]);
    }
  });

  it('reads a frame delivered one byte per chunk (a multi-byte character split too)', () => {
    const payload = 'MSH|^~\\&|Ødegård\rMSA|AA|1\r';
    const frame = rawFrame(payload);
    const decoder = new MllpFrameDecoder();
    const items: DecodedItem[] = [];
    for (let i = 0; i < frame.length; i++) {
      const got = decoder.push(frame.subarray(i, i + 1));
      if (i < frame.length - 1) expect(got, `byte ${i}`).toEqual([]);
      items.push(...got);
    }
    expect(readable(items)).toEqual([{ frame: payload }]);
  });

  it('reads two frames arriving in one chunk, in order', () => {
    const decoder = new MllpFrameDecoder();
    const items = decoder.push(Buffer.concat([rawFrame('MSH|first'), rawFrame('MSH|second')]));
    expect(readable(items)).toEqual([{ frame: 'MSH|first' }, { frame: 'MSH|second' }]);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('keeps the start of a second frame that follows a complete one, and completes it with the next chunk', () => {
    const second = rawFrame('MSH|second|é');
    const cut = 6;
    const decoder = new MllpFrameDecoder();
    expect(readable(decoder.push(Buffer.concat([rawFrame('MSH|first'), second.subarray(0, cut)])))).toEqual([{ frame: 'MSH|first' }]);
    expect(decoder.hasPartialFrame).toBe(true);
    expect(readable(decoder.push(Buffer.concat([second.subarray(cut), rawFrame('MSH|third')])))).toEqual([
      { frame: 'MSH|second|é' },
      { frame: 'MSH|third' },
    ]);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('tolerates CR and LF between frames (and after the last one) without reporting garbage', () => {
    const decoder = new MllpFrameDecoder();
    const items = decoder.push(Buffer.concat([rawFrame('MSH|a'), Buffer.from('\r\n\n\r'), rawFrame('MSH|b'), Buffer.from('\n')]));
    expect(readable(items)).toEqual([{ frame: 'MSH|a' }, { frame: 'MSH|b' }]);
    // Whitespace in a chunk of its own is tolerated too.
    expect(decoder.push(Buffer.from('\r\n'))).toEqual([]);
    expect(readable(decoder.push(rawFrame('MSH|c')))).toEqual([{ frame: 'MSH|c' }]);
  });

  it('reports bytes before a frame as garbage, with their count, and still reads the frame', () => {
    const decoder = new MllpFrameDecoder();
    const items = decoder.push(Buffer.concat([Buffer.from('HTTP/1.1 400'), rawFrame('MSH|x')]));
    expect(readable(items)).toEqual([{ garbage: 12 }, { frame: 'MSH|x' }]);
  });

  it('reports a chunk with no start block at all as garbage', () => {
    const decoder = new MllpFrameDecoder();
    expect(readable(decoder.push(Buffer.from('MSH|^~\\&|no framing\r')))).toEqual([{ garbage: 20 }]);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('reports whitespace mixed with other bytes between frames as garbage', () => {
    const decoder = new MllpFrameDecoder();
    expect(readable(decoder.push(Buffer.concat([rawFrame('MSH|a'), Buffer.from('\r\nx\n'), rawFrame('MSH|b')])))).toEqual([
      { frame: 'MSH|a' },
      { garbage: 4 },
      { frame: 'MSH|b' },
    ]);
  });

  it('keeps a 0x1C that is not followed by 0x0D as data inside the frame', () => {
    const payload = Buffer.concat([Buffer.from('MSH|a'), Buffer.from([END_BLOCK]), Buffer.from('b'), Buffer.from([END_BLOCK, 0x0a]), Buffer.from('c')]);
    const decoder = new MllpFrameDecoder();
    const items = decoder.push(rawFrame(payload));
    expect(items).toHaveLength(1);
    expect(items[0]).toEqual({ kind: 'frame', payload });
  });

  it('keeps a 0x1C at the end of a chunk pending: it is data when the next chunk does not start with 0x0D', () => {
    const decoder = new MllpFrameDecoder();
    expect(decoder.push(Buffer.from([START_BLOCK, 0x41, END_BLOCK]))).toEqual([]);
    expect(decoder.hasPartialFrame).toBe(true);
    const items = decoder.push(Buffer.from([0x42, END_BLOCK, CARRIAGE_RETURN]));
    expect(items).toEqual([{ kind: 'frame', payload: Buffer.from([0x41, END_BLOCK, 0x42]) }]);
  });

  it('reports a frame whose end has not come within the size limit as garbage and drops it', () => {
    const decoder = new MllpFrameDecoder(16);
    // 16 payload bytes: still within the limit, kept pending.
    expect(decoder.push(Buffer.concat([SB, Buffer.alloc(16, 0x41)]))).toEqual([]);
    expect(decoder.hasPartialFrame).toBe(true);
    // The 17th payload byte crosses it: the whole pending frame is garbage.
    expect(readable(decoder.push(Buffer.from('B')))).toEqual([{ garbage: 18 }]);
    expect(decoder.hasPartialFrame).toBe(false);
  });

  it('reports a complete frame larger than the limit as garbage even when it arrives in one chunk', () => {
    const decoder = new MllpFrameDecoder(16);
    const items = decoder.push(Buffer.concat([rawFrame('x'.repeat(17)), rawFrame('x'.repeat(16))]));
    expect(readable(items)).toEqual([{ garbage: 20 }, { frame: 'x'.repeat(16) }]);
  });

  it('accepts a frame of exactly the limit whose end marker is split across chunks', () => {
    const decoder = new MllpFrameDecoder(4);
    expect(decoder.push(Buffer.from([START_BLOCK, 0x41, 0x42, 0x43, 0x44, END_BLOCK]))).toEqual([]);
    expect(readable(decoder.push(Buffer.from([CARRIAGE_RETURN])))).toEqual([{ frame: 'ABCD' }]);
  });

  it('forgets a partial frame on reset (a new connection starts clean)', () => {
    const decoder = new MllpFrameDecoder();
    decoder.push(Buffer.concat([SB, Buffer.from('MSH|half')]));
    expect(decoder.hasPartialFrame).toBe(true);
    decoder.reset();
    expect(decoder.hasPartialFrame).toBe(false);
    expect(readable(decoder.push(rawFrame('MSH|new')))).toEqual([{ frame: 'MSH|new' }]);
  });

});
