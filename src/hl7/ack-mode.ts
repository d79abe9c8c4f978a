/**
 * HL7 acknowledgment modes (HL7 v2.5 chapter 2, table 0155 for MSH-15 and MSH-16). Pure.
 *
 * - Original mode: MSH-15 and MSH-16 empty; the receiver answers each message once
 *   (AA/AE/AR, or CA/CE/CR from receivers that speak enhanced mode anyway).
 * - Enhanced mode: MSH-15 (accept acknowledgment type) says when the receiver sends a
 *   commit ACK (CA/CE/CR, "I have it safely"), MSH-16 (application acknowledgment type)
 *   when it sends an application ACK (AA/AE/AR, "I processed it") later, as a message of its
 *   own. README "Delivery and outcomes" describes how the dispatcher uses them.
 */

/** Table 0155: AL always, NE never, ER on error only, SU on success only. */
export const ACK_TYPES = ['AL', 'NE', 'ER', 'SU'] as const;
export type AckType = (typeof ACK_TYPES)[number];

/** The MSH-15/MSH-16 pair a subscription sends in enhanced mode. */
export interface EnhancedAckMode {
  accept: AckType;
  application: AckType;
}

/** True when a receiver answers a message it committed with a CA (MSH-15 AL or SU). */
export function commitAckOnSuccess(mode: EnhancedAckMode): boolean {
  return mode.accept === 'AL' || mode.accept === 'SU';
}

/**
 * True when a receiver sends an application ACK for a message it processed successfully
 * (MSH-16 AL or SU): only then is there an application ACK to wait for after a CA. With ER
 * or NE, success is silent, so the CA settles the event and an application error that
 * follows is reported as a late error.
 */
export function applicationAckOnSuccess(mode: EnhancedAckMode): boolean {
  return mode.application === 'AL' || mode.application === 'SU';
}

/**
 * Why a pair cannot be used, or undefined. A message the receiver commits and processes
 * successfully must get some answer, or no event could ever be settled.
 */
export function enhancedModeProblem(mode: EnhancedAckMode): string | undefined {
  if (!commitAckOnSuccess(mode) && !applicationAckOnSuccess(mode)) {
    return `AcceptAck ${mode.accept} with ApplicationAck ${mode.application} means a message that succeeds is never answered; set either to AL or SU`;
  }
  return undefined;
}

/**
 * Whether the sender of a message with this MSH-15 wants a commit ACK back from us for a
 * message we accept (AL or SU). Used for the application ACKs a receiver sends.
 */
export function wantsCommitAck(acceptAckType: string | undefined): boolean {
  return acceptAckType === 'AL' || acceptAckType === 'SU';
}
