import { describe, expect, it } from 'vitest';
import { addDuration, parseFhirDate, parseIsoDuration } from '../../../src/routing/when/index.js';

const ms = (iso: string): number => Date.parse(iso);

describe('parseFhirDate', () => {
  it('reads each precision as a UTC period', () => {
    expect(parseFhirDate('2020')).toMatchObject({ precision: 'year', hasTime: false, startMs: ms('2020-01-01T00:00:00Z'), endMs: ms('2021-01-01T00:00:00Z') });
    expect(parseFhirDate('2020-02')).toMatchObject({ precision: 'month', startMs: ms('2020-02-01T00:00:00Z'), endMs: ms('2020-03-01T00:00:00Z') });
    expect(parseFhirDate('2020-12')).toMatchObject({ startMs: ms('2020-12-01T00:00:00Z'), endMs: ms('2021-01-01T00:00:00Z') });
    expect(parseFhirDate('2020-02-29')).toMatchObject({ precision: 'day', startMs: ms('2020-02-29T00:00:00Z'), endMs: ms('2020-03-01T00:00:00Z') });
    expect(parseFhirDate('2026-03-15T14:29:00+01:00')).toMatchObject({
      precision: 'second', hasTime: true, offsetMinutes: 60, startMs: ms('2026-03-15T13:29:00Z'), endMs: ms('2026-03-15T13:29:01Z'),
    });
    expect(parseFhirDate('2026-03-15T14:29:00.25Z')).toMatchObject({ precision: 'millisecond', millisecond: 250, startMs: ms('2026-03-15T14:29:00.250Z') });
    expect(parseFhirDate('2026-03-15T14:29:00.123456-05:30')).toMatchObject({ millisecond: 123, startMs: ms('2026-03-15T19:59:00.123Z') });
    expect(parseFhirDate('2026-03-15T00:00:00+14:00')?.startMs).toBe(ms('2026-03-14T10:00:00Z'));
  });

  it('handles years before 100 without Date quirks', () => {
    expect(parseFhirDate('0001-01-01')?.startMs).toBe(Date.UTC(2001, 0, 1) - 2000 * 365.2425 * 86_400_000);
    expect(parseFhirDate('0050')?.startMs).toBe(new Date('0050-01-01T00:00:00Z').getTime());
  });

  it('rejects anything that is not a FHIR date', () => {
    for (const text of [
      '', '20', '0000', '2020-1', '2020-13', '2020-00', '2021-02-29', '2020-04-31', '2020/01/01',
      '2020-01-01T10:00:00', '2020-01-01T10:00Z', '2020-01-01T24:00:00Z', '2020-01-01T10:60:00Z',
      '2020-01-01t10:00:00z', '2020-01-01T10:00:00.Z', '2020-01-01T10:00:00+15:00', '2020-01-01T10:00:00+0100',
      '2020-01-01T10:00:00+01:00x', 'abcd', '2020-01-01 ',
    ]) {
      expect(parseFhirDate(text), text).toBeUndefined();
    }
  });
});

describe('parseIsoDuration', () => {
  it('reads date and time components', () => {
    expect(parseIsoDuration('P10Y')).toMatchObject({ years: 10, months: 0, days: 0 });
    expect(parseIsoDuration('P1Y6M')).toMatchObject({ years: 1, months: 6 });
    expect(parseIsoDuration('P2W')).toMatchObject({ weeks: 2 });
    expect(parseIsoDuration('P30D')).toMatchObject({ days: 30 });
    expect(parseIsoDuration('P1Y2M3W4DT5H6M7S')).toEqual({
      text: 'P1Y2M3W4DT5H6M7S', years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7,
    });
    expect(parseIsoDuration('PT36H')).toMatchObject({ hours: 36, months: 0 });
    expect(parseIsoDuration('PT1M')).toMatchObject({ minutes: 1, months: 0 });
    expect(parseIsoDuration('P0D')).toMatchObject({ days: 0 });
  });

  it('rejects malformed durations', () => {
    for (const text of ['', 'P', 'PT', 'P10', '10Y', 'PXY', 'P1OY', 'p1y', 'P1.5Y', 'P-1Y', 'P1Y1Y', 'P1D1Y', 'P1YT', 'PT1Y', 'P1H', 'P1Y ', ' P1Y', 'P1234567890Y', 'PT1H1D']) {
      expect(parseIsoDuration(text), text).toBeUndefined();
    }
  });
});

describe('addDuration', () => {
  const add = (date: string, duration: string): string => {
    const d = parseFhirDate(date);
    const p = parseIsoDuration(duration);
    if (d === undefined || p === undefined) throw new Error('bad fixture');
    return new Date(addDuration(d, p)).toISOString();
  };

  it('adds years and months first, clamping to the end of the month', () => {
    expect(add('2016-02-29', 'P10Y')).toBe('2026-02-28T00:00:00.000Z');
    expect(add('2016-02-29', 'P8Y')).toBe('2024-02-29T00:00:00.000Z');
    expect(add('2025-08-31', 'P6M')).toBe('2026-02-28T00:00:00.000Z');
    expect(add('2025-01-31', 'P1M')).toBe('2025-02-28T00:00:00.000Z');
    expect(add('2025-11-30', 'P3M')).toBe('2026-02-28T00:00:00.000Z');
    expect(add('2024-09-15', 'P1Y6M')).toBe('2026-03-15T00:00:00.000Z');
  });

  it('then weeks and days, then time', () => {
    expect(add('2025-01-31', 'P1M1D')).toBe('2025-03-01T00:00:00.000Z'); // Feb 28 + 1 day
    expect(add('2026-02-13', 'P30D')).toBe('2026-03-15T00:00:00.000Z');
    expect(add('2026-03-01', 'P2W')).toBe('2026-03-15T00:00:00.000Z');
    expect(add('2026-03-15T08:00:00+02:00', 'PT36H')).toBe('2026-03-16T18:00:00.000Z');
    expect(add('2026-03-15T08:00:00.250Z', 'PT1S')).toBe('2026-03-15T08:00:01.250Z');
  });

  it('counts partial dates from their first day', () => {
    expect(add('2016', 'P10Y')).toBe('2026-01-01T00:00:00.000Z');
    expect(add('2016-03', 'P1M')).toBe('2016-04-01T00:00:00.000Z');
  });
});
