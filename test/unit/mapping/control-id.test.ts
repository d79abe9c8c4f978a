import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CONTROL_ID_LENGTH, controlIdFor } from '../../../src/mapping/control-id.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const SHAPE = /^[0-9A-HJKMNP-TV-Z]{20}$/;

describe('controlIdFor (MSH-10)', () => {
  it('is exactly 20 characters of upper-case Crockford base32 (no I, L, O, U)', () => {
    expect(CONTROL_ID_LENGTH).toBe(20);
    for (let i = 0; i < 200; i++) {
      const id = controlIdFor(`evt-${i}`, 'pix-feed', i % 3);
      expect(id).toMatch(SHAPE);
      expect(id).not.toMatch(/[ILOU]/);
    }
  });

  it('is deterministic: the same inputs give the same id', () => {
    expect(controlIdFor('evt-7f3c9a', 'pix-feed', 0)).toBe(controlIdFor('evt-7f3c9a', 'pix-feed', 0));
  });

  it('is pinned: receivers de-duplicate on it, so the derivation must not change silently', () => {
    expect(controlIdFor('evt-7f3c9a', 'pix-feed', 0)).toBe('XYCKCXY21M9XH982J54M');
  });

  it('differs when any one input differs', () => {
    const base = controlIdFor('evt-1', 'sub', 0);
    expect(controlIdFor('evt-2', 'sub', 0)).not.toBe(base);
    expect(controlIdFor('evt-1', 'sub2', 0)).not.toBe(base);
    expect(controlIdFor('evt-1', 'sub', 1)).not.toBe(base);
  });

  it('encodes the inputs unambiguously (no concatenation collisions)', () => {
    const ids = new Set([
      controlIdFor('ab', 'c', 0),
      controlIdFor('a', 'bc', 0),
      controlIdFor('', 'abc', 0),
      controlIdFor('abc', '', 0),
      controlIdFor('a1', '', 0),
      controlIdFor('a', '1', 0),
      controlIdFor('a', '', 1),
      // A lone surrogate and U+FFFD, which a UTF-8 encoding would have confused.
      controlIdFor('\ud800', 's', 0),
      controlIdFor('\ufffd', 's', 0),
    ]);
    expect(ids.size).toBe(9);
  });

  it('takes the first 100 bits of SHA-256 over the documented encoding', () => {
    const part = (s: string): Buffer => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(s.length);
      return Buffer.concat([len, Buffer.from(s, 'utf16le')]);
    };
    const index = Buffer.alloc(4);
    index.writeUInt32BE(7);
    const digest = createHash('sha256')
      .update(Buffer.concat([Buffer.from('mllp-dispatcher/MSH-10/v1\0', 'latin1'), part('evt-x'), part('sub-ü'), index]))
      .digest();
    let bits = BigInt(`0x${digest.subarray(0, 13).toString('hex')}`) >> 4n; // 104 -> 100 bits
    let expected = '';
    for (let i = 0; i < 20; i++) {
      expected = CROCKFORD.charAt(Number(bits & 31n)) + expected;
      bits >>= 5n;
    }
    expect(controlIdFor('evt-x', 'sub-ü', 7)).toBe(expected);
  });

  it('rejects an index that is not a uint32 (a programming error)', () => {
    expect(() => controlIdFor('e', 's', -1)).toThrow(RangeError);
    expect(() => controlIdFor('e', 's', 0.5)).toThrow(RangeError);
    expect(() => controlIdFor('e', 's', 2 ** 32)).toThrow(RangeError);
  });
});
