import type { PatientEvent } from '../event/patient-event.js';
import type { Hl7Version, Trigger } from './profile.js';
import { escapeHl7 } from '../hl7/escape.js';
import { segment } from '../hl7/segment.js';
import { rfc3339ToHl7 } from '../hl7/timestamp.js';

/**
 * The EVN segment (docs/CODE-MAPPINGS.md "EVN-1"): EVN-1 the trigger in 2.3.1 only (deprecated in
 * 2.5), EVN-2 the build time, EVN-5 `source.user` as XCN-1 when given, EVN-6 the event's
 * `occurredAt` with its offset preserved (empty if it does not parse: the envelope
 * validator upstream guarantees it does).
 */
export function evnSegment(event: PatientEvent, trigger: Trigger, version: Hl7Version, builtAt: string): string {
  const user = event.source?.user;
  return segment('EVN', [
    version === '2.3.1' ? trigger : undefined, // EVN-1
    builtAt, // EVN-2
    undefined, // EVN-3 planned time
    undefined, // EVN-4 reason
    user ? escapeHl7(user) : undefined, // EVN-5 operator (XCN-1 id)
    rfc3339ToHl7(event.occurredAt), // EVN-6
  ]);
}
