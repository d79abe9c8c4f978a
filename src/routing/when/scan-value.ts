import type { ValueNode } from './ast.js';

/** Whitespace that separates the parts of a When Criteria entry (docs/WHEN-CRITERIA.md). */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * The value of a When Criteria entry: the rest of the entry from `valueStart`, split on
 * unescaped `|`. `\` makes the next character literal (`\|`, `\\`, `\ `). Unescaped
 * whitespace around each alternative is dropped. Reports (through `fail`, with columns) an
 * empty value, each empty alternative and a trailing lone `\`.
 */
export function scanValue(src: string, valueStart: number, emptyReason: string, fail: (position: number, reason: string) => void): ValueNode[] {
  const values: ValueNode[] = [];
  const empties: number[] = [];
  let alternatives = 0;
  let text = '';
  let keep = 0; // length of `text` up to its last significant character
  let first = -1; // column of the first significant character
  let rawStart = valueStart;
  let dangling = false;

  for (let i = valueStart; ; ) {
    if (i >= src.length || src.charCodeAt(i) === 0x7c /* | */) {
      alternatives++;
      if (keep > 0) values.push({ text: text.slice(0, keep), position: first });
      else if (!(dangling && i >= src.length)) empties.push(rawStart);
      if (i >= src.length) break;
      i++;
      text = '';
      keep = 0;
      first = -1;
      rawStart = i;
      continue;
    }
    const at = i;
    let c = src[i] as string;
    let escaped = false;
    if (c === '\\') {
      if (i + 1 >= src.length) {
        fail(i, 'dangling escape "\\" at the end of the value: write "\\\\" for a literal backslash');
        dangling = true;
        i++;
        continue;
      }
      c = src[i + 1] as string;
      escaped = true;
      i += 2;
    } else {
      i++;
    }
    if (!escaped && isSpace(c.charCodeAt(0))) {
      if (keep > 0) text += c; // inner whitespace is kept, trailing whitespace is cut by `keep`
      continue;
    }
    if (first < 0) first = at;
    text += c;
    keep = text.length;
  }

  if (alternatives === 1 && empties.length === 1) {
    fail(valueStart, emptyReason);
  } else {
    for (const at of empties) fail(at, 'empty alternative: remove the extra "|" or write a value between the "|"');
  }
  return values;
}
