import { createHash } from 'node:crypto';
import type { Job } from '../delivery/job.js';
import type { PatientEvent } from '../event/patient-event.js';
import { patientKey } from '../routing/patient-key.js';

/**
 * Names and headers of the patient hold (docs/PATIENT-HOLD.md). A patient's lane key is
 * an identifier (src/routing/patient-key.ts), so it never reaches the broker, a log or a
 * metric in clear: the hold names it by its key hash.
 */

/** On a dead letter that holds a patient: the hold's id (a key hash). Kept by `replay`. */
export const HOLD_KEY_HEADER = 'x-mllp-hold-key';
/** On a control message in `mllp.<name>`: what it asks (`release`). */
export const CONTROL_HEADER = 'x-mllp-control';
/** On a `release` control message: the event id of the dead letter whose hold ends. */
export const RELEASE_EVENT_HEADER = 'x-mllp-release-event-id';

/** The first 32 hex digits of SHA-256(subscription, key): names a patient on the broker. */
export function keyHash(subscription: string, key: string): string {
  return createHash('sha256').update(subscription).update('\u0000').update(key).digest('hex').slice(0, 32);
}

/** Durable queue holding the subscription's log of `hold`, `releasing` and `release` records. */
export function holdLogQueueName(subscription: string): string {
  return `mllp.${subscription}.holds`;
}

/** Durable queue holding one held patient's parked events, in order. */
export function heldQueueName(subscription: string, hold: string): string {
  return `mllp.${subscription}.held.${hold}`;
}

/** A header value as text (amqplib gives strings, or Buffers for long strings). */
export function headerText(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (typeof value === 'string' && value !== '') return value;
  if (Buffer.isBuffer(value) && value.length > 0) return value.toString('utf8');
  return undefined;
}

/** Key hashes of the patients an event concerns: its own, and for a merge or unmerge the replaced ones. */
export function keyHashesOf(subscription: string, laneKeySystem: string | undefined, job: Job, event: PatientEvent): string[] {
  const keys = job.laneKey ? [job.laneKey] : [];
  if (job.barrier) for (const replaced of event.replaced ?? []) keys.push(patientKey(replaced, laneKeySystem));
  return [...new Set(keys.filter((key) => key !== '').map((key) => keyHash(subscription, key)))];
}
