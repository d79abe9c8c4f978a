import { parseFhirDate, type FhirDate } from './fhir-date.js';

/**
 * Typed comparison of one JSON leaf with one literal of a When Criteria value.
 *
 * The type is chosen per pair, from the JSON type of the leaf and what the literal can be:
 * - leaf is a JSON number and the literal is a number  -> numeric (`10 > 9`);
 * - leaf is a string that is a FHIR date/dateTime and the literal is one too -> as periods
 *   of time (see `compareDates`);
 * - otherwise -> the leaf's string form (booleans `true`/`false`, numbers via `String`)
 *   against the literal text, exactly: case-sensitive, ordered by Unicode code points.
 * A JSON string is never read as a number: identifier values and postal codes such as
 * "007" stay strings, so `=7` does not match them.
 */

export type Scalar = string | number | boolean;

/** -1: the leaf is before the literal, 0: equal (dates: the periods overlap), 1: after. */
export type Relation = -1 | 0 | 1;

export interface Literal {
  /** The value text after unescaping and trimming. */
  readonly text: string;
  /** Set when the text is a JSON-style number literal (e.g. `10`, `-2.5`, `1e3`). */
  readonly number: number | undefined;
  /** Set when the text is a FHIR date/dateTime. */
  readonly date: FhirDate | undefined;
}

const NUMBER_LITERAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Done once per alternative at compile time, so evaluation never parses the literal. */
export function toLiteral(text: string): Literal {
  const asNumber = NUMBER_LITERAL.test(text) ? Number(text) : Number.NaN;
  return {
    text,
    number: Number.isFinite(asNumber) ? asNumber : undefined,
    date: parseFhirDate(text),
  };
}

/** UTF-16 code unit remapped so that plain `<` on the result orders by code point. */
function codePointOrder(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800; // U+E000..U+FFFF sort below the supplementary planes
  if (unit >= 0xd800) return unit + 0x2000; // surrogates (U+10000 and up) sort above them
  return unit;
}

export function compareStrings(a: string, b: string): Relation {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrder(x) < codePointOrder(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/**
 * Dates are periods: `2020` is the whole year, `2020-05-17` the whole (UTC) day,
 * `…T10:00:00Z` one second. Equal means the periods overlap; before means the leaf's period
 * ends no later than the literal's starts; after means it starts no earlier than the
 * literal's ends. At equal precision that is ordinary date comparison; across precisions it
 * reads naturally: `birthDate=2020` is "born in 2020", `birthDate<2020` "born before 2020",
 * `birthDate>=2020-06` "born in or after June 2020".
 */
export function compareDates(leaf: FhirDate, literal: FhirDate): Relation {
  if (leaf.endMs <= literal.startMs) return -1;
  if (leaf.startMs >= literal.endMs) return 1;
  return 0;
}

/**
 * `leafDate` is the leaf parsed as a FHIR date when the leaf is a string (parsed once per
 * leaf by the caller, and only when some literal is a date); `undefined` otherwise.
 */
export function relate(leaf: Scalar, literal: Literal, leafDate: FhirDate | undefined): Relation {
  if (typeof leaf === 'number') {
    if (literal.number !== undefined) {
      return leaf < literal.number ? -1 : leaf > literal.number ? 1 : 0;
    }
    return compareStrings(String(leaf), literal.text);
  }
  if (typeof leaf === 'boolean') return compareStrings(leaf ? 'true' : 'false', literal.text);
  if (leafDate !== undefined && literal.date !== undefined) return compareDates(leafDate, literal.date);
  return compareStrings(leaf, literal.text);
}
