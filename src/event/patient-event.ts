/**
 * The inbound patient event (README "Producing events") and the parts of FHIR R4 `Patient`
 * that the mapper reads. Only the fields named here are read; any other field a producer
 * sends is carried along untouched and ignored, never an error.
 */

export const EVENT_TYPES = ['create', 'update', 'delete', 'merge', 'unmerge'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface PatientEvent {
  /** Unique per event; redeliveries and retries reuse it, so MSH-10 derived from it is stable. */
  id: string;
  type: EventType;
  /** RFC 3339 with offset; becomes EVN-6 with its offset preserved. */
  occurredAt: string;
  source?: EventSource;
  /** For merge/unmerge: the surviving record. */
  patient: FhirPatient;
  /** Merge/unmerge only: the non-surviving record(s), at least one. */
  replaced?: FhirPatient[];
  visit?: Visit;
}

export interface EventSource {
  application?: string;
  facility?: string;
  user?: string;
}

export interface Visit {
  number?: string;
  system?: string;
  /** PV1-2 patient class (HL7 table 0004), e.g. `I`, `O`, `E`, `P`. */
  class?: string;
}

export interface FhirPatient {
  resourceType: 'Patient';
  id?: string;
  identifier?: FhirIdentifier[];
  name?: FhirHumanName[];
  gender?: 'male' | 'female' | 'other' | 'unknown';
  birthDate?: string;
  deceasedBoolean?: boolean;
  deceasedDateTime?: string;
  address?: FhirAddress[];
  telecom?: FhirContactPoint[];
  maritalStatus?: FhirCodeableConcept;
  communication?: FhirCommunication[];
  multipleBirthBoolean?: boolean;
  multipleBirthInteger?: number;
  extension?: FhirExtension[];
}

export interface FhirIdentifier {
  use?: string;
  type?: FhirCodeableConcept;
  system?: string;
  value?: string;
  assigner?: { display?: string };
}

export interface FhirHumanName {
  use?: 'usual' | 'official' | 'temp' | 'nickname' | 'anonymous' | 'old' | 'maiden';
  text?: string;
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
}

export interface FhirAddress {
  use?: 'home' | 'work' | 'temp' | 'old' | 'billing';
  type?: 'postal' | 'physical' | 'both';
  line?: string[];
  city?: string;
  district?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}

export interface FhirContactPoint {
  system?: 'phone' | 'fax' | 'email' | 'pager' | 'url' | 'sms' | 'other';
  value?: string;
  use?: 'home' | 'work' | 'temp' | 'old' | 'mobile';
  rank?: number;
}

export interface FhirCoding {
  system?: string;
  code?: string;
  display?: string;
}

export interface FhirCodeableConcept {
  coding?: FhirCoding[];
  text?: string;
}

export interface FhirCommunication {
  language?: FhirCodeableConcept;
  preferred?: boolean;
}

export interface FhirExtension {
  url?: string;
  valueString?: string;
  [key: string]: unknown;
}

export const MOTHERS_MAIDEN_NAME_URL = 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName';
