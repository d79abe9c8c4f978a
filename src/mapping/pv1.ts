import type { Visit } from '../event/patient-event.js';
import type { MappingProfile, Trigger } from './profile.js';
import type { Hl7Version } from '../hl7/versions.js';
import { FIELD_SEPARATOR } from '../hl7/segment.js';
import { authorityFor, cx } from './identifiers.js';
import { identifierContext } from './adapt/identifier-selection.js';
import { PATIENT_CLASS, PSEUDO_VISIT_CLASS, definedIn } from './tables/hl7-tables.js';

/**
 * The PV1 segment (README "Versions, character sets and lengths", docs/CODE-MAPPINGS.md):
 * - A01/A04/A08: `PV1|1|N` (IHE's pseudo-visit), or with a visit: PV1-2 from `visit.class`
 *   (see {@link patientClass}; still `N` when the visit has no class) and PV1-19 the visit
 *   number;
 * - A28/A31 (ADT_A05, person information, no encounter): always `PV1|1|N`;
 * - A38: PV1-2 `P` (pre-admit), PV1-19 the visit number when given.
 * PV1-19 is a CX whose authority comes from `visit.system` by the PID-3 HD rule; unlike
 * PID-3, a visit number without a system is still sent (bare CX-1): it is the sender's
 * own visit number, and dropping it would lose the only visit reference.
 */
export function pv1Segment(trigger: Trigger, visit: Visit | undefined, profile: MappingProfile): string {
  const { version } = profile;
  let classCode = PSEUDO_VISIT_CLASS;
  let visitNumber: string | undefined;
  if (trigger === 'A38') classCode = 'P';
  if (visit && trigger !== 'A28' && trigger !== 'A31') {
    if (visit.class && trigger !== 'A38') classCode = patientClass(visit.class, version);
    if (visit.number) visitNumber = cx(visit.number, authorityFor(visit.system, undefined, identifierContext(profile)), undefined, version);
  }
  // PV1-1 set id, PV1-2 patient class (required), PV1-3 to PV1-18 empty, PV1-19 visit number.
  const head = 'PV1' + FIELD_SEPARATOR + '1' + FIELD_SEPARATOR + classCode;
  return visitNumber ? head + EMPTY_PV1_3_TO_18 + FIELD_SEPARATOR + visitNumber : head;
}

const EMPTY_PV1_3_TO_18 = FIELD_SEPARATOR.repeat(16);

/**
 * FHIR Encounter.class (v3 ActCode) -> table 0004 patient class. A code that table 0004 of
 * the version already defines (`I`, `O`, `E`...) is kept; the ActCodes are translated
 * (inpatient kinds -> `I`, ambulatory kinds -> `O`, emergency -> `E`, pre-admission -> `P`);
 * anything else is `U` (unknown, 2.4 and later), or the pseudo-visit `N` in 2.3.1.
 */
const ACT_CODE_CLASS: Readonly<Record<string, string>> = {
  IMP: 'I',
  ACUTE: 'I',
  NONAC: 'I',
  AMB: 'O',
  OBSENC: 'O',
  SS: 'O',
  HH: 'O',
  VR: 'O',
  FLD: 'O',
  EMER: 'E',
  PRENC: 'P',
};

export function patientClass(code: string, version: Hl7Version): string {
  if (definedIn(PATIENT_CLASS, code, version)) return code;
  const translated = Object.hasOwn(ACT_CODE_CLASS, code) ? ACT_CODE_CLASS[code] : undefined;
  if (translated !== undefined) return translated;
  return definedIn(PATIENT_CLASS, 'U', version) ? 'U' : PSEUDO_VISIT_CLASS;
}
