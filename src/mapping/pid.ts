import {
  MOTHERS_MAIDEN_NAME_URL,
  type FhirCodeableConcept,
  type FhirCommunication,
  type FhirIdentifier,
  type FhirPatient,
} from '../event/patient-event.js';
import type { MappingProfile } from './profile.js';
import type { Hl7Version } from '../hl7/versions.js';
import { escapeHl7 } from '../hl7/escape.js';
import { segment } from '../hl7/segment.js';
import { fhirDateToHl7 } from '../hl7/timestamp.js';
import { addressList } from './addresses.js';
import { cx, identifierAuthority, identifierList, identifierTypeCode, type IdentifierContext } from './identifiers.js';
import { identifierContext, selectIdentifiers } from './adapt/identifier-selection.js';
import { nameList } from './names.js';
import { telecomFields } from './telecom.js';
import { codeTable } from './code-table.js';
import { MARITAL_STATUS, definedIn } from './tables/hl7-tables.js';

/**
 * The PID segment from a FHIR Patient (README "Versions, character sets and lengths",
 * docs/CODE-MAPPINGS.md). Pure; every value escaped, every code from the tables of
 * `profile.version`; optional data that does not parse (a malformed birthDate) leaves its
 * field empty rather than failing the message. PID-5 (required) is never empty.
 */
export function pidSegment(patient: FhirPatient, profile: MappingProfile): string {
  const { version } = profile;
  const telecom = telecomFields(patient.telecom, version);
  const context = identifierContext(profile);
  const identifiers = selectIdentifiers(patient.identifier, profile.adaptation?.identifiers);
  const deceasedAt = patient.deceasedDateTime;
  return segment('PID', [
    '1', // PID-1 set id
    placedCx(identifiers.placed['PID-2'], context), // PID-2 (deprecated patient id): only by a receiver profile
    identifierList(identifiers.list, context), // PID-3
    placedCx(identifiers.placed['PID-4'], context), // PID-4 alternate patient id: only by a receiver profile
    nameList(patient.name, version), // PID-5
    mothersMaidenName(patient), // PID-6
    patient.birthDate ? fhirDateToHl7(patient.birthDate) : undefined, // PID-7
    gender(patient.gender), // PID-8
    undefined, // PID-9
    undefined, // PID-10
    addressList(patient.address), // PID-11
    undefined, // PID-12
    telecom.home, // PID-13
    telecom.business, // PID-14
    primaryLanguage(patient.communication), // PID-15
    maritalStatus(patient.maritalStatus, version), // PID-16
    undefined, // PID-17
    undefined, // PID-18
    identifiers.placed['PID-19']?.value ? escapeHl7(identifiers.placed['PID-19'].value) : undefined, // PID-19 (SSN, an ST): only by a receiver profile
    undefined, // PID-20
    undefined, // PID-21
    undefined, // PID-22
    undefined, // PID-23
    multipleBirthIndicator(patient), // PID-24
    patient.multipleBirthInteger !== undefined ? String(patient.multipleBirthInteger) : undefined, // PID-25
    undefined, // PID-26
    undefined, // PID-27
    undefined, // PID-28
    deceasedAt ? fhirDateToHl7(deceasedAt) : undefined, // PID-29
    deceasedAt || patient.deceasedBoolean === true ? 'Y' : patient.deceasedBoolean === false ? 'N' : undefined, // PID-30
  ]);
}

/** A CX for an identifier a receiver profile placed in PID-2 or PID-4. */
function placedCx(identifier: FhirIdentifier | undefined, context: IdentifierContext): string | undefined {
  if (!identifier?.value) return undefined;
  return cx(identifier.value, identifierAuthority(identifier, context), identifierTypeCode(identifier, context), context.version);
}

/** Patient.gender -> PID-8 (table 0001). */
const gender = codeTable({ male: 'M', female: 'F', other: 'O', unknown: 'U' });

