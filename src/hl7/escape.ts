/**
 * HL7 v2 escaping of data values (README "Versions, character sets and lengths"), for the
 * default encoding characters `|^~\&`.
 *
 * Contract of {@link escapeHl7} (text data: ST, TX, FT and the text components of XPN, XAD,
 * XTN, CX...):
 * - `\` -> `\E\`, `|` -> `\F\`, `^` -> `\S\`, `&` -> `\T\`, `~` -> `\R\`;
 * - every C0 control character and DEL (U+0000-U+001F, U+007F; CR and LF included) ->
 *   the hexadecimal escape `\Xhh\` (CR -> `\X0D\`, TAB -> `\X09\`): these code points are
 *   the same single byte in every charset a subscription can send, so the escape names
 *   exactly the character;
 * - C1 control characters (U+0080-U+009F) -> a space: their byte differs between charsets
 *   (in UTF-8 they take two), so `\Xhh\` would be ambiguous, and no text needs them;
 * - every other character (non-ASCII included) is kept as is.
 * One left-to-right pass, which is equivalent to replacing `\` first and then the others:
 * the `\` that the escape sequences introduce are never escaped a second time. A value
 * without any of these characters is returned unchanged (the same string, no allocation).
 *
 * {@link escapeHl7Code} is for coded values (ID, IS: table codes, HD-1 namespace ids), where
 * the standard allows no escape sequence: control characters become a space; the delimiters
 * are still escaped, since a raw one would break the message structure.
 *
 * Never apply either to MSH-1 / MSH-2, and never twice to one value.
 */

const DELIMITER_ESCAPES: Readonly<Record<number, string>> = {
  0x5c: '\\E\\', // backslash, the escape character
  0x7c: '\\F\\', // |  field separator
  0x5e: '\\S\\', // ^  component separator
  0x26: '\\T\\', // &  subcomponent separator
  0x7e: '\\R\\', // ~  repetition separator
};

function buildTable(control: (code: number) => string): readonly (string | undefined)[] {
  const table: (string | undefined)[] = new Array<string | undefined>(0xa0).fill(undefined);
  for (let code = 0; code < 0x20; code++) table[code] = control(code);
  table[0x7f] = control(0x7f);
  for (let code = 0x80; code < 0xa0; code++) table[code] = ' ';
  for (const [code, escape] of Object.entries(DELIMITER_ESCAPES)) table[Number(code)] = escape;
  return table;
}

const hex = (code: number): string => `\\X${code.toString(16).toUpperCase().padStart(2, '0')}\\`;

/** Replacement per char code below 0xA0; undefined = kept as is. */
const TEXT_ESCAPES = buildTable(hex);
const CODE_ESCAPES = buildTable(() => ' ');

export function escapeHl7(value: string): string {
  return escapeWith(value, TEXT_ESCAPES);
}

export function escapeHl7Code(value: string): string {
  return escapeWith(value, CODE_ESCAPES);
}

function escapeWith(value: string, table: readonly (string | undefined)[]): string {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0xa0 && table[code] !== undefined) return escapeFrom(value, i, table);
  }
  return value;
}

/** Slow path: `first` is the index of the first character that needs escaping. */
function escapeFrom(value: string, first: number, table: readonly (string | undefined)[]): string {
  let out = value.slice(0, first);
  let runStart = first;
  for (let i = first; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const escape = code < 0xa0 ? table[code] : undefined;
    if (escape !== undefined) {
      out += value.slice(runStart, i) + escape;
      runStart = i + 1;
    }
  }
  return out + value.slice(runStart);
}
