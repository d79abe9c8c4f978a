import { describe, expect, it } from 'vitest';
import { compileWhen } from '../../../src/routing/when/index.js';

function age(entry: string, birthDate: unknown, now: string): boolean {
  const compiled = compileWhen([`patient.birthDate=:(age)${entry}`]);
  if (!compiled.ok) throw new Error(compiled.errors.map((e) => e.message).join('\n'));
  return compiled.criteria.matches({ patient: { birthDate } }, new Date(now));
}

/** [comparator] -> expected result, for the four comparators at once. */
function all(duration: string, birthDate: unknown, now: string): Record<string, boolean> {
  return {
    '<': age(`<${duration}`, birthDate, now),
    '<=': age(`<=${duration}`, birthDate, now),
    '>': age(`>${duration}`, birthDate, now),
    '>=': age(`>=${duration}`, birthDate, now),
  };
}

const UNDER = { '<': true, '<=': true, '>': false, '>=': false };
const EXACTLY = { '<': false, '<=': true, '>': false, '>=': true };
const OVER = { '<': false, '<=': false, '>': true, '>=': true };

describe('=:(age) with years', () => {
  const born = '2016-03-15';

  it('the day before the 10th birthday is under 10, to the last millisecond', () => {
    expect(all('P10Y', born, '2026-03-14T00:00:00Z')).toEqual(UNDER);
    expect(all('P10Y', born, '2026-03-14T23:59:59.999Z')).toEqual(UNDER);
  });

  it('the whole 10th birthday (UTC) is exactly 10', () => {
    expect(all('P10Y', born, '2026-03-15T00:00:00Z')).toEqual(EXACTLY);
    expect(all('P10Y', born, '2026-03-15T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P10Y', born, '2026-03-15T23:59:59.999Z')).toEqual(EXACTLY);
  });

  it('the day after the 10th birthday is over 10', () => {
    expect(all('P10Y', born, '2026-03-16T00:00:00Z')).toEqual(OVER);
    expect(all('P10Y', born, '2030-01-01T00:00:00Z')).toEqual(OVER);
  });

  it('long before: a newborn is under 10', () => {
    expect(all('P10Y', born, '2016-03-15T00:00:00Z')).toEqual(UNDER);
  });

  it('uses UTC days for date-only values, whatever the offset now is written in', () => {
    // 23:30 at -05:00 on the 14th is already the 15th in UTC
    expect(all('P10Y', born, '2026-03-14T23:30:00-05:00')).toEqual(EXACTLY);
    // 00:30 at +02:00 on the 15th is still the 14th in UTC
    expect(all('P10Y', born, '2026-03-15T00:30:00+02:00')).toEqual(UNDER);
  });

  it('combines years and months (P1Y6M)', () => {
    expect(all('P1Y6M', '2024-09-15', '2026-03-14T12:00:00Z')).toEqual(UNDER);
    expect(all('P1Y6M', '2024-09-15', '2026-03-15T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P1Y6M', '2024-09-15', '2026-03-16T12:00:00Z')).toEqual(OVER);
  });
});

describe('=:(age) with months, weeks and days', () => {
  it('P6M', () => {
    expect(all('P6M', '2025-09-15', '2026-03-14T12:00:00Z')).toEqual(UNDER);
    expect(all('P6M', '2025-09-15', '2026-03-15T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P6M', '2025-09-15', '2026-03-16T12:00:00Z')).toEqual(OVER);
  });

  it('P6M clamps to the end of a shorter month', () => {
    // 2025-08-31 + 6 months = 2026-02-31 -> 2026-02-28
    expect(all('P6M', '2025-08-31', '2026-02-27T12:00:00Z')).toEqual(UNDER);
    expect(all('P6M', '2025-08-31', '2026-02-28T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P6M', '2025-08-31', '2026-03-01T12:00:00Z')).toEqual(OVER);
  });

  it('P30D', () => {
    // 2026-02-13 + 30 days = 2026-03-15
    expect(all('P30D', '2026-02-13', '2026-03-14T12:00:00Z')).toEqual(UNDER);
    expect(all('P30D', '2026-02-13', '2026-03-15T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P30D', '2026-02-13', '2026-03-16T12:00:00Z')).toEqual(OVER);
  });

  it('P2W', () => {
    expect(all('P2W', '2026-03-01', '2026-03-14T12:00:00Z')).toEqual(UNDER);
    expect(all('P2W', '2026-03-01', '2026-03-15T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P2W', '2026-03-01', '2026-03-16T12:00:00Z')).toEqual(OVER);
  });

  it('P0D: a birth today is exactly zero days old', () => {
    expect(all('P0D', '2026-03-15', '2026-03-15T12:00:00Z')).toEqual(EXACTLY);
  });
});

