/**
 * Assembling HL7 v2 segments from values that are ALREADY ESCAPED (see escape.ts): these
 * helpers only place separators. `undefined` and `''` both mean "empty".
 *
 * Contract (README "Versions, character sets and lengths"): trailing empty fields, components,
 * subcomponents and repetitions are left out, so a segment never ends in a run of
 * separators: `PID|1||123^^^A&1.2&ISO^MR`, not `PID|1||123^^^A&1.2&ISO^MR^^^^^|||`.
 * Empty items in the middle keep their place (they are positional).
 */

export type Item = string | undefined;

export const FIELD_SEPARATOR = '|';
export const COMPONENT_SEPARATOR = '^';
export const REPETITION_SEPARATOR = '~';
export const SUBCOMPONENT_SEPARATOR = '&';
/** MSH-2 for the default delimiters; MSH-1 is FIELD_SEPARATOR. Never escaped. */
export const ENCODING_CHARACTERS = '^~\\&';
/** Ends every segment, the last one included. */
export const SEGMENT_TERMINATOR = '\r';

/** `items` joined by `separator`, without the trailing empty ones ('' when all are empty). */
export function joinTrimmed(items: readonly Item[], separator: string): string {
  let last = items.length - 1;
  while (last >= 0 && !items[last]) last--;
  if (last < 0) return '';
  let out = items[0] ?? '';
  for (let i = 1; i <= last; i++) out += separator + (items[i] ?? '');
  return out;
}

/** A composite field (or a component of one): `a^b^c`, trailing empties trimmed. */
export function components(...items: Item[]): string {
  return joinTrimmed(items, COMPONENT_SEPARATOR);
}

/** A component made of subcomponents (e.g. an HD inside a CX): `a&b&c`, trailing empties trimmed. */
export function subcomponents(...items: Item[]): string {
  return joinTrimmed(items, SUBCOMPONENT_SEPARATOR);
}

/**
 * A repeating field: the non-empty items joined by `~`. Every empty repetition is left
 * out, not only trailing ones: an empty repetition carries no data, and HL7 gives a
 * repetition no positional meaning.
 */
export function repetitions(items: readonly Item[]): string {
  let out = '';
  for (const item of items) out = withRepetition(out, item);
  return out;
}

/** `field` with `item` as one more repetition; an empty item is left out, as in {@link repetitions}. */
export function withRepetition(field: string, item: Item): string {
  if (!item) return field;
  return field === '' ? item : field + REPETITION_SEPARATOR + item;
}

/**
 * A segment without its terminator: `name|field1|field2...`, trailing empty fields trimmed
 * (just `name` when all are empty). `fields[0]` is field 1 of the segment, except for MSH,
 * where `fields[0]` is MSH-2 (MSH-1 is the separator written after the name).
 */
export function segment(name: string, fields: readonly Item[]): string {
  const body = joinTrimmed(fields, FIELD_SEPARATOR);
  return body === '' ? name : name + FIELD_SEPARATOR + body;
}

/**
 * The message text: every segment followed by SEGMENT_TERMINATOR. Joined in one go, so the
 * text is one flat string (not a chain of concatenations that every later scan of it, and
 * the encoding for the wire, would have to walk or copy first).
 */
export function message(segments: readonly string[]): string {
  return segments.length === 0 ? '' : segments.concat('').join(SEGMENT_TERMINATOR);
}
