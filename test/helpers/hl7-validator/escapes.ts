/**
 * Length of an encoded value in the characters it stands for.
 *
 * HL7 gives lengths of the data, not of its encoding: the length is "the maximum number
 * of characters that one occurrence of the data field may occupy", "calculated to include
 * the component and subcomponent separators" (v2.3.1/v2.5 section 2.5.3.2 "Length",
 * as quoted in http://www.eng.tau.ac.il/~gannot/MI/hl7web.zip and on
 * http://wiki.hl7.org/V2_lengths_Current_wording). An escape sequence is how a delimiter
 * *character* is encoded, so it counts as the character(s) it stands for:
 * - `\F\ \S\ \T\ \R\ \E\` count 1 (the delimiter);
 * - `\Xhh..\` counts one per hex pair (each pair is one byte; for the single-byte
 *   characters our mapper escapes this way — CR, LF, other controls — that is one character);
 * - `\H\ \N\` (highlighting), `\Cxxyy\ \Mxxyyzz\` (character set switches) and `\Z..\`
 *   (local) count 0: they are not data;
 * - separators (`^` `&`) count 1 each, as the standard says; a repetition is measured alone.
 * Characters are Unicode code points (an emoji counts 1, not 2 UTF-16 units).
 *
 * Anything else after the escape character (`\.br\` outside FT, an unknown code, a lone
 * `\` with no closing one) is reported as a problem and counted as written.
 */

export interface EscapeScan {
  length: number;
  /** Descriptions of malformed sequences, without the value. */
  problems: string[];
}

const HEX_PAIRS = /^X(?:[0-9A-Fa-f]{2})+$/;
const CHARSET = /^(?:C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{6})$/;

export function scanEscapes(raw: string): EscapeScan {
  let length = 0;
  const problems: string[] = [];
  let i = 0;
  while (i < raw.length) {
    const cp = raw.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    if (raw[i] !== '\\') {
      length += 1;
      i += width;
      continue;
    }
    const close = raw.indexOf('\\', i + 1);
    if (close < 0) {
      problems.push(`escape character at offset ${i} without a closing one`);
      length += countCodePoints(raw.slice(i));
      break;
    }
    const code = raw.slice(i + 1, close);
    if (code.length === 1 && 'FSTRE'.includes(code)) length += 1;
    else if (HEX_PAIRS.test(code)) length += (code.length - 1) / 2;
    else if (code === 'H' || code === 'N' || CHARSET.test(code) || /^Z.+$/.test(code)) length += 0;
    else {
      problems.push(`unknown escape sequence of ${code.length} character(s) at offset ${i}`);
      length += countCodePoints(raw.slice(i, close + 1));
    }
    i = close + 1;
  }
  return { length, problems };
}

export function countCodePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
