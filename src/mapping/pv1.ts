import type { Visit } from '../event/patient-event.js';
import type { MappingProfile, Trigger } from './profile.js';
import { escapeHl7 } from '../hl7/escape.js';
import { segment } from '../hl7/segment.js';
import { authorityFor, cx } from './identifiers.js';

/**
 * The PV1 segment (HL7-OUTBOUND.md "PV1"):
 * - A01/A04/A08: `PV1|1|N` (IHE's pseudo-visit), or with a visit: PV1-2 `visit.class`
 *   (still `N` when the visit has no class) and PV1-19 the visit number;
 * - A28/A31 (ADT_A05, person information, no encounter): always `PV1|1|N`;
 * - A38: PV1-2 `P` (pre-admit), PV1-19 the visit number when given.
 * PV1-19 is a CX whose authority comes from `visit.system` by the PID-3 HD rule; unlike
 * PID-3, a visit number without a system is still sent (bare CX-1): it is the sender's
 * own visit number, and dropping it would lose the only visit reference.
 */
export function pv1Segment(trigger: Trigger, visit: Visit | undefined, profile: MappingProfile): string {
  let patientClass = 'N';
  let visitNumber: string | undefined;
  if (trigger === 'A38') patientClass = 'P';
  if (visit && trigger !== 'A28' && trigger !== 'A31') {
    if (visit.class && trigger !== 'A38') patientClass = escapeHl7(visit.class);
    if (visit.number) visitNumber = cx(visit.number, authorityFor(visit.system, undefined, profile.assigningAuthorities), undefined);
  }
  return segment('PV1', [
    '1', // PV1-1 set id
    patientClass, // PV1-2
    undefined, // PV1-3
    undefined, // PV1-4
    undefined, // PV1-5
    undefined, // PV1-6
    undefined, // PV1-7
    undefined, // PV1-8
    undefined, // PV1-9
    undefined, // PV1-10
    undefined, // PV1-11
    undefined, // PV1-12
    undefined, // PV1-13
    undefined, // PV1-14
    undefined, // PV1-15
    undefined, // PV1-16
    undefined, // PV1-17
    undefined, // PV1-18
    visitNumber, // PV1-19
  ]);
}
