import crypto from 'node:crypto';

/**
 * MSH-10, the message control id (README "How it works"): derived only from
 * (event id, subscription, index), so every resend and every redelivery of the same event
 * to the same subscription carries the same MSH-10 and the receiver can de-duplicate.
 * `index` is 0 for a single message; for A40 it is the position of the replaced record,
 * for an unmerge 0 for the surviving patient and 1..n for the restored records.
 *
 * Format: exactly 20 characters of upper-case Crockford base32 (`0-9A-Z` without I L O U),
 * i.e. the first 100 bits of SHA-256 over an unambiguous encoding of the three inputs:
 * a version tag, then each string as its UTF-16 code-unit count (uint32 BE) followed by its
 * UTF-16LE code units (injective for every JS string, lone surrogates included), then the
 * index (uint32 BE). Different inputs give different ids except for a 2^-100-level chance
 * of a hash collision. Changing this encoding changes every id: bump the tag and treat it
 * as a contract change (receivers de-duplicate on it).
 *
 * Throws RangeError when `index` is not an integer in [0, 2^32): a programming error.
 */
export function controlIdFor(eventId: string, subscription: string, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
    throw new RangeError('controlIdFor: index must be an integer in [0, 2^32)');
  }
  // One buffer, one update: each update() call costs about as much as hashing these bytes.
  // The scratch buffer starts with TAG already; it is only read by the hash call below.
  const length = TAG.length + 12 + 2 * (eventId.length + subscription.length);
  if (scratch.length < length) scratch = withTag(Buffer.allocUnsafe(Math.max(length, 2 * scratch.length)));
  let offset = writeLengthPrefixed(scratch, TAG.length, eventId);
  offset = writeLengthPrefixed(scratch, offset, subscription);
  scratch.writeUInt32BE(index, offset);
  return crockford100(sha256(scratch.subarray(0, length)));
}

function withTag(buffer: Buffer): Buffer {
  TAG.copy(buffer, 0);
  return buffer;
}

export const CONTROL_ID_LENGTH = 20;

/**
 * The SHA-256 digest as a 'binary' (latin1) string, one character per byte (codes 0-255): a string
 * comes back from the hash binding at about a third of the cost of a Buffer. One-shot
 * `crypto.hash` where Node has it (20.12+, 21.7+): about half the cost of createHash.
 */
const sha256: (input: Buffer) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (input) => (crypto as unknown as { hash(algorithm: string, data: Buffer, encoding: 'binary'): string }).hash('sha256', input, 'binary')
    : (input) => crypto.createHash('sha256').update(input).digest('binary');

const TAG = Buffer.from('mllp-dispatcher/MSH-10/v1\0', 'latin1');
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let scratch = withTag(Buffer.allocUnsafe(256));

/** Writes `s` as uint32 BE code-unit count + UTF-16LE code units; returns the next offset. */
function writeLengthPrefixed(target: Buffer, offset: number, s: string): number {
  const next = target.writeUInt32BE(s.length, offset);
  return next + target.write(s, next, 'utf16le');
}

/** The first CONTROL_ID_LENGTH * 5 bits of `bytes` (a latin1 string), most significant first, in Crockford base32. */
function crockford100(bytes: string): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  let i = 0;
  while (out.length < CONTROL_ID_LENGTH) {
    if (bits < 5) {
      buffer = ((buffer << 8) | bytes.charCodeAt(i++)) & 0xffff;
      bits += 8;
    }
    bits -= 5;
    out += CROCKFORD.charAt((buffer >>> bits) & 31);
  }
  return out;
}
