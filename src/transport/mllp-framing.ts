import { encodeText, type Charset } from '../hl7/charset.js';

/**
 * MLLP framing (HL7 v2 MLLP release 2 block format): 0x0B, the message bytes, 0x1C 0x0D.
 * Lengths are always byte lengths of the message in its charset, never string lengths.
 */

export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

/** Frames an HL7 message for the wire, in `charset` (UTF-8 unless the subscription says otherwise). */
export function encodeFrame(message: string, charset: Charset = 'UTF-8'): Buffer {
  if (charset !== 'UTF-8') return frameBytes(encodeText(message, charset));
  const length = Buffer.byteLength(message, 'utf8');
  const frame = Buffer.allocUnsafe(length + 3);
  frame[0] = START_BLOCK;
  frame.write(message, 1, length, 'utf8');
  frame[length + 1] = END_BLOCK;
  frame[length + 2] = CARRIAGE_RETURN;
  return frame;
}

/** Frames bytes already encoded. */
export function frameBytes(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + 3);
  frame[0] = START_BLOCK;
  frame.set(payload, 1);
  frame[payload.length + 1] = END_BLOCK;
  frame[payload.length + 2] = CARRIAGE_RETURN;
  return frame;
}

export type DecodedItem =
  | { kind: 'frame'; payload: Buffer }
  /** Bytes outside any frame, or a frame larger than the limit: the peer does not speak MLLP. */
  | { kind: 'garbage'; bytes: number };

/**
 * Incremental decoder for a byte stream of MLLP frames. Handles a frame split over any
 * number of reads and any number of frames (or a frame and the start of the next) in one
 * read. Whitespace between frames (CR/LF, which some receivers send) is tolerated.
 */
export class MllpFrameDecoder {
  private pending: Buffer | undefined;

  /** @param maxFrameBytes largest payload (between 0x0B and 0x1C 0x0D) accepted as a frame. */
  constructor(private readonly maxFrameBytes = 16 * 1024 * 1024) {}

  /** Feeds the next chunk read from the socket; returns the items it completed. */
  push(chunk: Buffer): DecodedItem[] {
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    const items: DecodedItem[] = [];
    let offset = 0;
    while (offset < data.length) {
      const byte = data[offset]!;
      if (byte !== START_BLOCK) {
        const next = data.indexOf(START_BLOCK, offset);
        const stop = next === -1 ? data.length : next;
        if (!isInterFrameWhitespace(data, offset, stop)) items.push({ kind: 'garbage', bytes: stop - offset });
        offset = stop;
        continue;
      }
      const end = findFrameEnd(data, offset + 1);
      if (end === -1) {
        // A trailing 0x1C may be the first half of the end marker: not counted as payload.
        const payloadSoFar = data.length - offset - 1 - (data[data.length - 1] === END_BLOCK ? 1 : 0);
        if (payloadSoFar > this.maxFrameBytes) {
          items.push({ kind: 'garbage', bytes: data.length - offset });
        } else {
          this.pending = data.subarray(offset);
        }
        return items;
      }
      // The limit holds whether the frame came in pieces or in one read.
      if (end - offset - 1 > this.maxFrameBytes) items.push({ kind: 'garbage', bytes: end + 2 - offset });
      else items.push({ kind: 'frame', payload: data.subarray(offset + 1, end) });
      offset = end + 2;
    }
    return items;
  }

  /** True when part of a frame has been read but not its end. */
  get hasPartialFrame(): boolean {
    return this.pending !== undefined;
  }

  reset(): void {
    this.pending = undefined;
  }
}

/** Index of the 0x1C of the first 0x1C 0x0D at or after `from`, or -1. */
function findFrameEnd(data: Buffer, from: number): number {
  let at = data.indexOf(END_BLOCK, from);
  while (at !== -1) {
    if (at + 1 >= data.length) return -1;
    if (data[at + 1] === CARRIAGE_RETURN) return at;
    at = data.indexOf(END_BLOCK, at + 1);
  }
  return -1;
}

function isInterFrameWhitespace(data: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const byte = data[i];
    if (byte !== 0x0d && byte !== 0x0a) return false;
  }
  return true;
}
