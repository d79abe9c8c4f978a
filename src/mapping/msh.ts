import type { MappingProfile, Trigger } from './profile.js';
import type { Charset } from '../hl7/charset.js';
import { parseHl7Path, setAt, type Hl7Path } from './adapt/hl7-path.js';
import { versionAtLeast, type Hl7Version } from '../hl7/versions.js';
import { escapeHl7 } from '../hl7/escape.js';
import { ENCODING_CHARACTERS, segment } from '../hl7/segment.js';

/** MSH-9 per trigger (README "Event type -> trigger"): A04/A08 use ADT_A01, A28/A31 ADT_A05. */
export const MESSAGE_TYPES: Readonly<Record<Trigger, string>> = {
  A01: 'ADT^A01^ADT_A01',
  A04: 'ADT^A04^ADT_A01',
  A08: 'ADT^A08^ADT_A01',
  A28: 'ADT^A28^ADT_A05',
  A31: 'ADT^A31^ADT_A05',
  A38: 'ADT^A38^ADT_A38',
  A40: 'ADT^A40^ADT_A39',
};

/**
 * MSH-18 for a charset, from table 0211 of the version (docs/CODE-MAPPINGS.md):
 * - ASCII: none (an empty MSH-18 means ASCII);
 * - ISO-8859-1: `8859/1` in every version;
 * - Windows-1252: `8859/1` too: no version's table 0211 has a code for it, and it is
 *   ISO-8859-1 with printable characters in place of the C1 controls (0x80-0x9F); a
 *   receiver set up for Windows-1252 reads it so;
 * - UTF-8: `UNICODE UTF-8` from 2.5; 2.3.1 and 2.4 have only `UNICODE` (ISO/IEC 10646,
 *   with no encoding named), which is what they get.
 */
export function characterSetCode(charset: Charset, version: Hl7Version): string | undefined {
  switch (charset) {
    case 'ASCII':
      return undefined;
    case 'ISO-8859-1':
    case 'Windows-1252':
      return '8859/1';
    case 'UTF-8':
      return versionAtLeast(version, '2.5') ? 'UNICODE UTF-8' : 'UNICODE';
  }
}

/**
 * The MSH segment. MSH-1/MSH-2 are the delimiters, never escaped; every other value is
 * escaped. MSH-8 only when the profile has one; MSH-15/16 empty (original acknowledgment
 * mode) unless the profile is in enhanced mode (`acknowledgment`); MSH-18 empty: {@link withCharacterSet} sets it once the whole message is known (a
 * message of plain ASCII is the same bytes in every charset, and an empty MSH-18 says
 * ASCII).
 */
export function mshSegment(profile: MappingProfile, trigger: Trigger, sentAt: string, controlId: string): string {
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
    undefined, // MSH-18: set on the finished message, see withCharacterSet
  ]);
}

const MSH_18 = parseHl7Path('MSH-18') as Hl7Path;

/** `text` (a finished message) with MSH-18 set to `code`, an ASCII table 0211 code. */
export function withCharacterSet(text: string, code: string): string {
  const end = text.indexOf('\r');
  const fields = text.slice(0, end).split('|');
  setAt(fields, MSH_18, code);
  return fields.join('|') + text.slice(end);
}
