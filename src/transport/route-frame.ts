import { isAcceptCode, isErrorCode, isRejectCode, parseAck, type ParsedAck } from '../hl7/ack.js';
import type { Charset } from '../hl7/charset.js';
import { wantsCommitAck } from '../hl7/ack-mode.js';
import { buildAck, readHeader } from '../hl7/build-ack.js';
import type { ApplicationWaits, ConnectionLedger, IgnoredReason, LateAnswer } from './answers.js';
import { encodeFrame } from './mllp-framing.js';
import { safeToken } from './socket-errors.js';

/** A commit ACK to write back for a receiver's ACK that asked for one (its MSH-15 AL or SU). */
export interface OwnAck {
  controlId: string;
  frame: Buffer;
}

/** What one frame from the receiver is. Pure apart from noting answers in the ledger. */
export type FrameRoute = (
  | { kind: 'answer'; ack: ParsedAck }
  | { kind: 'application'; ack: ParsedAck }
  | { kind: 'late'; late: LateAnswer }
  | { kind: 'ignored'; reason: IgnoredReason; code: string }
  | { kind: 'invalid'; reason: string }
) & { replyWith?: OwnAck };

/**
 * Matches a frame to what it answers, in this order:
 *
 * 1. the message in flight (its MSA-2 equals the MSH-10 in flight): the answer;
 * 2. a message whose application ACK is awaited: that wait ends (unless it is a repeated CA);
 * 3. any other message written on this connection: an AE/AR/CE/CR after an AA or CA is a
 *    late answer, anything else (node-hl7-server's repeated AAs) is ignored; so is an
 *    answer to a commit ACK of ours;
 * 4. nothing written on the connection: `invalid` while a message is in flight (its send
 *    fails as invalid-ack), else ignored as unsolicited.
 *
 * A frame that is not a readable ACK is `invalid` while a message is in flight, else ignored.
 */
export function routeFrame(
  text: string,
  inFlightId: string | undefined,
  ledger: ConnectionLedger,
  waits: ApplicationWaits,
  charset: Charset = 'UTF-8',
): FrameRoute {
  const parsed = parseAck(text);
  if (!parsed.ok) {
    return inFlightId !== undefined ? { kind: 'invalid', reason: `reply is not a readable ACK: ${parsed.reason}` } : { kind: 'ignored', reason: 'unsolicited', code: '' };
  }
  const { ack } = parsed;
  const { controlId, ackCode } = ack;
  if (inFlightId !== undefined && controlId === inFlightId) {
    if (ack.messageType !== 'ACK') return { kind: 'invalid', reason: `reply is not an ACK (MSH-9.1 ${safeToken(ack.messageType)})` };
    ledger.answered(controlId, ackCode);
    return withReply({ kind: 'answer', ack }, text, ack, charset);
  }
  if (waits.has(controlId)) {
    // A repeated CA is no application ACK: the wait goes on.
    if (ackCode === 'CA') return withReply({ kind: 'ignored', reason: 'duplicate-ack', code: ackCode }, text, ack, charset);
    ledger.answered(controlId, ackCode);
    return withReply({ kind: 'application', ack }, text, ack, charset);
  }
  const entry = ledger.get(controlId);
  if (entry !== undefined) {
    if (entry.own) return { kind: 'ignored', reason: 'own-ack-answered', code: ackCode };
    if (entry.code !== undefined && isAcceptCode(entry.code) && (isErrorCode(ackCode) || isRejectCode(ackCode))) {
      const late: LateAnswer = { controlId, firstCode: entry.code, lateCode: ackCode };
      if (ack.errorCode) late.errorCode = ack.errorCode;
      if (entry.context) late.context = entry.context;
      ledger.answered(controlId, ackCode);
      return withReply({ kind: 'late', late }, text, ack, charset);
    }
    return withReply({ kind: 'ignored', reason: 'duplicate-ack', code: ackCode }, text, ack, charset);
  }
  if (inFlightId !== undefined) {
    if (ack.messageType !== 'ACK') return { kind: 'invalid', reason: `reply is not an ACK (MSH-9.1 ${safeToken(ack.messageType)})` };
    return { kind: 'invalid', reason: `ACK MSA-2 ${safeToken(controlId)} does not match MSH-10 ${inFlightId}` };
  }
  return { kind: 'ignored', reason: 'unsolicited', code: ackCode };
}

/** The commit ACK the receiver's frame asks for (its MSH-15), written in the subscription's charset. */
function withReply(route: FrameRoute, text: string, ack: ParsedAck, charset: Charset): FrameRoute {
  if (!wantsCommitAck(ack.acceptAckType)) return route;
  const header = readHeader(text);
  if (!header) return route;
  const controlId = `ACK${header.controlId}`.slice(0, 20);
  return { ...route, replyWith: { controlId, frame: encodeFrame(buildAck(header, { code: 'CA', controlId }), charset) } };
}
