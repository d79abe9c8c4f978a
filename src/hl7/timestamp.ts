/**
 * HL7 v2 TS/DTM values (`YYYY[MM[DD[HHMM[SS[.S[S[S[S]]]]]]]][+/-ZZZZ]`) from clock readings
 * and from FHIR / RFC 3339 strings.
 *
 * Contract: the string converters never throw; they return `undefined` for anything they
 * cannot parse or that names an impossible date or time (month 13, 31 April, 24:00, an
 * offset of +25:00), so the mapper can leave an optional field empty. They keep the
 * precision and the UTC offset the input carries; they never convert between zones.
 */

/** `date` as `YYYYMMDDHHMMSS+ZZZZ` in the zone `utcOffsetMinutes` east of UTC (MSH-7, EVN-2).
 * Throws RangeError for an invalid Date or an offset that is not an integer in (-1440, 1440):
 * both are programming errors, not data. */
export function formatHl7Timestamp(date: Date, utcOffsetMinutes: number): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('formatHl7Timestamp: invalid Date');
  if (!Number.isInteger(utcOffsetMinutes) || utcOffsetMinutes <= -1440 || utcOffsetMinutes >= 1440) {
    throw new RangeError('formatHl7Timestamp: utcOffsetMinutes must be an integer in (-1440, 1440)');
  }
  // Every message of a second gets the same text: it is formatted once.
  const second = Math.floor(ms / 1000);
  if (second === lastFormatted.second && utcOffsetMinutes === lastFormatted.utcOffsetMinutes) return lastFormatted.text;
  const text = formatSecond(ms, utcOffsetMinutes);
  lastFormatted = { second, utcOffsetMinutes, text };
  return text;
}

let lastFormatted = { second: Number.NaN, utcOffsetMinutes: Number.NaN, text: '' };

function formatSecond(ms: number, utcOffsetMinutes: number): string {
  const local = new Date(ms + utcOffsetMinutes * 60_000);
  const abs = Math.abs(utcOffsetMinutes);
  return (
    pad(local.getUTCFullYear(), 4) +
    pad(local.getUTCMonth() + 1, 2) +
    pad(local.getUTCDate(), 2) +
    pad(local.getUTCHours(), 2) +
    pad(local.getUTCMinutes(), 2) +
    pad(local.getUTCSeconds(), 2) +
    (utcOffsetMinutes < 0 ? '-' : '+') +
    pad(Math.floor(abs / 60), 2) +
    pad(abs % 60, 2)
  );
}

/**
 * An RFC 3339 date-time (`2026-03-15T14:29:00+01:00`) as HL7 TS, keeping its offset:
 * `20260315142900+0100`; `Z` -> `+0000`, `-00:00` -> `-0000`. Fractional seconds are kept
 * up to 4 digits (HL7's limit; further digits are cut, not rounded). A full-date alone
 * (`2026-03-15`) is allowed and gives `20260315`. A date-time needs seconds and an offset,
 * as RFC 3339 and FHIR require: a zone-less local time is ambiguous, so it is `undefined`.
 * `T` may also be `t` or a space (RFC 3339 section 5.6 note).
 */
export function rfc3339ToHl7(s: string): string | undefined {
  if (s.length < 10 || !isFullDate(s)) return undefined;
  const date = s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 10);
  if (s.length === 10) return date;

  const t = s.charCodeAt(10);
  if (t !== 0x54 /* T */ && t !== 0x74 /* t */ && t !== 0x20 /* space */) return undefined;
  if (s.length < 20) return undefined; // THH:MM:SS plus at least `Z`
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (s[13] !== ':' || s[16] !== ':' || hour < 0 || hour > 23 || minute < 0 || minute > 59) return undefined;
  if (second < 0 || second > 60) return undefined; // 60: leap second
  let out = date + s.slice(11, 13) + s.slice(14, 16) + s.slice(17, 19);

  let i = 19;
  if (s[i] === '.') {
    const start = ++i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return undefined;
    out += '.' + s.slice(start, Math.min(i, start + 4));
  }

  const zone = s[i];
  if ((zone === 'Z' || zone === 'z') && i + 1 === s.length) return out + '+0000';
  if ((zone === '+' || zone === '-') && i + 6 === s.length && s[i + 3] === ':') {
    const zoneHour = digits(s, i + 1, 2);
    const zoneMinute = digits(s, i + 4, 2);
    if (zoneHour < 0 || zoneHour > 23 || zoneMinute < 0 || zoneMinute > 59) return undefined;
    return out + zone + s.slice(i + 1, i + 3) + s.slice(i + 4, i + 6);
  }
  return undefined;
}

/**
 * A FHIR `date` or `dateTime` as HL7, keeping its precision: `1984` -> `1984`,
 * `1984-03` -> `198403`, `1984-03-12` -> `19840312`; a value with a time goes through
 * {@link rfc3339ToHl7}.
 */
export function fhirDateToHl7(s: string): string | undefined {
  switch (s.length) {
    case 4:
      return digits(s, 0, 4) >= 0 ? s : undefined;
    case 7: {
      const month = digits(s, 5, 2);
      return digits(s, 0, 4) >= 0 && s[4] === '-' && month >= 1 && month <= 12 ? s.slice(0, 4) + s.slice(5, 7) : undefined;
    }
    default:
      return rfc3339ToHl7(s);
  }
}

/** `YYYY-MM-DD` at the start of `s`, with a month of 1-12 and a day that exists in it. */
function isFullDate(s: string): boolean {
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  return (
    year >= 0 && s[4] === '-' && s[7] === '-' && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
  );
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The decimal number in s[start, start + count), or -1 when any of those is not a digit. */
function digits(s: string, start: number, count: number): number {
  if (start + count > s.length) return -1;
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const code = s.charCodeAt(i);
    if (!isDigit(code)) return -1;
    n = n * 10 + (code - 0x30);
  }
  return n;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
