/**
 * Reads an HL7 v2 acknowledgment (README "Delivery and outcomes"). Pure and tolerant of what real
 * receivers send: segments separated by CR (LF and CRLF accepted too), any field and
 * component separators announced in MSH-1/MSH-2, optional ERR in the 2.5 or 2.3.1 layout.
 *
 * The parser only reads; deciding whether the ACK answers the message that was sent
 * (MSA-2 against MSH-10) is the transport's job.
 */

export interface ParsedAck {
  /** MSH-9.1, `ACK` for a real acknowledgment. */
  messageType: string;
  /** MSA-1: AA/AE/AR (original mode) or CA/CE/CR (enhanced mode). */
  ackCode: string;
  /** MSA-2: the MSH-10 of the message being acknowledged. */
  controlId: string;
  /**
   * MSH-15 of the ACK itself, when valued: AL or SU means the receiver wants a commit ACK
   * back for it (an application ACK in enhanced mode is a message of its own).
   */
  acceptAckType?: string;
  /** ERR-3.1 (2.5) or ERR-1.4.1 (2.3.1): an HL7 table 0357 error code, when given. */
  errorCode?: string;
  /** ERR-4 (2.5): severity E/W/I, when given. */
  severity?: string;
  /**
   * ERR-8, else MSA-3: free text as on the wire (HL7 escapes such as `\F\` are left as
   * they are). Receivers often echo patient data here, so it is only ever logged when the
   * operator turned `log.phi` on.
   */
  text?: string;
}

export type AckParseResult = { ok: true; ack: ParsedAck } | { ok: false; reason: string };

/**
 * Where the segment starting at `start` ends: at the next CR or LF (a CRLF ends it too, as
 * one terminator: the caller steps over both), or the end of the text.
 */
function lineEnd(text: string, start: number): number {
  const cr = text.indexOf('\r', start);
  const lf = text.indexOf('\n', start);
  if (cr === -1) return lf === -1 ? text.length : lf;
  return lf === -1 || cr < lf ? cr : lf;
}

/** `MSA` or `ERR` when the segment text[start, end) is that segment (its first field), else ''. */
function segmentName(text: string, start: number, end: number, fieldSep: string): string {
  const nameEnd = start + 3;
  if (nameEnd > end || (nameEnd < end && text[nameEnd] !== fieldSep)) return '';
  const name = text.slice(start, nameEnd);
  return (name === 'MSA' || name === 'ERR') && !name.includes(fieldSep) ? name : '';
}

export function parseAck(message: string): AckParseResult {
  if (!message.startsWith('MSH') || message.length < 8) {
    return { ok: false, reason: 'reply does not start with an MSH segment' };
  }
  const fieldSep = message[3]!;
  let end = lineEnd(message, 0);
  const msh = message.slice(0, end).split(fieldSep);
  // After splitting, index n holds MSH-(n+1): MSH-1 is the separator itself and MSH-2 the
  // encoding characters, component ^ repetition ~ escape \ subcomponent & by default.
  const encoding = msh[1] ?? '';
  const componentSep = encoding[0] ?? '^';
  const subcomponentSep = encoding[3] ?? '&';
  const messageType = firstComponent(msh[8], componentSep);
  let msa: string[] | undefined;
  let err: string[] | undefined;
  // Only MSA and ERR are read: other segments are not split into fields.
  while (end < message.length && (msa === undefined || err === undefined)) {
    const start = end + (message.startsWith('\r\n', end) ? 2 : 1);
    end = lineEnd(message, start);
    const name = segmentName(message, start, end, fieldSep);
    if (msa === undefined && name === 'MSA') msa = message.slice(start, end).split(fieldSep);
    else if (err === undefined && name === 'ERR') err = message.slice(start, end).split(fieldSep);
  }
  if (msa === undefined) return { ok: false, reason: 'reply has no MSA segment' };
  const ackCode = msa[1] ?? '';
  const controlId = msa[2] ?? '';
  if (ackCode === '') return { ok: false, reason: 'reply has an empty MSA-1' };

  const ack: ParsedAck = { messageType, ackCode, controlId };
  const acceptAckType = nonEmpty(msh[14]);
  if (acceptAckType) ack.acceptAckType = acceptAckType;
  const text = nonEmpty(msa[3]);
  if (err !== undefined) {
    // 2.5: ERR-3 CWE error code, ERR-4 severity, ERR-8 user message.
    // 2.3.1: ERR-1 ELD `segment^sequence^field^code(CE)`.
    const code = firstComponent(err[3], componentSep) || firstComponent(component(err[1], componentSep, 3), subcomponentSep);
    if (code) ack.errorCode = code;
    const severity = nonEmpty(err[4]);
    if (severity) ack.severity = severity;
    const errText = nonEmpty(err[8]);
    if (errText ?? text) ack.text = (errText ?? text)!;
  } else if (text) {
    ack.text = text;
  }
  return { ok: true, ack };
}

function firstComponent(field: string | undefined, sep: string): string {
  if (!field) return '';
  const at = field.indexOf(sep);
  return at === -1 ? field : field.slice(0, at);
}

function component(field: string | undefined, sep: string, index: number): string | undefined {
  return field?.split(sep)[index];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Accepted: AA (original mode) or CA (enhanced mode commit accept). */
export function isAcceptCode(code: string): boolean {
  return code === 'AA' || code === 'CA';
}
/** Application error: AE or CE. */
export function isErrorCode(code: string): boolean {
  return code === 'AE' || code === 'CE';
}
/** Application reject: AR or CR. */
export function isRejectCode(code: string): boolean {
  return code === 'AR' || code === 'CR';
}
