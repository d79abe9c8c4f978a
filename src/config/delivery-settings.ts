import { ACK_TYPES, enhancedModeProblem, type AckType, type EnhancedAckMode } from '../hl7/ack-mode.js';
import { DEFAULT_POLICY, type OutcomePolicy, type PolicyAction, type RetrySettings } from '../delivery/policy.js';
import { POLICY_OUTCOMES, type PolicyOutcome } from '../delivery/outcomes.js';
import type { ObjectReader } from './object-reader.js';

/** A subscription's delivery settings: timeouts, retry, policy and acknowledgment mode. */

export interface Timeouts {
  connectMs: number;
  ackMs: number;
  /** Enhanced mode: how long an application ACK may take after the CA. */
  applicationAckMs: number;
}

export function readTimeouts(sub: ObjectReader): Timeouts {
  return readPositiveIntegers(sub, 'timeouts', { connectMs: 5_000, ackMs: 10_000, applicationAckMs: 30_000 }).values;
}

/**
 * A group of positive integers with defaults (`timeouts`, `retry`): each key read with its
 * default, unknown keys reported. The group's reader comes back for checks across keys.
 */
function readPositiveIntegers<T extends Record<string, number>>(sub: ObjectReader, key: string, defaults: T): { values: T; reader?: ObjectReader } {
  const reader = sub.child(key);
  const values = { ...defaults };
  if (!reader) return { values };
  for (const name of Object.keys(defaults) as Array<keyof T & string>) values[name] = reader.integer(name, defaults[name] as number, 1) as T[keyof T & string];
  reader.rejectUnknownKeys();
  return { values, reader };
}

/**
 * `settings.AcceptAck` / `settings.ApplicationAck` (MSH-15 / MSH-16): both empty (the
 * default) is original mode. When one is set, the other defaults to AL, and both are sent,
 * so the receiver never has to guess (docs/DECISIONS.md).
 */
export function readAcknowledgment(settings: ObjectReader | undefined): EnhancedAckMode | undefined {
  if (!settings) return undefined;
  const allowed = ['', ...ACK_TYPES] as const;
  const accept = settings.oneOf('AcceptAck', allowed, '');
  const application = settings.oneOf('ApplicationAck', allowed, '');
  if (accept === '' && application === '') return undefined;
  const mode: EnhancedAckMode = { accept: (accept || 'AL') as AckType, application: (application || 'AL') as AckType };
  const problem = enhancedModeProblem(mode);
  if (problem) settings.problem('ApplicationAck', problem);
  return mode;
}

export function readRetry(sub: ObjectReader): RetrySettings {
  const { values, reader } = readPositiveIntegers(sub, 'retry', { initialDelayMs: 500, maxDelayMs: 60_000, maxAttempts: 10 });
  if (values.maxDelayMs < values.initialDelayMs) reader?.problem('maxDelayMs', 'must be >= initialDelayMs');
  return values;
}

export function readPolicy(sub: ObjectReader): OutcomePolicy {
  const policy = sub.child('policy');
  const result: Record<PolicyOutcome, PolicyAction> = { ...DEFAULT_POLICY };
  if (!policy) return result;
  for (const outcome of POLICY_OUTCOMES) {
    result[outcome] = policy.oneOf(outcome, ['retry', 'dead-letter'] as const, result[outcome]);
  }
  policy.rejectUnknownKeys();
  return result;
}
