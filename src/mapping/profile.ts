import type { EventType } from '../event/patient-event.js';
import type { Charset } from '../hl7/charset.js';
import type { Hl7Version } from '../hl7/versions.js';
import type { ReceiverAdaptation } from './adapt/receiver-adaptation.js';

export type { Hl7Version } from '../hl7/versions.js';
import type { EnhancedAckMode } from '../hl7/ack-mode.js';

/**
 * What the mapper needs to know about a subscription: the resolved, validated settings.
 * Built once per subscription from the configuration; the mapper never reads config itself.
 */

export type ProcessingId = 'P' | 'T' | 'D';

/** Triggers the mapper can build. A04/A08 use the ADT_A01 structure, A28/A31 ADT_A05. */
export const SUPPORTED_TRIGGERS = ['A01', 'A04', 'A08', 'A28', 'A31', 'A38', 'A40'] as const;
export type Trigger = (typeof SUPPORTED_TRIGGERS)[number];

/** A cell of the trigger table: the trigger to send, or `skip` (ack, count as `skipped`). */
export type TriggerCell = Trigger | 'skip';
export type TriggerTable = Readonly<Record<EventType, TriggerCell>>;

export type SendAs = 'Client' | 'Server';

/** The SendAs presets (README "Event type -> trigger"). */
export const SEND_AS_PRESETS: Readonly<Record<SendAs, TriggerTable>> = {
  Client: { create: 'A01', update: 'A08', merge: 'A40', delete: 'skip', unmerge: 'skip' },
  Server: { create: 'A01', update: 'A08', merge: 'A40', delete: 'A38', unmerge: 'skip' },
};

/**
 * Which triggers make sense for which event type; a `triggers` override outside this
 * table is a configuration error. Unmerge with a patient-update trigger sends one
 * message for the surviving record and one for each restored (`replaced`) record.
 */
export const ALLOWED_TRIGGERS: Readonly<Record<EventType, readonly Trigger[]>> = {
  create: ['A01', 'A04', 'A08', 'A28', 'A31'],
  update: ['A08', 'A31'],
  delete: ['A38'],
  merge: ['A40'],
  unmerge: ['A01', 'A04', 'A08', 'A28', 'A31'],
};

export interface MappingProfile {
  /** Subscription name: one input of the MSH-10 derivation. */
  subscription: string;
  /** MSH-3 / MSH-4. */
  sendingApplication: string;
  sendingFacility: string;
  /** MSH-5 / MSH-6 (may be empty). */
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-8; omitted when undefined. */
  security?: string;
  /** MSH-12; every code written comes from this version's tables. */
  version: Hl7Version;
  /** The wire charset (`settings.Charset`): decides MSH-18 and which characters can be sent. */
  charset: Charset;
  /** `settings.Unrepresentable`: a character the charset cannot hold becomes `?`, or refuses the event. */
  unrepresentable: 'replace' | 'reject';
  /** `settings.Lengths`: cut values at the version's maximum length, or send them as they are. */
  lengths: 'truncate' | 'keep';
  /** MSH-11. */
  processingId: ProcessingId;
  /** MSH-15 / MSH-16 (enhanced acknowledgment mode); undefined: both empty, original mode. */
  acknowledgment?: EnhancedAckMode;
  triggers: TriggerTable;
  /**
   * FHIR identifier system -> HD-1 namespace id, used when an identifier has no
   * `assigner.display` (e.g. `{"urn:oid:1.2.3.4.5.6.1": "ACME_MPI"}`).
   */
  assigningAuthorities: Readonly<Record<string, string>>;
  /** The receiver profile's identifiers, fields and segments (README "Fitting a receiver"); none when unset. */
  adaptation?: ReceiverAdaptation;
}

/** The clock reading a message is built with (MSH-7, EVN-2). */
export interface BuildTime {
  now: Date;
  /** Offset of the local time zone in minutes east of UTC (e.g. +60 for CET). */
  utcOffsetMinutes: number;
}

export interface OutboundMessage {
  trigger: Trigger;
  /**
   * Where a value was cut to the version's maximum length (`PID-5.1`, `PID-11.1`...):
   * positions only, never values. Empty when nothing was cut.
   */
  truncated?: readonly string[];
  /** MSH-10: deterministic from (event id, subscription, index), <= 20 chars. */
  controlId: string;
  /** The HL7 message, segments separated (and ended) by `\r`, not framed. */
  text: string;
}