/** PID-6: the family name only (XPN-1) from the first patient-mothersMaidenName extension. */
function mothersMaidenName(patient: FhirPatient): string | undefined {
  const value = patient.extension?.find((e) => e.url === MOTHERS_MAIDEN_NAME_URL)?.valueString;
  return value ? escapeHl7(value) : undefined;
}

/**
 * PID-15 (a single CE, CE-1 = the code): the language of the first communication marked
 * `preferred`, else of the first communication that has a coded language.
 */
function primaryLanguage(communication: readonly FhirCommunication[] | undefined): string | undefined {
  if (!communication || communication.length === 0) return undefined;
  const chosen = communication.find((c) => c.preferred === true && c.language?.coding?.[0]?.code) ?? communication.find((c) => c.language?.coding?.[0]?.code);
  const code = chosen?.language?.coding?.[0]?.code;
  return code ? escapeHl7(code) : undefined;
}

const V2_MARITAL_STATUS = 'http://terminology.hl7.org/CodeSystem/v2-0002';
const V3_MARITAL_STATUS = 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus';
const V3_NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';

/**
 * FHIR's maritalStatus codes are v3 MaritalStatus (+ NullFlavor UNK); v2 table 0002 uses
 * some of the same letters for other meanings (v3 `U` unmarried is v2 `B`; v2 `U` is
 * unknown). Translated per HL7's v3 -> v2 concept map, each with its codes in order of
 * preference: the first one the version's table 0002 defines is written (2.3.1 suggests
 * only A, D, M, S, W, so a legally separated patient is `A`, separated, there).
 * `P` (polygamous) has no v2 code.
 */
const V3_TO_V2_MARITAL_STATUS: Readonly<Record<string, readonly string[]>> = {
  A: ['N'], // annulled
  C: ['C'], // common law
  D: ['D'], // divorced
  I: ['I'], // interlocutory
  L: ['E', 'A'], // legally separated
  M: ['M'], // married
  S: ['S'], // never married -> single
  T: ['P'], // domestic partner
  U: ['B'], // unmarried
  W: ['W'], // widowed
  UNK: ['U'], // unknown
};

/**
 * PID-16 (CE-1 = the code): a coding from v2 table 0002 is sent as is; else the first
 * v3 MaritalStatus / NullFlavor coding, translated; else a coding without a system (taken
 * as a v2 code). Each only when the version's table 0002 defines the code: a code from
 * elsewhere (a local code system, a later version) leaves PID-16 empty.
 */
function maritalStatus(concept: FhirCodeableConcept | undefined, version: Hl7Version): string | undefined {
  const codings = concept?.coding;
  if (!codings || codings.length === 0) return undefined;
  const v2 = codings.find((c) => c.system === V2_MARITAL_STATUS && c.code);
  if (v2) return definedIn(MARITAL_STATUS, v2.code, version) ? v2.code : undefined;
  const v3 = codings.find((c) => (c.system === V3_MARITAL_STATUS || c.system === V3_NULL_FLAVOR) && c.code);
  if (v3) {
    const candidates = v3.code && Object.hasOwn(V3_TO_V2_MARITAL_STATUS, v3.code) ? V3_TO_V2_MARITAL_STATUS[v3.code]! : [];
    return candidates.find((code) => definedIn(MARITAL_STATUS, code, version));
  }
  const unnamed = codings.find((c) => c.system === undefined && c.code);
  return definedIn(MARITAL_STATUS, unnamed?.code, version) ? unnamed.code : undefined;
}

/** PID-24: `Y`/`N` from multipleBirthBoolean; `Y` when only a birth order (PID-25) is given. */
function multipleBirthIndicator(patient: FhirPatient): string | undefined {
  if (patient.multipleBirthBoolean !== undefined) return patient.multipleBirthBoolean ? 'Y' : 'N';
  return patient.multipleBirthInteger !== undefined ? 'Y' : undefined;
}
