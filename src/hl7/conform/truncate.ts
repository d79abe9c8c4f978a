/**
 * Cutting encoded HL7 values to a maximum length (README "Versions, character sets and
 * lengths"). Lengths are counted on the encoded text (an escape sequence such as `\T\`
 * counts as its three characters): a value within the limit here is within it however a
 * receiver counts. A cut never falls inside an escape sequence or between the two halves
 * of a surrogate pair, and never leaves a trailing separator (`^`, `&`), so the result is
 * always well-formed HL7.
 */

const ESCAPE = 0x5c; // \
const SEPARATORS = /[\^&]+$/;

/** `value` cut to at most `max` characters, or `value` itself when it fits. */
export function truncateEncoded(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = 0;
  let i = 0;
  while (i < value.length) {
    let next: number;
    if (value.charCodeAt(i) === ESCAPE) {
      const close = value.indexOf('\\', i + 1);
      next = close === -1 ? value.length : close + 1;
    } else {
      const code = value.charCodeAt(i);
      next = code >= 0xd800 && code <= 0xdbff && i + 1 < value.length ? i + 2 : i + 1;
    }
    if (next > max) break;
    cut = next;
    i = next;
  }
  return value.slice(0, cut).replace(SEPARATORS, '');
}
