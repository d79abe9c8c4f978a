import { escapeHl7 } from './escape.js';
import { formatHl7Timestamp } from './timestamp.js';

/** The MSH fields of a received message that an ACK echoes or swaps. */
export interface MessageHeader {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-9.2, the trigger event (A01 ...). */
  trigger: string;
  controlId: string;
  processingId: string;
  version: string;
}

/** Reads MSH-3..12 of a message; fields stay as on the wire (still escaped). */
export function readHeader(message: string): MessageHeader | undefined {
  if (!message.startsWith('MSH') || message.length < 8) return undefined;
  const fieldSep = message[3]!;
  const componentSep = message[4]!;
  const end = message.search(/[\r\n]/);
  const fields = (end === -1 ? message : message.slice(0, end)).split(fieldSep);
  // fields[n] is MSH-(n+1).
  return {
    sendingApplication: fields[2] ?? '',
    sendingFacility: fields[3] ?? '',
    receivingApplication: fields[4] ?? '',
    receivingFacility: fields[5] ?? '',
    trigger: (fields[8] ?? '').split(componentSep)[1] ?? '',
    controlId: fields[9] ?? '',
    processingId: fields[10] ?? 'P',
    version: fields[11] ?? '2.5',
  };
}

export interface AckOptions {
  code: 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';
  now?: Date;
  /** Control id of the ACK itself (MSH-10); derived from the acknowledged one when unset. */
  controlId?: string;
  /** MSA-3 / ERR text for AE/AR. */
  text?: string;
  /** ERR-3 code from table 0357 for AE/AR (e.g. 207 application internal error). */
  errorCode?: string;
}

/**
 * An original-mode acknowledgment for `header`: sender and receiver swapped, MSA-2 = the
 * received MSH-10; with an ERR segment for AE/AR in the 2.5 layout.
 */
export function buildAck(header: MessageHeader, options: AckOptions): string {
  const now = options.now ?? new Date();
  const timestamp = formatHl7Timestamp(now, -now.getTimezoneOffset());
  const segments = [
    [
      'MSH',
      '^~\\&',
      header.receivingApplication,
      header.receivingFacility,
      header.sendingApplication,
      header.sendingFacility,
      timestamp,
      '',
      `ACK^${header.trigger}^ACK`,
      options.controlId ?? `ACK${header.controlId}`.slice(0, 20),
      header.processingId,
      header.version,
    ].join('|'),
    ['MSA', options.code, header.controlId, options.text ? escapeHl7(options.text) : ''].join('|').replace(/\|+$/, ''),
  ];
  if (options.code !== 'AA' && options.code !== 'CA') {
    segments.push(['ERR', '', '', `${options.errorCode ?? '207'}^Application internal error^HL70357`, 'E', '', '', '', options.text ? escapeHl7(options.text) : ''].join('|').replace(/\|+$/, ''));
  }
  return `${segments.join('\r')}\r`;
}
