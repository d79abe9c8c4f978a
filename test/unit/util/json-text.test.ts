import { describe, expect, it } from 'vitest';
import { isoNow, jsonNumberOrNull, jsonString, jsonStringOrNull } from '../../../src/util/json-text.js';

const STRINGS = ['', 'evt-1', 'ACK^A01', 'a "quoted" \\ value', 'tab\there', 'line\nbreak', '\u0001\u001f', 'Zoë', '\u2028', 'http://fhir.example/Patient/1', 'x=1,y;#2 @ 3:4', '\ud800'];

describe('JSON text', () => {
  it.each(STRINGS)('writes %j exactly as JSON.stringify does', (value) => {
    expect(jsonString(value)).toBe(JSON.stringify(value));
    expect(jsonStringOrNull(value)).toBe(JSON.stringify(value));
  });

  it('writes null, numbers and non-finite numbers as JSON.stringify does', () => {
    expect(jsonStringOrNull(null)).toBe('null');
    for (const n of [0, 1, 0.3215, 1e21, -2.5, Number.NaN, Number.POSITIVE_INFINITY, null]) expect(jsonNumberOrNull(n)).toBe(JSON.stringify(n));
  });

  it('gives the current time as an ISO string', () => {
    const before = Date.now();
    const at = Date.parse(isoNow());
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});
