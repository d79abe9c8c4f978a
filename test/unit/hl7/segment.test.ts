import { describe, expect, it } from 'vitest';
import {
  ENCODING_CHARACTERS,
  components,
  joinTrimmed,
  message,
  repetitions,
  segment,
  subcomponents,
} from '../../../src/hl7/segment.js';

describe('segment helpers', () => {
  it('trims trailing empty fields, components and subcomponents, keeping inner ones', () => {
    const hd = subcomponents('A', '1.2', 'ISO', undefined, '');
    const cx = components('123', undefined, '', hd, 'MR', undefined, '', undefined);
    expect(segment('PID', ['1', undefined, cx, '', undefined, ''])).toBe('PID|1||123^^^A&1.2&ISO^MR');
  });

  it('keeps a leading empty item in place', () => {
    expect(components(undefined, 'PRN', 'PH')).toBe('^PRN^PH');
    expect(subcomponents('', '1.2.3', 'ISO')).toBe('&1.2.3&ISO');
    expect(segment('EVN', [undefined, '20260315143022+0100'])).toBe('EVN||20260315143022+0100');
  });

  it('gives an empty string when everything is empty', () => {
    expect(components()).toBe('');
    expect(components(undefined, '', undefined)).toBe('');
    expect(subcomponents('', '')).toBe('');
    expect(joinTrimmed([], '|')).toBe('');
  });

  it('writes just the segment name when all fields are empty', () => {
    expect(segment('PD1', [])).toBe('PD1');
    expect(segment('PD1', [undefined, '', undefined])).toBe('PD1');
  });

  it('drops every empty repetition, not only trailing ones', () => {
    expect(repetitions(['a', '', undefined, 'b', '', undefined])).toBe('a~b');
    expect(repetitions(['', 'a'])).toBe('a');
    expect(repetitions([undefined, ''])).toBe('');
    expect(repetitions([])).toBe('');
  });

  it('builds MSH with the encoding characters as MSH-2 after the field separator MSH-1', () => {
    expect(segment('MSH', [ENCODING_CHARACTERS, 'APP'])).toBe('MSH|^~\\&|APP');
  });

  it('ends every segment, the last one included, with CR', () => {
    expect(message(['MSH|^~\\&', 'EVN||1', 'PV1|1|N'])).toBe('MSH|^~\\&\rEVN||1\rPV1|1|N\r');
    expect(message([])).toBe('');
  });
});
