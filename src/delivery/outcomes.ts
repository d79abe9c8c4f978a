import { isAcceptCode, isErrorCode, isRejectCode } from '../hl7/ack.js';
import type { SendResult } from '../transport/mllp-client.js';

/**
 * The one table of outcome classes (CONTRACT.md section 5). Every event ends in exactly
 * one of these; they label logs, metrics and receipts and name dead-letter reasons.
 */
export const OUTCOMES = [
  'accepted',
  'application-error',
  'rejected',
  'uncertain',
  'unreachable',
  'invalid-ack',
  'invalid-event',
  'expired',
  'filtered',
  'skipped',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes of one send attempt to the receiver. */
export type SendOutcome = Extract<Outcome, 'accepted' | 'application-error' | 'rejected' | 'uncertain' | 'unreachable' | 'invalid-ack'>;

/** The failure outcomes a subscription's `policy` may set to `retry` or `dead-letter`. */
export const POLICY_OUTCOMES = ['application-error', 'rejected', 'uncertain', 'unreachable', 'invalid-ack'] as const;
export type PolicyOutcome = (typeof POLICY_OUTCOMES)[number];

export function classifySend(result: SendResult): SendOutcome {
  if (result.kind !== 'ack') return result.kind;
  const code = result.ack.ackCode;
  if (isAcceptCode(code)) return 'accepted';
  if (isErrorCode(code)) return 'application-error';
  if (isRejectCode(code)) return 'rejected';
  // An ACK whose MSA-1 is not in HL7 table 0008 cannot be trusted either way.
  return 'invalid-ack';
}
