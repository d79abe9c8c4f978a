import { isAcceptCode, isErrorCode, isRejectCode } from '../hl7/ack.js';
import type { ApplicationAnswer, SendResult } from '../transport/mllp-client.js';

/**
 * The one table of outcome classes (README "Delivery and outcomes"). Every event ends in exactly
 * one of these; they label logs, metrics and receipts and name dead-letter reasons.
 */
export const OUTCOMES = [
  'accepted',
  'application-error',
  'rejected',
  'uncertain',
  'unreachable',
  'invalid-ack',
  'application-ack-timeout',
  'invalid-event',
  'expired',
  'filtered',
  'skipped',
  'late-error',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * Outcomes of one send attempt to the receiver. `application-ack-timeout`: enhanced mode,
 * the receiver committed the message (CA) and sent no application ACK within
 * `timeouts.applicationAckMs`. (`late-error` is no settlement: it is the receipt of an
 * error that came after the event was settled; see README "Delivery and outcomes".)
 */
export type SendOutcome = Extract<Outcome, 'accepted' | 'application-error' | 'rejected' | 'uncertain' | 'unreachable' | 'invalid-ack' | 'application-ack-timeout'>;

/** The failure outcomes a subscription's `policy` may set to `retry` or `dead-letter`. */
export const POLICY_OUTCOMES = ['application-error', 'rejected', 'uncertain', 'unreachable', 'invalid-ack', 'application-ack-timeout'] as const;
export type PolicyOutcome = (typeof POLICY_OUTCOMES)[number];

export function classifySend(result: SendResult): SendOutcome {
  if (result.kind !== 'ack') return result.kind;
  return classifyCode(result.ack.ackCode);
}

/** An application ACK (or its timeout) after a CA; `closed` is no outcome (the lane stopped). */
export function classifyApplicationAnswer(answer: Exclude<ApplicationAnswer, { kind: 'closed' }>): SendOutcome {
  return answer.kind === 'timeout' ? 'application-ack-timeout' : classifyCode(answer.ack.ackCode);
}

function classifyCode(code: string): SendOutcome {
  if (isAcceptCode(code)) return 'accepted';
  if (isErrorCode(code)) return 'application-error';
  if (isRejectCode(code)) return 'rejected';
  // An ACK whose MSA-1 is not in HL7 table 0008 cannot be trusted either way.
  return 'invalid-ack';
}
