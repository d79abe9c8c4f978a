/**
 * FHIR R4 `date` / `dateTime` / `instant` values for the When Criteria evaluator.
 *
 * Accepted forms (FHIR's own grammar, upper-case `T` and `Z` only):
 *   `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ss[.fff…](Z|±hh:mm)`.
 * A time without an offset is not a FHIR dateTime and does not parse.
 *
 * Every value denotes a half-open interval of UTC instants, [startMs, endMs): a year, a
 * month, a day, a second or (with a fraction) a millisecond. Values without a time have no
 * offset in FHIR; they are taken as UTC days. The scanner is hand-written (no regex) because
 * it runs per event on field values.
 */

export const MS_PER_DAY = 86_400_000;

export type DatePrecision = 'year' | 'month' | 'day' | 'second' | 'millisecond';

export interface FhirDate {
  readonly precision: DatePrecision;
  /** Calendar fields as written (local to `offsetMinutes`); missing parts are 1 / 0. */
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
  /** Offset from UTC of the written wall-clock fields; 0 for values without a time. */
  readonly offsetMinutes: number;
  /** True when the value carries a time of day (dateTime/instant), false for YYYY[-MM[-DD]]. */
  readonly hasTime: boolean;
  readonly startMs: number;
  readonly endMs: number;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

export function daysInMonth(year: number, month: number): number {
  if (month === 2 && isLeapYear(year)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 31;
}

const ZERO = 48;

/** The number written by `count` ASCII digits at `at`, or -1 if any of them is not a digit. */
function readDigits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

function dateOnly(precision: 'year' | 'month' | 'day', year: number, month: number, day: number): FhirDate {
  const startDay = daysFromCivil(year, month, day);
  let endDay: number;
  if (precision === 'year') endDay = daysFromCivil(year + 1, 1, 1);
  else if (precision === 'month') endDay = month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
  else endDay = startDay + 1;
  return {
    precision, year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0,
    offsetMinutes: 0, hasTime: false, startMs: startDay * MS_PER_DAY, endMs: endDay * MS_PER_DAY,
  };
}

/** Parses a FHIR date/dateTime/instant; `undefined` for anything else (never throws). */
export function parseFhirDate(text: string): FhirDate | undefined {
  const length = text.length;
  if (length !== 4 && length !== 7 && length !== 10 && length < 20) return undefined;
  const year = readDigits(text, 0, 4);
  if (year < 1) return undefined; // FHIR years run 0001-9999
  if (length === 4) return dateOnly('year', year, 1, 1);

  if (text.charCodeAt(4) !== 0x2d /* - */) return undefined;
  const month = readDigits(text, 5, 2);
  if (month < 1 || month > 12) return undefined;
  if (length === 7) return dateOnly('month', year, month, 1);

  if (text.charCodeAt(7) !== 0x2d) return undefined;
  const day = readDigits(text, 8, 2);
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (length === 10) return dateOnly('day', year, month, day);

  // YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)
  if (text.charCodeAt(10) !== 0x54 /* T */ || text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) {
    return undefined;
  }
  const hour = readDigits(text, 11, 2);
  const minute = readDigits(text, 14, 2);
  const second = readDigits(text, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;

  let at = 19;
  let millisecond = 0;
  let precision: DatePrecision = 'second';
  if (text.charCodeAt(at) === 0x2e /* . */) {
    at++;
    const fractionStart = at;
    while (at < length) {
      const d = text.charCodeAt(at) - ZERO;
      if (!(d >= 0 && d <= 9)) break;
      // Milliseconds from the first three fraction digits; finer digits are truncated.
      if (at - fractionStart < 3) millisecond += d * 10 ** (2 - (at - fractionStart));
      at++;
    }
    if (at === fractionStart) return undefined;
    precision = 'millisecond';
  }

  let offsetMinutes: number;
  const zone = text.charCodeAt(at);
  if (zone === 0x5a /* Z */ && at + 1 === length) {
    offsetMinutes = 0;
  } else if ((zone === 0x2b /* + */ || zone === 0x2d /* - */) && at + 6 === length && text.charCodeAt(at + 3) === 0x3a) {
    const offsetHours = readDigits(text, at + 1, 2);
    const offsetMins = readDigits(text, at + 4, 2);
    if (offsetHours < 0 || offsetMins < 0 || offsetMins > 59) return undefined;
    if (offsetHours > 14 || (offsetHours === 14 && offsetMins !== 0)) return undefined;
    offsetMinutes = (zone === 0x2d ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return undefined;
  }

  const startMs =
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    millisecond;
  return {
    precision, year, month, day, hour, minute, second, millisecond, offsetMinutes, hasTime: true,
    startMs, endMs: startMs + (precision === 'second' ? 1000 : 1),
  };
}
