import type { MappingProfile, Trigger } from './profile.js';
import type { Charset } from '../hl7/charset.js';
import { parseHl7Path, setAt, type Hl7Path } from './adapt/hl7-path.js';
import { versionAtLeast, type Hl7Version } from '../hl7/versions.js';
import { escapeHl7 } from '../hl7/escape.js';
import { ENCODING_CHARACTERS, FIELD_SEPARATOR, joinTrimmed } from '../hl7/segment.js';

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
 *
 * Only MSH-7, MSH-9 and MSH-10 vary per message; the rest depends on the profile alone and
 * is encoded once per profile (see {@link MshConstants}).
 */
export function mshSegment(profile: MappingProfile, trigger: Trigger, sentAt: string, controlId: string): string {
  const constants = mshConstants(profile);
  return constants.head + sentAt + constants.security + MESSAGE_TYPES[trigger] + FIELD_SEPARATOR + escapeHl7(controlId) + constants.tail;
}

/**
 * The encoded parts of MSH that depend on the profile only, around MSH-7, MSH-9 and MSH-10:
 * - `head`: `MSH|^~\&|MSH-3|MSH-4|MSH-5|MSH-6|` (MSH-1 is the `|` after the name);
 * - `security`: `|MSH-8|`;
 * - `tail`: `|MSH-11|MSH-12`, then MSH-13 to MSH-17 without trailing empty fields.
 * MSH-11 and MSH-12 are never empty, so every field before them keeps its place and only
 * the tail is trimmed: the same bytes as a segment() of all the fields.
 */
interface MshConstants {
  /** The profile values the parts were built from: a profile changed since gets new parts. */
  readonly inputs: readonly unknown[];
  readonly head: string;
  readonly security: string;
  readonly tail: string;
}

const MSH_CONSTANTS = new WeakMap<MappingProfile, MshConstants>();

function mshConstants(profile: MappingProfile): MshConstants {
  const inputs = [
    profile.sendingApplication,
    profile.sendingFacility,
    profile.receivingApplication,
    profile.receivingFacility,
    profile.security,
    profile.processingId,
    profile.version,
    profile.acknowledgment?.accept,
    profile.acknowledgment?.application,
  ] as const;
  const cached = MSH_CONSTANTS.get(profile);
  if (cached && cached.inputs.every((value, i) => value === inputs[i])) return cached;
  const [sendingApplication, sendingFacility, receivingApplication, receivingFacility, security, processingId, version, accept, application] = inputs;
  const constants: MshConstants = {
    inputs,
    head: [
      'MSH',
      ENCODING_CHARACTERS, // MSH-2
      escapeHl7(sendingApplication), // MSH-3
      escapeHl7(sendingFacility), // MSH-4
      escapeHl7(receivingApplication), // MSH-5
      escapeHl7(receivingFacility), // MSH-6
      '', // MSH-7 follows
    ].join(FIELD_SEPARATOR),
    security: FIELD_SEPARATOR + (security !== undefined ? escapeHl7(security) : '') + FIELD_SEPARATOR, // MSH-8
    tail:
      FIELD_SEPARATOR +
      joinTrimmed(
        [
          processingId, // MSH-11
          version, // MSH-12
          undefined, // MSH-13 sequence number
          undefined, // MSH-14 continuation pointer
          accept, // MSH-15 accept ack type: empty = original mode
          application, // MSH-16 application ack type
          undefined, // MSH-17 country code
          undefined, // MSH-18: set on the finished message, see withCharacterSet
        ],
        FIELD_SEPARATOR,
      ),
  };
  MSH_CONSTANTS.set(profile, constants);
  return constants;
}

const MSH_18 = parseHl7Path('MSH-18') as Hl7Path;
/** `|` before MSH-18's value, counting MSH-1 (the one after the name). */
const SEPARATORS_BEFORE_MSH_18 = 17;

/** `text` (a finished message) with MSH-18 set to `code`, an ASCII table 0211 code. */
export function withCharacterSet(text: string, code: string): string {
  const end = text.indexOf('\r');
  const separators = fieldSeparators(text, end);
  // The MSH as built ends before MSH-18: MSH-18 goes after the empty fields between.
  if (end !== -1 && separators < SEPARATORS_BEFORE_MSH_18) {
    return text.slice(0, end) + FIELD_SEPARATOR.repeat(SEPARATORS_BEFORE_MSH_18 - separators) + code + text.slice(end);
  }
  // A receiver profile set MSH-18 or a later field.
  const fields = text.slice(0, end).split(FIELD_SEPARATOR);
  setAt(fields, MSH_18, code);
  return fields.join(FIELD_SEPARATOR) + text.slice(end);
}

/** How many `|` are in text[0, end). */
function fieldSeparators(text: string, end: number): number {
  let count = 0;
  for (let at = text.indexOf(FIELD_SEPARATOR); at !== -1 && at < end; at = text.indexOf(FIELD_SEPARATOR, at + 1)) count++;
  return count;
}
