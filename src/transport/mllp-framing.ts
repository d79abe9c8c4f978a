import { encodeText, type Charset } from '../hl7/charset.js';

/**
 * MLLP framing (HL7 v2 MLLP release 2 block format): a start block (0x0B), the message
 * bytes, an end block (0x1C 0x0D). Lengths are always byte lengths of the message in its
 * charset, never string lengths. A receiver profile may name other start and end bytes
 * (`framing`, README "Fitting a receiver"): the same rules hold with those.
 */

export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

/** Start and end byte sequences of a frame; plain data (it crosses to the delivery thread). */
export interface Framing {
  readonly start: readonly number[];
  readonly end: readonly number[];
}

export const MLLP_FRAMING: Framing = { start: [START_BLOCK], end: [END_BLOCK, CARRIAGE_RETURN] };

function isStandard(framing: Framing): boolean {
  return framing === MLLP_FRAMING || (framing.start.length === 1 && framing.start[0] === START_BLOCK && framing.end.length === 2 && framing.end[0] === END_BLOCK && framing.end[1] === CARRIAGE_RETURN);
}

/** Frames an HL7 message for the wire, in `charset` (UTF-8 unless the subscription says otherwise). */
export function encodeFrame(message: string, charset: Charset = 'UTF-8', framing: Framing = MLLP_FRAMING): Buffer {
  if (charset !== 'UTF-8' || !isStandard(framing)) return frameBytes(encodeText(message, charset), framing);
  const length = Buffer.byteLength(message, 'utf8');
  const frame = Buffer.allocUnsafe(length + 3);
  frame[0] = START_BLOCK;
  frame.write(message, 1, length, 'utf8');
  frame[length + 1] = END_BLOCK;
  frame[length + 2] = CARRIAGE_RETURN;
  return frame;
}

/** Frames bytes already encoded. */
export function frameBytes(payload: Uint8Array, framing: Framing = MLLP_FRAMING): Buffer {
  const { start, end } = framing;
  const frame = Buffer.allocUnsafe(start.length + payload.length + end.length);
  frame.set(start, 0);
  frame.set(payload, start.length);
  frame.set(end, start.length + payload.length);
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
  private readonly start: Buffer;
  private readonly end: Buffer;

  /**
   * @param maxFrameBytes largest payload (between the start and end blocks) accepted as a frame.
   * @param framing the start and end bytes (standard MLLP unless a receiver profile says otherwise).
   */
  constructor(
    private readonly maxFrameBytes = 16 * 1024 * 1024,
    framing: Framing = MLLP_FRAMING,
  ) {
    this.start = Buffer.from(framing.start);
    this.end = Buffer.from(framing.end);
  }

  /**
   * Feeds the next chunk read from the socket; returns the items it completed. A frame's
   * payload may be a view into `chunk`: use it before `chunk` is reused (a socket reading
   * into one buffer, src/transport/open-socket.ts). A partial frame is kept as a copy.
   */
  push(chunk: Buffer): DecodedItem[] {
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    const items: DecodedItem[] = [];
    const { start, end } = this;
    let offset = 0;
    while (offset < data.length) {
      if (!startsAt(data, offset, start)) {
        const next = data.indexOf(start, offset);
        // The tail may be the first bytes of a start block still on its way.
        const stop = next === -1 ? data.length - partialSuffix(data, offset, start) : next;
        if (stop > offset && !isInterFrameWhitespace(data, offset, stop)) items.push({ kind: 'garbage', bytes: stop - offset });
        if (next === -1) {
          if (stop < data.length) this.pending = Buffer.from(data.subarray(stop));
          return items;
        }
        offset = stop;
        continue;
      }
      const payloadStart = offset + start.length;
      const frameEnd = data.indexOf(end, payloadStart);
      if (frameEnd === -1) {
        // A tail that begins the end block is not counted as payload.
        const payloadSoFar = data.length - payloadStart - partialSuffix(data, payloadStart, end);
        if (payloadSoFar > this.maxFrameBytes) {
          items.push({ kind: 'garbage', bytes: data.length - offset });
        } else {
          this.pending = Buffer.from(data.subarray(offset));
        }
        return items;
      }
      // The limit holds whether the frame came in pieces or in one read.
      if (frameEnd - payloadStart > this.maxFrameBytes) items.push({ kind: 'garbage', bytes: frameEnd + end.length - offset });
      else items.push({ kind: 'frame', payload: data.subarray(payloadStart, frameEnd) });
      offset = frameEnd + end.length;
    }
    return items;
  }

  /** True when part of a frame has been read but not its end. */
  get hasPartialFrame(): boolean {
    return this.pending !== undefined && startsAt(this.pending, 0, this.start);
  }

  reset(): void {
    this.pending = undefined;
  }
}

function startsAt(data: Buffer, offset: number, bytes: Buffer): boolean {
  if (offset + bytes.length > data.length) return false;
  for (let i = 0; i < bytes.length; i++) if (data[offset + i] !== bytes[i]) return false;
  return true;
}

/** Length of the longest tail of `data[from..]` that is a proper prefix of `bytes`. */
function partialSuffix(data: Buffer, from: number, bytes: Buffer): number {
  for (let length = Math.min(bytes.length - 1, data.length - from); length > 0; length--) {
    if (startsAt(data, data.length - length, bytes.subarray(0, length))) return length;
  }
  return 0;
}

function isInterFrameWhitespace(data: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const byte = data[i];
    if (byte !== 0x0d && byte !== 0x0a) return false;
  }
  return true;
}
