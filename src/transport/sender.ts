import type { ParsedAck } from '../hl7/ack.js';
import type { Charset } from '../hl7/charset.js';
import type { EnhancedAckMode } from '../hl7/ack-mode.js';
import type { MllpEndpoint } from './endpoint.js';
import type { TlsFileSettings } from './tls-files.js';
import type { ApplicationAnswer, IgnoredReason, LateAnswer, SendContext } from './answers.js';

/** The transport's seam: what a send reports, and what a client is told and configured with. */

/**
 * What happened to one send. The transport only reports facts; what to do about them
 * (retry, dead-letter) is decided by the delivery policy.
 *
 * - `ack`: an ACK whose MSA-2 equals the MSH-10 sent (any MSA-1 code). In enhanced mode,
 *   when the answer is a CA and an application ACK is due, `application` resolves with
 *   it (or its timeout): the message is committed and the next one may be sent meanwhile.
 * - `unreachable`: no connection could be made (TCP connect, TLS handshake, or the TLS
 *   layer failing right after it, e.g. the receiver refusing our client certificate).
 *   The receiver cannot have processed the message.
 * - `uncertain`: the message was written, then no ACK came within the ACK timeout or the
 *   receiver closed the connection. The receiver may or may not have it.
 * - `invalid-ack`: the reply was not MLLP, not HL7, not an ACK, or acknowledged a control
 *   id that is not the one sent.
 *
 * After `uncertain` and `invalid-ack` the socket is already destroyed, so a late ACK can
 * never be read as the answer to a later message.
 */
export type SendResult =
  | { kind: 'ack'; ack: ParsedAck; latencyMs: number; application?: Promise<ApplicationAnswer> }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'uncertain'; reason: string }
  | { kind: 'invalid-ack'; reason: string };

/** The seam the delivery layer depends on; tests may put a fake behind it. */
export interface MllpSender {
  /**
   * Sends one framed message and waits for its ACK (its commit ACK in enhanced mode). Only
   * one send may be in flight. `context` names the message in a late answer's report.
   */
  send(frame: Buffer, controlId: string, context?: SendContext): Promise<SendResult>;
  /** Drops the connection; a send in flight resolves as `uncertain`. Idempotent. */
  close(): Promise<void>;
  readonly connected: boolean;
}

export interface ConnectionInfo {
  protocol?: string;
  /** notAfter of the receiver's certificate (sllp only). */
  serverCertificateExpiresAt?: Date;
  /** notAfter of our client certificate (mutual TLS only). */
  clientCertificateExpiresAt?: Date;
}

export interface MllpClientListener {
  connected?(info: ConnectionInfo): void;
  disconnected?(reason: string): void;
  /**
   * A frame arrived that answers nothing in flight (e.g. a duplicate ACK); it was ignored.
   * `code` is its MSA-1 ('' when it has none).
   */
  ignoredFrame?(reason: IgnoredReason, code: string): void;
  /** An AE/AR/CE/CR came for a message already settled by an AA or CA on this connection. */
  lateAnswer?(answer: LateAnswer): void;
}

export interface MllpClientOptions {
  endpoint: MllpEndpoint;
  /** Required when `endpoint.secure`. */
  tls?: TlsFileSettings;
  /**
   * How often (at most) a send checks whether the TLS files changed on disk; when they did,
   * the connection is replaced before the message goes out, so a rotated certificate is in
   * use within this long without a restart. Default 30 s.
   */
  tlsCheckIntervalMs?: number;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  /**
   * Enhanced acknowledgment mode (the MSH-15/16 the messages carry); absent: original mode.
   * `applicationAckTimeoutMs` bounds the wait for an application ACK after a CA, and for
   * the first answer when no commit ACK is sent on success (MSH-15 NE or ER).
   */
  enhanced?: { mode: EnhancedAckMode; applicationAckTimeoutMs: number };
  /** Messages one connection carries before it is replaced; default MAX_SENT_PER_CONNECTION (answers.ts). */
  maxMessagesPerConnection?: number;
  /** The subscription's charset (`settings.Charset`): ACKs are read, and commit ACKs written, in it. Default UTF-8. */
  charset?: Charset;
  listener?: MllpClientListener;
}
