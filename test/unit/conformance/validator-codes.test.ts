import { describe, expect, it } from 'vitest';
import { tableCodes } from '../../helpers/hl7-validator/index.js';
import { a01, EVN, found, message, msh, PID_231, PID_25, PV1, TIME, validateMessage } from './hand-written.js';

/**
 * Unit tests of the validator's per-version code tables (tables.ts), coded CE values,
 * the MSH-18 character set and the version checks.
 */

describe('code tables per version', () => {
  const xtn = (use: string, equip: string) => `PID|1||P1^^^A&1.2&ISO^PI||Doe||||||||^${use}^${equip}^^^^^^^^^+1 555`;

  it('PRS (table 0201) only from 2.6 (the published table history; issue 12 said 2.7)', () => {
    expect(found(validateMessage(a01('2.5', xtn('PRS', 'CP'))))).toEqual(['PID-13.2 table']);
    expect(found(validateMessage(a01('2.5.1', xtn('PRS', 'CP'))))).toEqual(['PID-13.2 table']);
    expect(validateMessage(a01('2.6', xtn('PRS', 'CP')))).toEqual([]);
    expect(validateMessage(a01('2.5', xtn('PRN', 'CP')))).toEqual([]);
  });

  it('equipment types TDD/TTY (table 0202) from 2.5, SAT from 2.6', () => {
    const pid231 = (equip: string) => `PID|1||P1||Doe||||||||^PRN^${equip}`;
    expect(found(validateMessage(a01('2.4', pid231('TTY'))))).toEqual(['PID-13.3 table']);
    expect(validateMessage(a01('2.5', xtn('PRN', 'TTY')))).toEqual([]);
    expect(found(validateMessage(a01('2.5', xtn('PRN', 'SAT'))))).toEqual(['PID-13.3 table']);
    expect(validateMessage(a01('2.6', xtn('PRN', 'SAT')))).toEqual([]);
  });

  it('address types BI/S/SH/V (table 0190) only from 2.6', () => {
    const address = (type: string) => `PID|1||P1^^^A&1.2&ISO^PI||Doe||||||1 Main St^^Town^^^^${type}`;
    expect(found(validateMessage(a01('2.5', address('V'))))).toEqual(['PID-11.7 table']);
    expect(validateMessage(a01('2.6', address('V')))).toEqual([]);
    expect(validateMessage(a01('2.5', address('H')))).toEqual([]);
  });

  it('name type N (table 0200) only from 2.4; TEMP in none of 2.3.1-2.6', () => {
    expect(found(validateMessage(a01('2.3.1', 'PID|1||P1||Doe^Jo^^^^^N')))).toEqual(['PID-5.7 table']);
    expect(validateMessage(a01('2.4', 'PID|1||P1||Doe^Jo^^^^^N'))).toEqual([]);
    expect(found(validateMessage(a01('2.6', 'PID|1||P1^^^A&1.2&ISO^PI||Doe^Jo^^^^^TEMP')))).toContain('PID-5.7 table');
  });

  it('universal id type URI (table 0301) only from 2.5', () => {
    const pid = 'PID|1||P1^^^&h.org&URI^PI||Doe';
    expect(found(validateMessage(a01('2.3.1', pid)))).toEqual(['PID-3.4.3 table']);
    expect(validateMessage(a01('2.5', pid))).toEqual([]);
  });

  it('MSH-9 with the structure is 15 characters: too long for 2.3.1 (7), fine from 2.4 (15)', () => {
    expect(found(validateMessage(message(msh('2.3.1', 'ADT^A01^ADT_A01'), EVN, PID_231, PV1)))).toEqual(['MSH-9 length']);
    expect(validateMessage(message(msh('2.4', 'ADT^A01^ADT_A01'), EVN, PID_231, PV1))).toEqual([]);
  });

  it('MSH-18 character sets (table 0211) per version', () => {
    const withCharset = (v: string, cs: string) => message(msh(v, undefined, `||||||${cs}`), EVN, v === '2.3.1' ? PID_231 : PID_25, PV1);
    expect(found(validateMessage(withCharset('2.3.1', 'UNICODE UTF-8')))).toEqual(['MSH-18 table']);
    expect(validateMessage(withCharset('2.3.1', 'UNICODE'))).toEqual([]);
    expect(validateMessage(withCharset('2.3.1', '8859/1'))).toEqual([]);
    expect(validateMessage(withCharset('2.5', 'UNICODE UTF-8'))).toEqual([]);
    expect(found(validateMessage(withCharset('2.5', '8859/15')))).toEqual(['MSH-18 table']);
    expect(validateMessage(withCharset('2.6', '8859/15'))).toEqual([]);
  });

  it('a visit class IMP: not in table 0004 and longer than PV1-2 allows', () => {
    expect(found(validateMessage(message(msh('2.5'), EVN, PID_25, 'PV1|1|IMP')))).toEqual(['PV1-2 length', 'PV1-2 table']);
  });

  it('a coded CE without a coding system is looked up in its field\'s table (PID-16, table 0002)', () => {
    const pid16 = (ce: string) => ['PID', '1', '', 'P1^^^A&1.2&ISO^PI', '', 'Doe', ...Array<string>(10).fill(''), ce].join('|');
    expect(validateMessage(a01('2.5', pid16('M')))).toEqual([]);
    expect(found(validateMessage(a01('2.5', pid16('Q'))))).toEqual(['PID-16.1 table']);
    expect(found(validateMessage(a01('2.5', pid16('Q^^HL70002'))))).toEqual(['PID-16.1 table']);
    expect(validateMessage(a01('2.5', pid16('Q^Local code^99LOC')))).toEqual([]);
  });

  it('an unknown identifier type XYZ (table 0203)', () => {
    expect(found(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^XYZ||Doe')))).toEqual(['PID-3.5 table']);
  });

  it('tableCodes overlays the dictionary per version', () => {
    expect(tableCodes(201, '2.5.1')?.has('PRS')).toBe(false);
    expect(tableCodes(201, '2.6')?.has('PRS')).toBe(true);
    expect(tableCodes(200, '2.3.1')?.has('N')).toBe(false);
    expect(tableCodes(200, '2.5')?.has('K')).toBe(false);
    expect(tableCodes(211, '2.4')?.has('UNICODE UTF-8')).toBe(false);
    expect(tableCodes(211, '2.5')?.has('UNICODE UTF-8')).toBe(true);
    expect(tableCodes(289, '2.5')).toBeUndefined(); // user-defined, not in the dictionary
  });
});

describe('character set (MSH-18)', () => {
  const named = (v: string, charset: string, family: string) =>
    message(msh(v, undefined, charset === '' ? '' : `||||||${charset}`), EVN, `PID|1||P1^^^A&1.2&ISO^PI||${family}`, PV1);

  it('non-ASCII letters need MSH-18 (ASCII is the default)', () => {
    expect(found(validateMessage(named('2.5', '', 'Müller')))).toEqual(['MSH-18 charset']);
    expect(validateMessage(named('2.5', '', 'Muller'))).toEqual([]);
    expect(found(validateMessage(named('2.5', 'ASCII', 'Müller')))).toEqual(['MSH-18 charset']);
  });

  it('8859/1 holds Latin-1 letters, not Ł or CJK; UNICODE UTF-8 holds everything', () => {
    expect(validateMessage(named('2.5', '8859/1', 'Ødegård-Müller'))).toEqual([]);
    expect(found(validateMessage(named('2.5', '8859/1', 'Łukasiewicz')))).toEqual(['MSH-18 charset']);
    expect(found(validateMessage(named('2.5', '8859/1', '山田')))).toEqual(['MSH-18 charset']);
    expect(validateMessage(named('2.5', 'UNICODE UTF-8', '山田 😀'))).toEqual([]);
  });

  it('under 8859/1, Windows-1252 characters (0x80-0x9F there) are named as such', () => {
    const [typographic] = validateMessage(named('2.5', '8859/1', 'O’Brien „Anne“'));
    expect(typographic?.detail).toBe('3 Windows-1252 character(s) (0x80-0x9F there) outside 8859/1, the first in segment 3');
    const [mixed] = validateMessage(named('2.5', '8859/1', 'O’Łukasiewicz'));
    expect(mixed?.detail).toBe('2 character(s) outside 8859/1, the first in segment 3');
  });

  it('the detail counts the characters and names the segment, not the value', () => {
    const [error] = validateMessage(named('2.5', '', 'Zoë Ødegård'));
    expect(error?.detail).toBe('3 character(s) outside ASCII (MSH-18 empty), the first in segment 3');
  });
});

describe('version and delimiters', () => {
  it('an unknown MSH-12', () => {
    expect(found(validateMessage(a01('9.9', PID_25)))).toEqual(['MSH-12 version']);
  });

  it('non-default encoding characters', () => {
    const text = message(`MSH|^~\\#|APP|FAC|||${TIME}||ADT^A01^ADT_A01|C1|P|2.5`, EVN, PID_25, PV1);
    expect(found(validateMessage(text))).toEqual(['MSH-2 version']);
  });
});

