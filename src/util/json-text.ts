/**
 * JSON text for the lines written once per event (the receipt, the settle log line), built
 * without an object and JSON.stringify. The output is what JSON.stringify writes for the
 * same value, character for character.
 */

/** Characters that never need escaping in a JSON string (most identifiers and codes). */
const PLAIN = /^[\w .:@/+=,;#-]*$/;

/** A JSON string: plain text is quoted as it is, anything else goes through JSON.stringify. */
export function jsonString(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** A JSON string or null. */
export function jsonStringOrNull(value: string | null): string {
  return value === null ? 'null' : jsonString(value);
}

/** A JSON number or null (JSON.stringify writes non-finite numbers as null). */
export function jsonNumberOrNull(value: number | null): string {
  return value === null || !Number.isFinite(value) ? 'null' : String(value);
}

let isoAt = 0;
let iso = '';

/** `new Date().toISOString()`, made once per millisecond: several events settle within one. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}
