import { describe, expect, it } from 'vitest';
import { conformMessage, type ConformOptions } from '../../../src/hl7/conform/conform-message.js';
import { truncateEncoded } from '../../../src/hl7/conform/truncate.js';
import { canEncode, decodeText, encodeText } from '../../../src/hl7/charset.js';

const MSH = 'MSH|^~\\&|APP|FAC|||20260315143022+0100||ADT^A01^ADT_A01|K7Q2M9X4TB1C8D3E5F6G|P|';
const options = (overrides: Partial<ConformOptions> = {}): ConformOptions => ({
  version: '2.5',
  charset: 'UTF-8',
  unrepresentable: 'replace',
  lengths: 'truncate',
  ...overrides,
});
const message = (version: string, ...segments: string[]): string => `${MSH}${version}\r${segments.join('\r')}\r`;
const field = (text: string, segmentName: string, n: number): string =>
  text.split('\r').find((s) => s.startsWith(`${segmentName}|`))?.split('|')[n] ?? '';

describe('truncateEncoded', () => {
  it('leaves a value within the limit alone (the same string)', () => {
    const value = 'Smith';
    expect(truncateEncoded(value, 5)).toBe(value);
  });

  it('cuts at the limit, never inside an escape sequence, never leaving a separator at the end', () => {
    expect(truncateEncoded('abcdef', 4)).toBe('abcd');
    expect(truncateEncoded('ab\\T\\cd', 4)).toBe('ab');
    expect(truncateEncoded('ab\\T\\cd', 5)).toBe('ab\\T\\');
    expect(truncateEncoded('ab^cd', 3)).toBe('ab');
    expect(truncateEncoded('a&&&&b', 4)).toBe('a');
  });

  it('never splits a surrogate pair', () => {
    expect(truncateEncoded('ab😀c', 3)).toBe('ab');
    expect(truncateEncoded('ab😀c', 4)).toBe('ab😀');
  });
});

describe('conformMessage: lengths', () => {
  it('returns a message that fits unchanged, with nothing cut', () => {
    const text = message('2.5', 'PID|1||X^^^A&1.2&ISO||Smith^Anne^^^^^L');
    expect(conformMessage(text, options())).toEqual({ ok: true, text, truncated: [] });
  });

  it('2.5: cuts each component to its data type maximum (XPN-2 given name: 30), then reports where', () => {
    const text = message('2.5', `PID|1||X^^^A&1.2&ISO||Smith^${'G'.repeat(40)}^^^^^L`);
    const result = conformMessage(text, options());
    expect(result.ok && field(result.text, 'PID', 5)).toBe(`Smith^${'G'.repeat(30)}^^^^^L`);
    expect(result.ok && result.truncated).toEqual(['PID-5.2']);
  });

  it('2.5: cuts the family name subcomponent (FN-1: 50) inside XPN-1', () => {
    const text = message('2.5', `PID|1||X^^^A&1.2&ISO||${'F'.repeat(60)}^Anne`);
    const result = conformMessage(text, options());
    expect(result.ok && field(result.text, 'PID', 5)).toBe(`${'F'.repeat(50)}^Anne`);
    expect(result.ok && result.truncated).toEqual(['PID-5.1.1']);
  });

  it('2.3.1: cuts each repetition to the field maximum (PID-5: 48), never inside an escape, keeping other repetitions', () => {
    const long = `${'F'.repeat(44)}^Ann\\T\\Bo^^^^^L`;
    const text = message('2.3.1', `PID|1||X^^^A&1.2&ISO||${long}~Short^^^^^^A`);
    const result = conformMessage(text, options({ version: '2.3.1' }));
    expect(result.ok && field(result.text, 'PID', 5)).toBe(`${'F'.repeat(44)}^Ann~Short^^^^^^A`);
    expect(result.ok && result.truncated).toEqual(['PID-5']);
  });

  it('never cuts an identifier (CX: PID-3, MRG-1, PV1-19), nor MSH-9', () => {
    const id = `${'9'.repeat(40)}^^^${'N'.repeat(30)}&1.2.3&ISO^MR`;
    const text = message('2.3.1', `PID|1||${id}||Smith`, `MRG|${id}`);
    const result = conformMessage(text, options({ version: '2.3.1' }));
    expect(result).toEqual({ ok: true, text, truncated: [] });
  });

  it('lengths: keep sends long values as they are', () => {
    const text = message('2.5', `PID|1||X^^^A&1.2&ISO||Smith^${'G'.repeat(40)}`);
    expect(conformMessage(text, options({ lengths: 'keep' }))).toEqual({ ok: true, text, truncated: [] });
  });

  it('cuts long address lines (2.5 XAD-1 SAD-1: 120; XAD-3 city: 50) and telecom numbers', () => {
    const pid = ['PID', '1', '', 'X^^^A&1.2&ISO', '', 'S', '', '', '', '', '', `${'L'.repeat(130)}^^${'C'.repeat(60)}^^^^H`, '', `^PRN^PH^^^^^^^^^${'1'.repeat(250)}`];
    const text = message('2.5', pid.join('|'));
    const result = conformMessage(text, options());
    if (!result.ok) throw new Error(result.reason);
    expect(field(result.text, 'PID', 11)).toBe(`${'L'.repeat(120)}^^${'C'.repeat(50)}^^^^H`);
    expect(field(result.text, 'PID', 13)).toBe(`^PRN^PH^^^^^^^^^${'1'.repeat(199)}`);
    expect(result.truncated).toEqual(['PID-11.1.1', 'PID-11.3', 'PID-13.12']);
  });
});

