import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAcceptCode, isErrorCode, isRejectCode, parseAck } from '../../../src/hl7/ack.js';
import { buildAck, readHeader } from '../../../src/hl7/build-ack.js';

/** Public sample messages (public HL7 samples, copied into the test), CR-separated as on the wire. */
const REFERENCE_DIR = '/work/shared/reference';
const referenceMessages = readdirSync(REFERENCE_DIR)
  .filter((name) => name.endsWith('.hl7'))
  .sort()
  .map((name) => ({ name, text: readFileSync(join(REFERENCE_DIR, name), 'utf8') }));

const segments = (...lines: string[]) => lines.join('\r') + '\r';

function expectOk(message: string) {
  const result = parseAck(message);
  if (!result.ok) throw new Error(`expected an ACK, got: ${result.reason}`);
  return result.ack;
}

function expectError(message: string): string {
  const result = parseAck(message);
  if (result.ok) throw new Error(`expected a parse error, got ${JSON.stringify(result.ack)}`);
  return result.reason;
}

describe('parseAck', () => {
  it('finds MSA and ERR by name only: a separator inside the name, CRLF, LF and empty lines', () => {
    // `S` as field separator: `MSASAA` is segment `M` (field 1 `A`...), not an MSA.
    expect(expectError('MSHS^~\\&SASB\rMSASAASC\r')).toBe('reply has no MSA segment');
    const ack = expectOk('MSH|^~\\&|A\n\rPID|1\r\nMSAX|AA\r\r\nMSA|AE|Y\nERR|||207|E||||why\n');
    expect(ack).toEqual({ messageType: '', ackCode: 'AE', controlId: 'Y', errorCode: '207', severity: 'E', text: 'why' });
    expect(expectError('MSH|^~\\&|A\rMSA')).toBe('reply has an empty MSA-1');
  });

  it('reads a plain 2.5 AA', () => {
    const ack = expectOk(segments('MSH|^~\\&|PIX_MGR|REGION_HIE|ACME_EHR|ACME_HOSP|20260315143023+0100||ACK^A01^ACK|A1|P|2.5', 'MSA|AA|K7Q2M9X4TB1C8D3E5F6G'));
    expect(ack).toEqual({ messageType: 'ACK', ackCode: 'AA', controlId: 'K7Q2M9X4TB1C8D3E5F6G' });
  });

  it('reads a 2.5 AE with ERR-3 (table 0357 code), ERR-4 severity and ERR-8 text, preferring ERR-8 over MSA-3', () => {
    const ack = expectOk(
      segments(
        'MSH|^~\\&|PIX_MGR|REGION_HIE|ACME_EHR|ACME_HOSP|20260315143023+0100||ACK^A01^ACK|A2|P|2.5',
        'MSA|AE|K7Q2M9X4TB1C8D3E5F6G|short text',
        'ERR||PID^1^3^1|204^Unknown key identifier^HL70357|E||||Patient ID not known',
      ),
    );
    expect(ack).toEqual({
      messageType: 'ACK',
      ackCode: 'AE',
      controlId: 'K7Q2M9X4TB1C8D3E5F6G',
      errorCode: '204',
      severity: 'E',
      text: 'Patient ID not known',
    });
  });

  it('falls back to MSA-3 for the text when ERR has no ERR-8', () => {
    const ack = expectOk(segments('MSH|^~\\&|R|F|S|F|20260315||ACK^A01^ACK|A3|P|2.5', 'MSA|AR|CTL1|Unsupported trigger', 'ERR|||200^Unsupported message type^HL70357|E'));
    expect(ack).toMatchObject({ ackCode: 'AR', errorCode: '200', severity: 'E', text: 'Unsupported trigger' });
  });

  it('reads the 2.3.1 ERR-1 layout (ELD: segment^sequence^field^code as CE subcomponents)', () => {
    const ack = expectOk(
      segments('MSH|^~\\&|PIX_MGR|HIE|EHR|HOSP|20100716125746||ACK^A01|B1|P|2.3.1', 'MSA|AE|371601|Unknown domain', 'ERR|PID^1^3^204&Unknown key identifier&HL70357'),
    );
    expect(ack).toEqual({ messageType: 'ACK', ackCode: 'AE', controlId: '371601', errorCode: '204', text: 'Unknown domain' });
    expect(ack.severity).toBeUndefined();
  });

  it('reads the first ERR-1 repetition when 2.3.1 ERR-1 repeats', () => {
    const ack = expectOk(segments('MSH|^~\\&|R|F|S|F|2010||ACK|B2|P|2.3.1', 'MSA|AR|X9', 'ERR|PID^1^3^101&Required field missing&HL70357~PID^1^5^102&Data type error&HL70357'));
    expect(ack.errorCode).toBe('101');
  });

  it('reads MSA-3 text when there is no ERR segment', () => {
    const ack = expectOk(segments('MSH|^~\\&|R|F|S|F|2026||ACK^A08^ACK|C1|P|2.5', 'MSA|AA|CTL2|Message accepted'));
    expect(ack.text).toBe('Message accepted');
    expect(ack.errorCode).toBeUndefined();
  });

  it('leaves escape sequences in the text as they are on the wire', () => {
    const ack = expectOk(segments('MSH|^~\\&|R|F|S|F|2026||ACK|C2|P|2.5', 'MSA|AE|CTL3|bad \\F\\ value'));
    expect(ack.text).toBe('bad \\F\\ value');
  });

  it('honours the separators announced in MSH-1 and MSH-2 (MSH#$~\\&)', () => {
    const ack = expectOk(segments('MSH#$~\\&#RCV#FAC#SND#FAC#20260315##ACK$A01$ACK#D1#P#2.5', 'MSA#AE#CTL|WITH^PIPE#text', 'ERR###207$Application internal error$HL70357#W####ERR-8 text'));
    // `|` and `^` are plain data with these separators.
    expect(ack).toEqual({ messageType: 'ACK', ackCode: 'AE', controlId: 'CTL|WITH^PIPE', errorCode: '207', severity: 'W', text: 'ERR-8 text' });
  });

  it('takes the subcomponent separator from MSH-2 for the 2.3.1 ERR-1 code', () => {
    const ack = expectOk(segments('MSH|^~\\#|R|F|S|F|2010||ACK|E1|P|2.3.1', 'MSA|AE|CTL4', 'ERR|PID^1^3^103#Table value not found#HL70357'));
    expect(ack.errorCode).toBe('103');
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('accepts %s segment ends', (_name, end) => {
    const message = ['MSH|^~\\&|R|F|S|F|2026||ACK^A01^ACK|F1|P|2.5', 'MSA|CE|CTL5|x', 'ERR|||207^Application internal error^HL70357|E'].join(end) + end;
    expect(expectOk(message)).toEqual({ messageType: 'ACK', ackCode: 'CE', controlId: 'CTL5', errorCode: '207', severity: 'E', text: 'x' });
  });

  it('reads an ACK without a trailing segment terminator', () => {
    expect(expectOk('MSH|^~\\&|R|F|S|F|2026||ACK|G1|P|2.5\rMSA|CA|CTL6')).toEqual({ messageType: 'ACK', ackCode: 'CA', controlId: 'CTL6' });
  });

  it('gives an empty control id when MSA-2 is missing (the transport then reports a mismatch)', () => {
    expect(expectOk(segments('MSH|^~\\&|R|F|S|F|2026||ACK|G2|P|2.5', 'MSA|AA')).controlId).toBe('');
  });

  it('rejects a reply without an MSA segment', () => {
    expect(expectError(segments('MSH|^~\\&|R|F|S|F|2026||ACK^A01^ACK|H1|P|2.5'))).toMatch(/no MSA segment/);
  });

  it('does not take another segment whose name starts with MSA for the MSA', () => {
    expect(expectError(segments('MSH|^~\\&|R|F|S|F|2026||ACK|H2|P|2.5', 'MSAX|AA|CTL'))).toMatch(/no MSA segment/);
  });

  it.each([
    ['empty MSA-1', 'MSA||CTL7'],
    ['MSA with no fields', 'MSA'],
  ])('rejects a reply with %s', (_name, msa) => {
    expect(expectError(segments('MSH|^~\\&|R|F|S|F|2026||ACK|H3|P|2.5', msa))).toMatch(/empty MSA-1/);
  });

  it.each([
    ['MSA first', 'MSA|AA|CTL8\rMSH|^~\\&|R|F\r'],
    ['lower-case msh', 'msh|^~\\&|R|F|S|F|2026||ACK|I1|P|2.5\rMSA|AA|X\r'],
    ['leading garbage', 'xMSH|^~\\&|R|F|S|F|2026||ACK|I1|P|2.5\rMSA|AA|X\r'],
    ['too short to hold MSH-2', 'MSH|^~\r'],
    ['empty', ''],
    ['HTTP', 'HTTP/1.1 400 Bad Request\r\n\r\n'],
  ])('rejects a reply that does not start with MSH (%s)', (_name, message) => {
    expect(expectError(message)).toMatch(/does not start with an MSH segment/);
  });

  it('reports MSH-9.1 as it is, so the transport can refuse a non-ACK that carries an MSA', () => {
    const ack = expectOk(segments('MSH|^~\\&|R|F|S|F|2026||ADT^A01^ADT_A01|J1|P|2.5', 'MSA|AA|CTL9'));
    expect(ack.messageType).toBe('ADT');
  });

  it('reads the ACK\'s own MSH-15 (an application ACK asking for a commit ACK back)', () => {
    const asking = expectOk(segments('MSH|^~\\&|R|F|S|F|2026||ACK^A01^ACK|J2|P|2.5|||AL|NE', 'MSA|AE|CTL9'));
    expect(asking).toEqual({ messageType: 'ACK', ackCode: 'AE', controlId: 'CTL9', acceptAckType: 'AL' });
    expect(expectOk(segments('MSH|^~\\&|R|F|S|F|2026||ACK^A01^ACK|J3|P|2.5', 'MSA|AA|CTL9')).acceptAckType).toBeUndefined();
  });

  it('classifies MSA-1 codes in both acknowledgment modes', () => {
    expect(['AA', 'CA'].every(isAcceptCode)).toBe(true);
    expect(['AE', 'CE'].every(isErrorCode)).toBe(true);
    expect(['AR', 'CR'].every(isRejectCode)).toBe(true);
    for (const code of ['AA', 'AE', 'AR', 'CA', 'CE', 'CR', 'ZZ', '']) {
      const classes = [isAcceptCode(code), isErrorCode(code), isRejectCode(code)].filter(Boolean).length;
      expect(classes, code).toBe(['ZZ', ''].includes(code) ? 0 : 1);
    }
  });
});

describe('public sample messages (shared/reference)', () => {
  it('has sample messages to read', () => {
    expect(referenceMessages.map((message) => message.name)).toEqual(['ipf-pixsource-A01.hl7', 'ipf-pixsource-A40.hl7']);
  });

  it.each(referenceMessages)('$name is not an ACK: parseAck reports the missing MSA', ({ text }) => {
    expect(expectError(text)).toMatch(/no MSA segment/);
  });

  it.each(referenceMessages)('$name: its MSH-9.1 (ADT) is read through the real separators and segments', ({ text }) => {
    // With an MSA added the parser reads the rest: MSH-9.1 is ADT, so the transport refuses it.
    const ack = expectOk(`${text}MSA|AA|X\r`);
    expect(ack.messageType).toBe('ADT');
    expect(ack.ackCode).toBe('AA');
  });

  it('reads the MSH of the samples with readHeader', () => {
    const [a01, a40] = referenceMessages.map((message) => readHeader(message.text)!);
    expect(a01).toEqual({
      sendingApplication: 'ICW_MPI',
      sendingFacility: 'ICW',
      receivingApplication: 'PIXV3FeedTransformer',
      receivingFacility: 'PIXV3FeedTransformer',
      trigger: 'A01',
      controlId: '371601',
      processingId: 'P^T',
      version: '2.3.1',
    });
    expect(a40).toMatchObject({ trigger: 'A40', controlId: '00000000000396814', processingId: 'P', version: '2.3.1' });
  });

  it.each(referenceMessages)('$name: buildAck(readHeader(message)) parses back with MSA-2 = MSH-10', ({ text }) => {
    const header = readHeader(text)!;
    const ack = expectOk(buildAck(header, { code: 'AA', now: new Date('2026-03-15T13:30:22Z') }));
    expect(ack).toEqual({ messageType: 'ACK', ackCode: 'AA', controlId: header.controlId });
  });
});

describe('buildAck / readHeader round trip', () => {
  const message = segments(
    'MSH|^~\\&|ACME_EHR|ACME_HOSP|PIX_MGR|REGION_HIE|20260315143022+0100||ADT^A08^ADT_A01|K7Q2M9X4TB1C8D3E5F6G|P|2.5',
    'EVN||20260315143022+0100',
    'PID|1||PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI',
    'PV1|1|N',
  );
  const now = new Date('2026-03-15T13:30:23Z');

  it('reads MSH-3..12 of a message', () => {
    expect(readHeader(message)).toEqual({
      sendingApplication: 'ACME_EHR',
      sendingFacility: 'ACME_HOSP',
      receivingApplication: 'PIX_MGR',
      receivingFacility: 'REGION_HIE',
      trigger: 'A08',
      controlId: 'K7Q2M9X4TB1C8D3E5F6G',
      processingId: 'P',
      version: '2.5',
    });
  });

  it('reads only the MSH line, whatever the segment terminator', () => {
    expect(readHeader(message.replace(/\r/g, '\n'))?.version).toBe('2.5');
    expect(readHeader('MSH|^~\\&|A|B|C|D|2026||ADT^A01|X1|T|2.3.1')).toMatchObject({ trigger: 'A01', controlId: 'X1', processingId: 'T', version: '2.3.1' });
    expect(readHeader('PID|1')).toBeUndefined();
    expect(readHeader('MSH|^~')).toBeUndefined();
  });

  it('builds an AA that swaps sender and receiver and echoes MSH-10 in MSA-2', () => {
    const ack = buildAck(readHeader(message)!, { code: 'AA', now });
    const [msh, msa, extra] = ack.split('\r');
    const fields = msh!.split('|');
    expect(fields.slice(2, 6)).toEqual(['PIX_MGR', 'REGION_HIE', 'ACME_EHR', 'ACME_HOSP']);
    expect(fields[6]).toMatch(/^\d{14}[+-]\d{4}$/);
    expect(fields[8]).toBe('ACK^A08^ACK');
    // MSH-10 of the ACK itself: ACK + the acknowledged MSH-10, cut to 20 characters.
    expect(fields[9]).toBe('ACKK7Q2M9X4TB1C8D3E5');
    expect(fields.slice(10)).toEqual(['P', '2.5']);
    expect(msa).toBe('MSA|AA|K7Q2M9X4TB1C8D3E5F6G');
    expect(extra).toBe('');
    expect(ack.endsWith('\r')).toBe(true);
    expect(expectOk(ack)).toEqual({ messageType: 'ACK', ackCode: 'AA', controlId: 'K7Q2M9X4TB1C8D3E5F6G' });
  });

  it.each(['AE', 'AR', 'CE', 'CR'] as const)('builds a %s with an ERR segment that parseAck reads back', (code) => {
    const ack = buildAck(readHeader(message)!, { code, now, errorCode: '204', text: 'unknown | patient' });
    expect(expectOk(ack)).toEqual({
      messageType: 'ACK',
      ackCode: code,
      controlId: 'K7Q2M9X4TB1C8D3E5F6G',
      errorCode: '204',
      severity: 'E',
      // Escaped on the way out, left escaped on the way in.
      text: 'unknown \\F\\ patient',
    });
  });

  it('defaults ERR-3 to 207 (application internal error) and uses the given ACK control id', () => {
    const ack = buildAck(readHeader(message)!, { code: 'AR', now, controlId: 'MYACK1' });
    expect(ack.split('\r')[0]!.split('|')[9]).toBe('MYACK1');
    expect(expectOk(ack)).toMatchObject({ ackCode: 'AR', errorCode: '207', controlId: 'K7Q2M9X4TB1C8D3E5F6G' });
  });

  it('round-trips a 2.3.1 message with a short control id', () => {
    const header = readHeader('MSH|^~\\&|S|SF|R|RF|20100716||ADT^A40^ADT_A39|42|P|2.3.1\rEVN|A40\r')!;
    const ack = buildAck(header, { code: 'CA', now });
    expect(ack.split('\r')[0]!.split('|')[11]).toBe('2.3.1');
    expect(expectOk(ack)).toEqual({ messageType: 'ACK', ackCode: 'CA', controlId: '42' });
  });
});
