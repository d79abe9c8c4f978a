import type { FhirPatient, PatientEvent } from '../event/patient-event.js';
import type { BuildTime, MappingProfile, OutboundMessage, Trigger } from './profile.js';
import { message } from '../hl7/segment.js';
import { formatHl7Timestamp } from '../hl7/timestamp.js';
import { controlIdFor } from './control-id.js';
import { evnSegment } from './evn.js';
import { authoritiesBySystem } from './identifiers.js';
import { mrgSegment } from './mrg.js';
import { characterSetCode, mshSegment, withCharacterSet } from './msh.js';
import { identifierContext } from './adapt/identifier-selection.js';
import { adaptSegments, identifierProblem } from './adapt/apply-adaptation.js';
import { isAscii } from '../hl7/charset.js';
import { conformMessage } from '../hl7/conform/conform-message.js';
import { pidSegment } from './pid.js';
import { pv1Segment } from './pv1.js';

export type MappingResult =
  | { kind: 'messages'; messages: OutboundMessage[] }
  /** `reason` names the event type and trigger only: never patient data (it is logged). */
  | { kind: 'skipped'; reason: string }
  /**
   * The event cannot be sent to this receiver (a character its charset cannot hold, with
   * `unrepresentable: 'reject'`): dead-letter it as `invalid-event`. `reason` names the
   * field, never the value.
   */
  | { kind: 'invalid'; reason: string };

/**
 * PatientEvent -> the ADT messages for one subscription (README "Event type -> trigger",
 * docs/CODE-MAPPINGS.md). Pure: the clock reading comes in as `time` (MSH-7 and EVN-2 of every
 * message of the call), MSH-10 from {@link controlIdFor}, nothing else varies, so the
 * same inputs always give the same bytes.
 *
 * - The trigger is `profile.triggers[event.type]`; `skip` -> `skipped`.
 * - A01/A04/A08/A28/A31: MSH EVN PID PV1 for `patient` (index 0). For an `unmerge`, then
 *   one more message per `replaced` record (index 1..n), with that record in PID and
 *   `PV1|1|N` (the event's visit belongs to the surviving patient).
 * - A38: MSH EVN PID PV1 (PV1-2 `P`), index 0.
 * - A40: MSH EVN PID MRG, one message per `replaced` record in order, index = its position;
 *   `skipped` when there is none (the envelope validator should have refused the event).
 *
 * A receiver profile's identifiers, fields and segments apply (`profile.adaptation`; an
 * event it leaves without a PID-3 or MRG-1 is `invalid`). Every message then goes through
 * {@link conformMessage}: the profile's charset, and the lengths of its HL7 version (the
 * cut positions are in `OutboundMessage.truncated`).
 *
 * Does not throw for odd optional data: fields it cannot map are left empty. It relies on
 * the envelope validator for the required parts (id, type, occurredAt, patient).
 */
export function buildMessages(event: PatientEvent, profile: MappingProfile, time: BuildTime): MappingResult {
  const trigger = profile.triggers[event.type] as Trigger | 'skip' | undefined;
  if (trigger === undefined) return { kind: 'skipped', reason: 'no trigger for this event type' };
  if (trigger === 'skip') return { kind: 'skipped', reason: `no trigger for ${event.type} (trigger table: skip)` };

  const builtAt = formatHl7Timestamp(time.now, time.utcOffsetMinutes);
  const evn = evnSegment(event, trigger, profile.version, builtAt);
  const bodies: string[][] = [];
  const unusable = identifierProblem(event, trigger, profile);
  if (unusable) return { kind: 'invalid', reason: unusable };

  if (trigger === 'A40') {
    const replaced = event.replaced ?? [];
    if (replaced.length === 0) return { kind: 'skipped', reason: `no replaced record for A40 (${event.type})` };
    const pid = pidSegment(event.patient, profile);
    const context = identifierContext(profile);
    const survivorAuthorities = authoritiesBySystem(event.patient.identifier, context);
    for (const record of replaced) bodies.push([evn, pid, mrgSegment(record, survivorAuthorities, context, profile.adaptation?.identifiers)]);
  } else {
    const patientBody = (patient: FhirPatient, withVisit: boolean): string[] => [
      evn,
      pidSegment(patient, profile),
      pv1Segment(trigger, withVisit ? event.visit : undefined, profile),
    ];
    bodies.push(patientBody(event.patient, true));
    if (event.type === 'unmerge' && trigger !== 'A38') {
      for (const record of event.replaced ?? []) bodies.push(patientBody(record, false));
    }
  }

  const messages: OutboundMessage[] = [];
  for (const [index, body] of bodies.entries()) {
    const controlId = controlIdFor(event.id, profile.subscription, index);
    let segments = [mshSegment(profile, trigger, builtAt, controlId), ...body];
    if (profile.adaptation) segments = adaptSegments(segments, profile.adaptation, event);
    const conformed = conformMessage(message(segments), profile);
    if (!conformed.ok) return { kind: 'invalid', reason: conformed.reason };
    // MSH-18 names the charset only when the message as sent (after the charset's
    // replacements) holds a character outside ASCII; an empty MSH-18 means ASCII.
    const code = isAscii(conformed.text) ? undefined : characterSetCode(profile.charset, profile.version);
    const text = code ? withCharacterSet(conformed.text, code) : conformed.text;
    const { truncated } = conformed;
    messages.push(truncated.length > 0 ? { trigger, controlId, text, truncated } : { trigger, controlId, text });
  }
  return { kind: 'messages', messages };
}
