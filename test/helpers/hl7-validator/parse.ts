/**
 * Splitting an un-framed HL7 message with the default delimiters `|^~\&`: segments end
 * with `\r` (a final `\r` is optional); no other character separates segments, so a `\n`
 * stays inside a segment and is reported as a control character.
 */

export interface ParsedSegment {
  /** Segment id, e.g. `PID`. */
  id: string;
  /**
   * `fields[n]` is field n (1-based; `fields[0]` is the id). For MSH, `fields[1]` is the
   * field separator and `fields[2]` the encoding characters, as HL7 numbers them.
   */
  fields: string[];
}

export const FIELD = '|';
export const COMPONENT = '^';
export const REPETITION = '~';
export const SUBCOMPONENT = '&';
export const ENCODING_CHARACTERS = '^~\\&';

export function splitSegments(text: string): string[] {
  const body = text.endsWith('\r') ? text.slice(0, -1) : text;
  return body === '' ? [] : body.split('\r');
}

export function parseSegment(line: string): ParsedSegment {
  const parts = line.split(FIELD);
  const id = parts[0] ?? '';
  if (id !== 'MSH') return { id, fields: parts };
  return { id, fields: [id, FIELD, ...parts.slice(1)] };
}

/** Field n of a segment, '' when absent. */
export function fieldOf(segment: ParsedSegment, n: number): string {
  return segment.fields[n] ?? '';
}

/** Component m (1-based) of the first repetition of a field value. */
export function componentOf(field: string, m: number): string {
  return (field.split(REPETITION)[0] ?? '').split(COMPONENT)[m - 1] ?? '';
}
