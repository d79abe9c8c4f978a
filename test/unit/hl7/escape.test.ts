import { describe, expect, it } from 'vitest';
import { escapeHl7 } from '../../../src/hl7/escape.js';

describe('escapeHl7', () => {
  it.each([
    ['\\', '\\E\\'],
    ['|', '\\F\\'],
    ['^', '\\S\\'],
    ['&', '\\T\\'],
    ['~', '\\R\\'],
    ['\r', '\\X0D\\'],
    ['\n', '\\X0A\\'],
  ])('escapes %j as %s', (input, expected) => {
    expect(escapeHl7(input)).toBe(expected);
    expect(escapeHl7(`a${input}b`)).toBe(`a${expected}b`);
  });

  it('escapes the backslash first: the backslashes of the escape sequences are not escaped again', () => {
    expect(escapeHl7('\\|')).toBe('\\E\\\\F\\');
    expect(escapeHl7('|\\')).toBe('\\F\\\\E\\');
    // An input that already looks escaped is data, not an escape sequence.
    expect(escapeHl7('\\F\\')).toBe('\\E\\F\\E\\');
  });

  it('escapes every occurrence, adjacent ones and at both ends included', () => {
    expect(escapeHl7('^^')).toBe('\\S\\\\S\\');
    expect(escapeHl7('&a&')).toBe('\\T\\a\\T\\');
    expect(escapeHl7('12 King & Queen St')).toBe('12 King \\T\\ Queen St');
    expect(escapeHl7('x|y^z~w\\v&u\r\nt')).toBe('x\\F\\y\\S\\z\\R\\w\\E\\v\\T\\u\\X0D\\\\X0A\\t');
  });

  it('returns input without special characters unchanged (fast path), non-ASCII included', () => {
    for (const s of ['', 'PAT-000123', "O'Brien-Smith", 'Müller-Łukasiewicz', 'Zoë Ærø 😀', 'a\tb']) {
      expect(escapeHl7(s)).toBe(s);
    }
  });

  it('keeps non-ASCII characters next to escaped ones', () => {
    expect(escapeHl7('Ærø|Bo')).toBe('Ærø\\F\\Bo');
    expect(escapeHl7('😀&😀')).toBe('😀\\T\\😀');
  });
});
