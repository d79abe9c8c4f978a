import { describe, expect, it } from 'vitest';
import { escapeHl7, escapeHl7Code } from '../../../src/hl7/escape.js';

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
    for (const s of ['', 'PAT-000123', "O'Brien-Smith", 'Müller-Łukasiewicz', 'Zoë Ærø 😀', 'a b\u00a0c']) {
      expect(escapeHl7(s)).toBe(s);
    }
  });

  it('escapes C0 control characters and DEL as \\Xhh\\, replaces C1 controls with a space', () => {
    expect(escapeHl7('a\tb\u0007c\u0000d\u001be\u007ff')).toBe('a\\X09\\b\\X07\\c\\X00\\d\\X1B\\e\\X7F\\f');
    expect(escapeHl7('a\u0085b\u009fc')).toBe('a b c');
  });

  it('escapeHl7Code: control characters become spaces (ID/IS allow no escape), delimiters are still escaped', () => {
    expect(escapeHl7Code('A\tB\r|C')).toBe('A B \\F\\C');
    expect(escapeHl7Code('PLAIN')).toBe('PLAIN');
  });

  it('keeps non-ASCII characters next to escaped ones', () => {
    expect(escapeHl7('Ærø|Bo')).toBe('Ærø\\F\\Bo');
    expect(escapeHl7('😀&😀')).toBe('😀\\T\\😀');
  });
});