describe('=:(age) for leap-day births', () => {
  const born = '2016-02-29';

  it('reaches 10 on 2026-02-28 (clamped)', () => {
    expect(all('P10Y', born, '2026-02-27T12:00:00Z')).toEqual(UNDER);
    expect(all('P10Y', born, '2026-02-28T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P10Y', born, '2026-03-01T12:00:00Z')).toEqual(OVER);
  });

  it('reaches 8 on 2024-02-29 (a leap year, no clamping)', () => {
    expect(all('P8Y', born, '2024-02-28T12:00:00Z')).toEqual(UNDER);
    expect(all('P8Y', born, '2024-02-29T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P8Y', born, '2024-03-01T12:00:00Z')).toEqual(OVER);
  });

  it('reaches 12 months on 2017-02-28', () => {
    expect(all('P12M', born, '2017-02-28T12:00:00Z')).toEqual(EXACTLY);
  });
});

describe('=:(age) for a dateTime, to the millisecond', () => {
  // born 08:00 at +02:00 = 06:00Z; one day later is 2026-03-16T06:00Z
  const born = '2026-03-15T08:00:00+02:00';

  it('P1D', () => {
    expect(all('P1D', born, '2026-03-16T05:59:59.999Z')).toEqual(UNDER);
    expect(all('P1D', born, '2026-03-16T06:00:00.000Z')).toEqual(EXACTLY);
    expect(all('P1D', born, '2026-03-16T06:00:00.001Z')).toEqual(OVER);
  });

  it('PT36H', () => {
    expect(all('PT36H', born, '2026-03-16T17:59:59Z')).toEqual(UNDER);
    expect(all('PT36H', born, '2026-03-16T18:00:00Z')).toEqual(EXACTLY);
  });

  it('moves months in the value\'s own offset', () => {
    // 2016-01-30T23:00-05:00 (= 2016-01-31T04:00Z) + P1M = 2016-02-29T23:00-05:00 = 2016-03-01T04:00Z;
    // moving the UTC fields instead would give 2016-02-29T04:00Z, a day earlier
    const late = '2016-01-30T23:00:00-05:00';
    expect(all('P1M', late, '2016-02-29T12:00:00Z')).toEqual(UNDER);
    expect(all('P1M', late, '2016-03-01T03:59:59Z')).toEqual(UNDER);
    expect(all('P1M', late, '2016-03-01T04:00:00Z')).toEqual(EXACTLY);
  });
});

describe('=:(age) other values', () => {
  it('counts a partial date from its first day', () => {
    expect(all('P10Y', '2016', '2025-12-31T12:00:00Z')).toEqual(UNDER);
    expect(all('P10Y', '2016', '2026-01-01T12:00:00Z')).toEqual(EXACTLY);
    expect(all('P10Y', '2016-03', '2026-03-01T12:00:00Z')).toEqual(EXACTLY);
  });

  it('matches when any duration alternative holds', () => {
    expect(age('<P1Y|P10Y', '2016-03-15', '2020-01-01T00:00:00Z')).toBe(true);
    expect(age('<P1Y|P2Y', '2016-03-15', '2020-01-01T00:00:00Z')).toBe(false);
  });

  it('never matches a value that is not a FHIR date', () => {
    for (const value of ['not a date', '2016-02-30', '2016-03-15T10:00:00', 20160315, true]) {
      expect(age('<P200Y', value, '2026-03-15T00:00:00Z')).toBe(false);
      expect(age('>=P0D', value, '2026-03-15T00:00:00Z')).toBe(false);
    }
  });

  it('treats a birth date in the future as under any age', () => {
    expect(all('P0D', '2027-01-01', '2026-03-15T12:00:00Z')).toEqual({ '<': true, '<=': true, '>': false, '>=': false });
  });

  it('matches any element of an array of dates', () => {
    const compiled = compileWhen(['dates=:(age)<P1Y']);
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    const now = new Date('2026-03-15T00:00:00Z');
    expect(compiled.criteria.matches({ dates: ['2000-01-01', '2026-01-01'] }, now)).toBe(true);
    expect(compiled.criteria.matches({ dates: ['2000-01-01', '2001-01-01'] }, now)).toBe(false);
  });
});
