import type { PolicyOutcome } from './outcomes.js';

/**
 * What to do after a failed send: the one place that maps outcomes to actions.
 *
 * | outcome           | default     | attempts                                   |
 * |-------------------|-------------|--------------------------------------------|
 * | application-error | dead-letter | -                                          |
 * | rejected          | retry       | up to retry.maxAttempts, then dead-letter  |
 * | invalid-ack       | retry       | up to retry.maxAttempts, then dead-letter  |
 * | uncertain         | retry       | no limit: the receiver is not answering    |
 * | unreachable       | retry       | no limit: the receiver is down             |
 * | application-ack-  | dead-letter | up to retry.maxAttempts, then dead-letter  |
 * |   timeout         |             |                                            |
 *
 * `uncertain` and `unreachable` describe the receiver, not the message: dead-lettering
 * after N attempts would empty the feed into the dead-letter queue during an outage and
 * break ordering, so the stream waits (and the stalled-feed alert fires) instead.
 * A subscription can still set either to `dead-letter`.
 *
 * `application-ack-timeout` (enhanced mode): the receiver committed the message (CA) and
 * never said how processing went. A resend would be a duplicate of a message it holds, so
 * the event goes to the dead-letter queue by default, where an operator can check it with
 * the receiver and replay it if needed (README "Delivery and outcomes").
 */
export type PolicyAction = 'retry' | 'dead-letter';
export type OutcomePolicy = Readonly<Record<PolicyOutcome, PolicyAction>>;

export const DEFAULT_POLICY: OutcomePolicy = {
  'application-error': 'dead-letter',
  rejected: 'retry',
  'invalid-ack': 'retry',
  uncertain: 'retry',
  unreachable: 'retry',
  'application-ack-timeout': 'dead-letter',
};

const UNLIMITED: ReadonlySet<PolicyOutcome> = new Set(['uncertain', 'unreachable']);

/**
 * True for the outcomes in which the receiver answered and refused the message
 * (application-error, rejected, invalid-ack): only these count toward retry.maxAttempts.
 * Sends that failed for the receiver's sake (uncertain, unreachable) say nothing about the
 * message, so an outage never uses up a message's retries: after 50 unreachable attempts
 * the first AR is refusal 1, not attempt 51.
 */
export function isRefusal(outcome: PolicyOutcome): boolean {
  return !UNLIMITED.has(outcome);
}

export interface RetrySettings {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Refusals of one message (the first send included) before it is dead-lettered; see {@link isRefusal}. */
  maxAttempts: number;
}

export type Decision = { action: 'retry'; delayMs: number } | { action: 'dead-letter' };

/**
 * Decides after a failed send of one message. `attempt` (1-based) counts the sends of this
 * message that failed in the same way as this one: refusals ({@link isRefusal}) for a
 * refusal, receiver failures for `uncertain` and `unreachable`. It bounds refusals by
 * `retry.maxAttempts` and drives the backoff, so the first refusal after an outage starts
 * from `initialDelayMs`. `random` is injectable for tests; it must return a value in [0, 1).
 */
export function decide(
  outcome: PolicyOutcome,
  attempt: number,
  policy: OutcomePolicy,
  retry: RetrySettings,
  random: () => number = Math.random,
): Decision {
  if (policy[outcome] === 'dead-letter') return { action: 'dead-letter' };
  if (isRefusal(outcome) && attempt >= retry.maxAttempts) return { action: 'dead-letter' };
  return { action: 'retry', delayMs: backoffDelay(attempt, retry, random) };
}

/**
 * Capped exponential backoff with "equal jitter": half of the exponential step is fixed,
 * half random, so retries never come back sooner than half the step and never all at once.
 */
export function backoffDelay(attempt: number, retry: Pick<RetrySettings, 'initialDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** exponent);
  return Math.round(step / 2 + (random() * step) / 2);
}
