import { daysFromCivil, daysInMonth, MS_PER_DAY, type FhirDate } from './fhir-date.js';

/**
 * ISO 8601 durations for `=:(age)`: `PnYnMnWnDTnHnMnS`, every component optional but at
 * least one present, components in that order and each at most once, non-negative integers
 * only (no fractions, no sign), upper-case designators. `P`, `PT`, `P10`, `10Y`, `PXY`,
 * `P1.5Y` and `p10y` are rejected.
 */
export interface IsoDuration {
  readonly text: string;
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

type Component = Exclude<keyof IsoDuration, 'text'>;

const DATE_DESIGNATORS: ReadonlyArray<readonly [string, Component]> = [
  ['Y', 'years'], ['M', 'months'], ['W', 'weeks'], ['D', 'days'],
];
const TIME_DESIGNATORS: ReadonlyArray<readonly [string, Component]> = [
  ['H', 'hours'], ['M', 'minutes'], ['S', 'seconds'],
];

/** Nine digits keep every derived millisecond count a safe integer. */
const MAX_DIGITS = 9;

export function parseIsoDuration(text: string): IsoDuration | undefined {
  if (text.charCodeAt(0) !== 0x50 /* P */) return undefined;
  const parts: Record<Component, number> = {
    years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0,
  };
  let at = 1;
  let components = 0;

  const readSection = (designators: ReadonlyArray<readonly [string, Component]>): number | undefined => {
    let next = 0; // designators must appear in order, each at most once
    let read = 0;
    while (at < text.length && text[at] !== 'T') {
      const digitsStart = at;
      while (at < text.length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
      const digitCount = at - digitsStart;
      if (digitCount === 0 || digitCount > MAX_DIGITS) return undefined;
      const designator = text[at];
      let found = -1;
      for (let i = next; i < designators.length; i++) {
        if (designators[i]?.[0] === designator) { found = i; break; }
      }
      const entry = designators[found];
      if (entry === undefined) return undefined;
      parts[entry[1]] = Number(text.slice(digitsStart, at));
      next = found + 1;
      at++;
      read++;
    }
    return read;
  };

  const dateComponents = readSection(DATE_DESIGNATORS);
  if (dateComponents === undefined) return undefined;
  components += dateComponents;
  if (at < text.length) {
    at++; // the 'T'
    const timeComponents = readSection(TIME_DESIGNATORS);
    if (timeComponents === undefined || timeComponents === 0 || at < text.length) return undefined;
    components += timeComponents;
  }
  if (components === 0) return undefined;
  return { text, ...parts };
}

/**
 * The instant (epoch ms) at which something that started at `date` is exactly `duration`
 * old, in calendar terms: years and months first, clamping the day to the end of the target
 * month (2016-02-29 + P10Y = 2026-02-28; 2025-08-31 + P6M = 2026-02-28), then weeks and days,
 * then hours, minutes and seconds. Wall-clock fields are moved in the value's own offset.
 * A partial date (YYYY, YYYY-MM) counts from its first day.
 */
export function addDuration(date: FhirDate, duration: IsoDuration): number {
  const monthIndex = date.year * 12 + (date.month - 1) + duration.years * 12 + duration.months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12 + 1;
  const day = Math.min(date.day, daysInMonth(year, month));
  const dayNumber = daysFromCivil(year, month, day) + duration.weeks * 7 + duration.days;
  const timeOfDaySeconds =
    (date.hour + duration.hours) * 3600 + (date.minute + duration.minutes - date.offsetMinutes) * 60 +
    date.second + duration.seconds;
  return dayNumber * MS_PER_DAY + timeOfDaySeconds * 1000 + date.millisecond;
}
