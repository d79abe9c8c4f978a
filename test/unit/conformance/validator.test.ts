import { describe, expect, it } from 'vitest';
import { assertValidHl7, withoutRepetitions } from '../../helpers/hl7-validator/index.js';
import { a01, EVN, found, message, msh, PID_231, PID_25, PV1, validateMessage } from './hand-written.js';

/**
 * Unit tests of the judge itself (test/helpers/hl7-validator): every rule is detected on
 * a hand-written message, and valid messages pass, so a green corpus means something.
 * Code tables and character sets: validator-codes.test.ts.
 */

describe('valid messages pass', () => {
  it.each(['2.5', '2.5.1', '2.6'])('A01 in %s', (version) => {
    expect(validateMessage(a01(version, PID_25))).toEqual([]);
  });

  it.each(['2.3.1', '2.4'])('A01 in %s', (version) => {
    expect(validateMessage(a01(version, PID_231))).toEqual([]);
  });

  it('A40 (ADT_A39, PATIENT group) in 2.5, with and without a final \\r', () => {
    const text = message(msh('2.5', 'ADT^A40^ADT_A39'), EVN, PID_25, 'MRG|OLD-1^^^ACME&1.2.3&ISO^PI||||||Doe^J^^^^^L');
    expect(validateMessage(text)).toEqual([]);
    expect(validateMessage(text.slice(0, -1))).toEqual([]);
  });

  it('A38 in 2.3.1 without DRG (the dictionary wrongly makes DRG required there; corrected)', () => {
    expect(validateMessage(message(msh('2.3.1', 'ADT^A38'), EVN, PID_231, 'PV1|1|P'))).toEqual([]);
  });

  it('escaped delimiters, non-ASCII letters, an emoji and the HL7 null', () => {
    const pid = 'PID|1||A\\F\\B\\S\\C^^^ACME&1.2.3&ISO^PI||M\\T\\ller-Ødegård^Zoë 😀^^^^^L||""|F';
    const text = message(msh('2.5', undefined, '||||||UNICODE UTF-8'), EVN, pid, PV1);
    expect(validateMessage(text)).toEqual([]);
  });

  it('the HL7 null "" values a required field and fits any length', () => {
    expect(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^PI||""||19840312|""'))).toEqual([]);
  });

  it('falls back to the event structure when MSH-9.3 is absent (ADT^A04 -> ADT_A04)', () => {
    expect(validateMessage(message(msh('2.5', 'ADT^A04'), EVN, PID_25, PV1))).toEqual([]);
  });
});

describe('structure', () => {
  it('a required segment missing', () => {
    expect(found(validateMessage(message(msh('2.5'), EVN, PID_25)))).toEqual(['PV1 structure']);
  });

  it('a segment out of order', () => {
    expect(found(validateMessage(message(msh('2.5'), EVN, PV1, PID_25)))).toContain('PID structure');
  });

  it('a segment beyond its maximum count', () => {
    expect(found(validateMessage(message(msh('2.5'), EVN, PID_25, PID_25, PV1)))).toContain('PID structure');
  });

  it('a segment the version does not define', () => {
    expect(found(validateMessage(a01('2.5', PID_25, 'QQQ|1')))).toEqual(['QQQ unknown-segment']);
  });

  it('Z-segments are local: allowed anywhere, their fields not judged, but no raw control characters', () => {
    expect(validateMessage(message(msh('2.5'), 'ZAB|x^y~z|anything long', EVN, PID_25, PV1, 'ZZ1|1'))).toEqual([]);
    expect(found(validateMessage(message(msh('2.5'), EVN, PID_25, PV1, 'ZAB|x\ty')))).toEqual(['ZAB control-char']);
    expect(found(validateMessage(message(msh('2.5'), EVN, 'ZAB|1', PV1)))).toEqual(['PID structure']);
  });

  it('a message structure the version does not define', () => {
    expect(found(validateMessage(message(msh('2.5', 'ADT^A01^ADT_A99'), EVN, PID_25, PV1)))).toContain('MSH-9 structure');
  });

  it('a message that does not start with MSH', () => {
    expect(found(validateMessage(message(EVN, PID_25)))).toEqual(['MSH structure']);
  });

  it('an MLLP-framed text, or segments separated by \\n, are refused with a hint', () => {
    const valid = a01('2.5', PID_25);
    expect(validateMessage(`\u000b${valid}\u001c\r`)[0]?.detail).toMatch(/MLLP-framed/);
    expect(validateMessage(valid.replaceAll('\r', '\n'))[0]?.detail).toMatch(/separated by \\n/);
  });
});

describe('required fields and components', () => {
  it('PID-5 empty', () => {
    expect(found(validateMessage(a01('2.5', 'PID|1||PAT-1^^^ACME&1.2.3&ISO^PI||||19840312|F')))).toEqual(['PID-5 required']);
  });

  it('a required component of a valued field (2.5 CX-1) empty', () => {
    expect(found(validateMessage(a01('2.5', 'PID|1||^^^ACME&1.2.3&ISO^PI||Doe')))).toEqual(['PID-3.1 required']);
  });

  it('MSH-7 is required from 2.5 on, optional in 2.3.1', () => {
    const noTime = (v: string) => message(`MSH|^~\\&|APP|FAC|||||ADT^A01|C1|P|${v}`, EVN, v === '2.5' ? PID_25 : PID_231, PV1);
    expect(found(validateMessage(noTime('2.5')))).toEqual(['MSH-7 required']);
    expect(validateMessage(noTime('2.3.1'))).toEqual([]);
  });
});

describe('lengths (unescaped characters)', () => {
  it('2.3.1 PID-3 (CX, 20) too long; per repetition', () => {
    const pid = 'PID|1||SHORT~PAT-000123^^^ACME_MPI^PI||Doe';
    expect(found(validateMessage(a01('2.3.1', pid)))).toEqual(['PID-3[2] length']);
  });

  it('2.5 component length: family name (FN-1, 50) counted with escapes as one character each', () => {
    const family = (n: number) => `PID|1||P1^^^A&1.2&ISO^PI||${'a'.repeat(n)}\\F\\^Jane`;
    expect(validateMessage(a01('2.5', family(49)))).toEqual([]);
    expect(found(validateMessage(a01('2.5', family(50))))).toEqual(['PID-5.1.1 length']);
  });

  it('hex escapes count one per byte, emoji one per character', () => {
    const named = (given: string) => message(msh('2.5', undefined, '||||||UNICODE UTF-8'), EVN, `PID|1||P1^^^A&1.2&ISO^PI||Doe^${given}`, PV1);
    expect(validateMessage(named(`${'g'.repeat(28)}\\X0D0A\\`))).toEqual([]);
    expect(validateMessage(named('😀'.repeat(30)))).toEqual([]);
    expect(found(validateMessage(named('😀'.repeat(31))))).toEqual(['PID-5.2 length']);
  });

  it('the detail gives lengths, never the value', () => {
    const [error] = validateMessage(a01('2.3.1', 'PID|1||SECRET-IDENTIFIER-1234567890||Doe'));
    expect(error?.detail).toBe('28 characters, at most 20 (CX)');
  });
});

describe('data types of primitive values', () => {
  it('TS/DTM: hour without minutes is fine in 2.5, not in 2.3.1', () => {
    const evn = 'EVN||2026031514';
    expect(validateMessage(message(msh('2.5'), evn, PID_25, PV1))).toEqual([]);
    expect(found(validateMessage(message(msh('2.3.1'), evn, PID_231, PV1)))).toEqual(['EVN-2.1 datatype']);
  });

  it('TS out of range, DT month, SI and NM', () => {
    expect(found(validateMessage(message(msh('2.5'), 'EVN||20261399', PID_25, PV1)))).toEqual(['EVN-2.1 datatype']);
    expect(found(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^PI||Doe||19841312')))).toEqual(['PID-7.1 datatype']);
    expect(found(validateMessage(a01('2.5', 'PID|x||P1^^^A&1.2&ISO^PI||Doe')))).toEqual(['PID-1 datatype']);
    const pid25 = ['PID', '1', '', 'P1^^^A&1.2&ISO^PI', '', 'Doe', ...Array<string>(18).fill(''), 'Y', 'x'].join('|');
    expect(found(validateMessage(a01('2.5', pid25)))).toEqual(['PID-25 datatype']);
  });

  it('raw control characters (TAB, BEL, NUL, ESC, LF) in a value', () => {
    for (const c of ['\t', '\u0007', '\u0000', '\u001b', '\n']) {
      expect(found(validateMessage(a01('2.5', `PID|1||P1^^^A&1.2&ISO^PI||Do${c}e`)))).toEqual(['PID-5.1.1 control-char']);
    }
  });

  it('malformed escape sequences', () => {
    expect(found(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^PI||Do\\Q\\e')))).toEqual(['PID-5.1.1 escape']);
    expect(found(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^PI||Doe\\')))).toEqual(['PID-5.1.1 escape']);
  });
});

describe('components, repetitions, fields', () => {
  it('components beyond the data type: a primitive with a component, XPN with 15 in 2.5', () => {
    expect(found(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^PI||Doe||19840312|F^X')))).toEqual(['PID-8 length', 'PID-8 components']);
    const xpn15 = `Doe${'^'.repeat(14)}X`;
    expect(found(validateMessage(a01('2.5', `PID|1||P1^^^A&1.2&ISO^PI||${xpn15}`)))).toEqual(['PID-5 components']);
  });

  it('subcomponents beyond the component type (HD has 3)', () => {
    expect(found(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO&X^PI||Doe')))).toEqual(['PID-3.4 components']);
  });

  it('a field beyond the segment (2.3.1 MRG has 7)', () => {
    const text = message(msh('2.3.1', 'ADT^A40'), EVN, PID_231, 'MRG|OLD^^^ACME^PI|||||||X');
    expect(found(validateMessage(text))).toEqual(['MRG-8 components']);
  });

  it('a non-repeating field repeated', () => {
    expect(found(validateMessage(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^PI||Doe||19840312|F~M')))).toEqual(['PID-8 repetition']);
  });
});

describe('exceptions and assertValidHl7', () => {
  const longId = a01('2.3.1', 'PID|1||X~PAT-000123^^^ACME_MPI^PI||Doe');
  const exception = { path: 'PID-3', rule: 'length' as const, versions: ['2.3.1'], reason: 'IHE ITI-8 allows longer CX' };

  it('an exception removes matching errors only (rule, version, path incl. repetitions and sub-paths)', () => {
    expect(found(validateMessage(longId))).toEqual(['PID-3[2] length']);
    expect(validateMessage(longId, { exceptions: [exception] })).toEqual([]);
    expect(found(validateMessage(longId, { exceptions: [{ ...exception, versions: ['2.5'] }] }))).toEqual(['PID-3[2] length']);
    expect(found(validateMessage(longId, { exceptions: [{ ...exception, rule: 'table' }] }))).toEqual(['PID-3[2] length']);
    expect(withoutRepetitions('PID-3[2].4.1')).toBe('PID-3.4.1');
  });

  it('an exception with a detail pattern removes only errors whose detail matches', () => {
    expect(validateMessage(longId, { exceptions: [{ ...exception, detail: /at most 20/ }] })).toEqual([]);
    expect(found(validateMessage(longId, { exceptions: [{ ...exception, detail: /at most 250/ }] }))).toEqual(['PID-3[2] length']);
  });

  it('assertValidHl7 throws with every error listed, and passes a valid message', () => {
    expect(() => assertValidHl7(a01('2.5', PID_25))).not.toThrow();
    expect(() => assertValidHl7(a01('2.5', 'PID|1||P1^^^A&1.2&ISO^XYZ'))).toThrow(
      /2 error\(s\)\):\nPID-3\.5 table: .*\nPID-5 required: /,
    );
  });
});