describe('conformMessage: charset', () => {
  const zoe = 'Ødegård-Müller^Zoë';

  it('UTF-8 and the Latin charsets keep Latin-1 letters', () => {
    const text = message('2.5', `PID|1||X^^^A&1.2&ISO||${zoe}`);
    for (const charset of ['UTF-8', 'ISO-8859-1', 'Windows-1252'] as const) {
      expect(conformMessage(text, options({ charset }))).toEqual({ ok: true, text, truncated: [] });
    }
  });

  it('replace: a character the charset cannot hold becomes ?, one per character (an emoji included)', () => {
    const text = message('2.5', 'PID|1||X^^^A&1.2&ISO||Łukasiewicz^Zoë 😀€');
    const ascii = conformMessage(text, options({ charset: 'ASCII' }));
    expect(ascii.ok && field(ascii.text, 'PID', 5)).toBe('?ukasiewicz^Zo? ??');
    const latin1 = conformMessage(text, options({ charset: 'ISO-8859-1' }));
    expect(latin1.ok && field(latin1.text, 'PID', 5)).toBe('?ukasiewicz^Zoë ??');
    const windows = conformMessage(text, options({ charset: 'Windows-1252' }));
    expect(windows.ok && field(windows.text, 'PID', 5)).toBe('?ukasiewicz^Zoë ?€');
  });

  it('reject: refuses the message naming the field and component, never the value', () => {
    const text = message('2.5', 'PID|1||X^^^A&1.2&ISO||Smith^Łukasz', 'PV1|1|N');
    const result = conformMessage(text, options({ charset: 'ISO-8859-1', unrepresentable: 'reject' }));
    expect(result).toEqual({ ok: false, reason: 'PID-5.2 has a character that ISO-8859-1 cannot represent (settings.Unrepresentable: reject)' });
    expect(JSON.stringify(result)).not.toContain('ukasz');
  });

  it('reject names a subcomponent and a plain field too', () => {
    const hd = conformMessage(message('2.5', 'PID|1||X^^^Ł&1.2&ISO'), options({ charset: 'ASCII', unrepresentable: 'reject' }));
    expect(!hd.ok && hd.reason).toMatch(/^PID-3\.4\.1 /);
    const plain = conformMessage(message('2.5', 'EVN||20260315143022+0100|||Łuser'), options({ charset: 'ASCII', unrepresentable: 'reject' }));
    expect(!plain.ok && plain.reason).toMatch(/^EVN-5 /);
  });

  it('UTF-8 replaces a lone surrogate (malformed UTF-16), which has no UTF-8 encoding', () => {
    const result = conformMessage(message('2.5', 'PID|1||X^^^A&1.2&ISO||A\ud800B'), options());
    expect(result.ok && field(result.text, 'PID', 5)).toBe('A?B');
  });
});

describe('charset encoding', () => {
  it('encodes and decodes the same text in each charset, byte-exact', () => {
    expect([...encodeText('Zoë Ødegård', 'ISO-8859-1')]).toEqual([0x5a, 0x6f, 0xeb, 0x20, 0xd8, 0x64, 0x65, 0x67, 0xe5, 0x72, 0x64]);
    expect([...encodeText('€“”', 'Windows-1252')]).toEqual([0x80, 0x93, 0x94]);
    expect([...encodeText('ë', 'UTF-8')]).toEqual([0xc3, 0xab]);
    for (const charset of ['UTF-8', 'ISO-8859-1', 'Windows-1252'] as const) {
      expect(decodeText(encodeText('Zoë Ødegård-Müller', charset), charset)).toBe('Zoë Ødegård-Müller');
    }
  });

  it('canEncode knows each charset', () => {
    expect(canEncode('€'.codePointAt(0)!, 'Windows-1252')).toBe(true);
    expect(canEncode('€'.codePointAt(0)!, 'ISO-8859-1')).toBe(false);
    expect(canEncode(0x85, 'Windows-1252')).toBe(false);
    expect(canEncode('é'.codePointAt(0)!, 'ASCII')).toBe(false);
    expect(canEncode('😀'.codePointAt(0)!, 'UTF-8')).toBe(true);
  });
});
