import iconv from 'iconv-lite';

/**
 * The character sets a subscription can send in (`settings.Charset`, README "Versions,
 * character sets and lengths"). The message text is built as a JS string; these functions
 * turn it into the bytes on the wire and read ACK bytes back. iconv-lite does the single-byte
 * encodings (Node's Buffer has latin1 but no Windows-1252); UTF-8 stays with Buffer.
 */
export const CHARSETS = ['UTF-8', 'ISO-8859-1', 'Windows-1252', 'ASCII'] as const;
export type Charset = (typeof CHARSETS)[number];

const ICONV_NAMES: Readonly<Record<Exclude<Charset, 'UTF-8'>, string>> = {
  'ISO-8859-1': 'latin1',
  'Windows-1252': 'windows-1252',
  ASCII: 'ascii',
};

/**
 * The characters of Windows-1252 outside ISO-8859-1: its 0x80-0x9F range holds printable
 * characters where ISO-8859-1 has C1 control codes.
 */
const WINDOWS_1252_EXTRA = new Set(
  Array.from('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ', (c) => c.codePointAt(0)!),
);

/** Whether the charset has a byte (sequence) for this Unicode code point. */
export function canEncode(codePoint: number, charset: Charset): boolean {
  if (codePoint < 0x80) return true;
  switch (charset) {
    case 'UTF-8':
      // A lone surrogate (malformed UTF-16) has no UTF-8 encoding; Buffer would write U+FFFD.
      return codePoint < 0xd800 || codePoint > 0xdfff;
    case 'ISO-8859-1':
      return codePoint <= 0xff;
    case 'Windows-1252':
      return (codePoint >= 0xa0 && codePoint <= 0xff) || WINDOWS_1252_EXTRA.has(codePoint);
    case 'ASCII':
      return false;
  }
}

/**
 * The bytes of `text` in `charset`. The caller has already replaced (or refused) every
 * character the charset cannot hold (see conform-message.ts); anything left would come out
 * as `?`, never as bytes of another charset.
 */
export function encodeText(text: string, charset: Charset): Buffer {
  return charset === 'UTF-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, ICONV_NAMES[charset]);
}

/** Reads bytes received in `charset` (an ACK, or a message at the test receiver). */
export function decodeText(bytes: Uint8Array, charset: Charset): string {
  if (charset === 'UTF-8') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), ICONV_NAMES[charset]);
}

/** Whether `text` is all 7-bit ASCII. A regexp scan is about 4x faster than a charCodeAt loop in V8. */
export function isAscii(text: string): boolean {
  return !NON_ASCII.test(text);
}

const NON_ASCII = /[^\x00-\x7f]/;
