import { describe, expect, it } from 'vitest';
import { fhirDateToHl7, formatHl7Timestamp, rfc3339ToHl7 } from '../../../src/hl7/timestamp.js';

describe('formatHl7Timestamp', () => {
  const instant = new Date('2026-03-15T13:30:22.789Z');

  it.each([
    [60, '20260315143022+0100'],
    [0, '20260315133022+0000'],
    [-300, '20260315083022-0500'],
    [330, '20260315190022+0530'],
    [-570, '20260315040022-0930'],
    [840, '20260316033022+1400'],
  ])('offset %i -> %s', (offset, expected) => {
    expect(formatHl7Timestamp(instant, offset)).toBe(expected);
  });

  it('rolls the local date over at midnight and year end', () => {
    expect(formatHl7Timestamp(new Date('2026-12-31T23:30:00Z'), 60)).toBe('20270101003000+0100');
    expect(formatHl7Timestamp(new Date('2027-01-01T00:30:00Z'), -60)).toBe('20261231233000-0100');
  });

  it('rejects an invalid Date or offset (programming errors)', () => {
    expect(() => formatHl7Timestamp(new Date('nope'), 0)).toThrow(RangeError);
    expect(() => formatHl7Timestamp(instant, 1.5)).toThrow(RangeError);
    expect(() => formatHl7Timestamp(instant, 1440)).toThrow(RangeError);
    expect(() => formatHl7Timestamp(instant, Number.NaN)).toThrow(RangeError);
  });
});

describe('rfc3339ToHl7', () => {
  it.each([
    ['2026-03-15T14:29:00+01:00', '20260315142900+0100'],
    ['2026-03-15T14:29:00-05:30', '20260315142900-0530'],
    ['2026-03-15T14:29:00Z', '20260315142900+0000'],
    ['2026-03-15t14:29:00z', '20260315142900+0000'],
    ['2026-03-15 14:29:00+01:00', '20260315142900+0100'],
    ['2026-03-15T14:29:00-00:00', '20260315142900-0000'],
    ['2026-03-15T14:29:00.5+01:00', '20260315142900.5+0100'],
    ['2026-03-15T14:29:00.1234+01:00', '20260315142900.1234+0100'],
    ['2026-03-15T14:29:00.123456789Z', '20260315142900.1234+0000'],
    ['2026-03-15T14:29:00.000Z', '20260315142900.000+0000'],
    ['2016-12-31T23:59:60Z', '20161231235960+0000'],
    ['2024-02-29T00:00:00+14:00', '20240229000000+1400'],
    ['2026-03-15', '20260315'],
  ])('%s -> %s (offset and precision kept)', (input, expected) => {
    expect(rfc3339ToHl7(input)).toBe(expected);
  });

  it.each([
    '',
    'yesterday',
    '2026-03-15T14:29+01:00', // no seconds
    '2026-03-15T14:29:00', // no offset: ambiguous local time
    '2026-03-15T14:29:00.+01:00', // empty fraction
    '2026-03-15T24:00:00Z',
    '2026-03-15T14:60:00Z',
    '2026-03-15T14:29:61Z',
    '2026-03-15T14:29:00+24:00',
    '2026-03-15T14:29:00+01:60',
    '2026-03-15T14:29:00+0100', // RFC 3339 offsets have a colon
    '2026-03-15T14:29:00+01:00x',
    '2026-03-15T14:29:00Zx',
    '2026-13-01',
    '2026-00-10',
    '2026-04-31',
    '2025-02-29',
    '1900-02-29',
    '2026-3-15',
    '2026/03/15',
    '2026-03-15X14:29:00Z',
    '２０２６-03-15',
  ])('%j -> undefined', (input) => {
    expect(rfc3339ToHl7(input)).toBeUndefined();
  });
});

describe('fhirDateToHl7', () => {
  it.each([
    ['1984', '1984'],
    ['1984-03', '198403'],
    ['1984-03-12', '19840312'],
    ['2000-02-29', '20000229'],
    ['2026-03-14T22:10:00Z', '20260314221000+0000'],
    ['2026-03-14T22:10:00.25-03:00', '20260314221000.25-0300'],
  ])('%s -> %s', (input, expected) => {
    expect(fhirDateToHl7(input)).toBe(expected);
  });

  it.each(['', '84', '19840', '1984-3', '1984-13', '1984-00', '1984-03-32', 'abcd', '1984-03-12T10:00', '1984-03-1'])(
    '%j -> undefined',
    (input) => {
      expect(fhirDateToHl7(input)).toBeUndefined();
    },
  );
});
