/**
 * HL7 v2 escaping of data values (HL7-OUTBOUND.md "Encoding"), for the default encoding
 * characters `|^~\&`.
 *
 * Contract: `\` -> `\E\`, `|` -> `\F\`, `^` -> `\S\`, `&` -> `\T\`, `~` -> `\R\`,
 * CR -> `\X0D\`, LF -> `\X0A\`; every other character (non-ASCII included) is kept as is.
 * The replacement is done in one left-to-right pass over the input, which is equivalent to
 * replacing `\` first and then the others: the `\` that the escape sequences introduce are
 * never escaped a second time. A value without any of these characters is returned
 * unchanged (the same string, no allocation).
 *
 * Never apply it to MSH-1 / MSH-2, and never apply it twice to one value.
 */

/** Escape sequence per char code, for the seven characters that need one (all < 128). */
const ESCAPES: readonly (string | undefined)[] = (() => {
  const table: (string | undefined)[] = new Array<string | undefined>(128).fill(undefined);
  table[0x5c] = '\\E\\'; // backslash, the escape character
  table[0x7c] = '\\F\\'; // |  field separator
  table[0x5e] = '\\S\\'; // ^  component separator
  table[0x26] = '\\T\\'; // &  subcomponent separator
  table[0x7e] = '\\R\\'; // ~  repetition separator
  table[0x0d] = '\\X0D\\'; // CR, the segment terminator
  table[0x0a] = '\\X0A\\'; // LF
  return table;
})();

export function escapeHl7(value: string): string {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 128 && ESCAPES[code] !== undefined) return escapeFrom(value, i);
  }
  return value;
}

/** Slow path: `first` is the index of the first character that needs escaping. */
function escapeFrom(value: string, first: number): string {
  let out = value.slice(0, first);
  let runStart = first;
  for (let i = first; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const escape = code < 128 ? ESCAPES[code] : undefined;
    if (escape !== undefined) {
      out += value.slice(runStart, i) + escape;
      runStart = i + 1;
    }
  }
  return out + value.slice(runStart);
}
