import type { Hl7Path } from './hl7-path.js';
import type { Template } from './template.js';

/**
 * How a subscription's receiver profile adapts the messages (README "Fitting a receiver"):
 * the resolved, validated form of a subscription's `identifiers`, `fields` and `segments`
 * (src/config/receiver-profile.ts reads them). Plain data and compiled templates; the
 * mapper applies it, nothing else reads configuration.
 */
export interface ReceiverAdaptation {
  identifiers?: IdentifierRules;
  /** Field edits, in configuration order, applied after the Z-segments are added. */
  fields: readonly FieldEdit[];
  /** Optional segments of the structure to leave out. */
  omit: readonly string[];
  add: readonly ZSegment[];
}

export type PlacementField = 'PID-2' | 'PID-4' | 'PID-19';
export const PLACEMENT_FIELDS: readonly PlacementField[] = ['PID-2', 'PID-4', 'PID-19'];

export interface IdentifierRules {
  /** Allow-list and order of the systems sent in PID-3 and MRG-1; undefined = every system, in the event's order. */
  systems?: readonly string[];
  /** Per system: the HD (CX-4) and CX-5 to send, overriding the event and `hl7.assigningAuthorities`. */
  authorities: Readonly<Record<string, AuthorityOverride>>;
  /** One system's identifier in PID-2, PID-4 or PID-19 instead of PID-3. */
  placement: Readonly<Partial<Record<PlacementField, string>>>;
}

export interface AuthorityOverride {
  namespace?: string;
  universalId?: string;
  universalIdType?: string;
  typeCode?: string;
}

export interface FieldEdit {
  path: Hl7Path;
  value: Template;
}

export interface ZSegment {
  /** The segment it follows (the first one with that name). */
  after: string;
  segment: string;
  /** Field number -> value. */
  fields: ReadonlyMap<number, Template>;
}

export const NO_ADAPTATION: ReceiverAdaptation = { fields: [], omit: [], add: [] };
