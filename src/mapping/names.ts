import type { FhirHumanName } from '../event/patient-event.js';
import type { Hl7Version } from '../hl7/versions.js';
import { escapeHl7 } from '../hl7/escape.js';
import { components, withRepetition } from '../hl7/segment.js';
import { joinNonEmpty } from './join-values.js';
import { NAME_TYPE, definedIn } from './tables/hl7-tables.js';

/** FHIR `HumanName` -> HL7 XPN (PID-5, MRG-7). All returned strings are encoded HL7. */

/**
 * HumanName.use -> XPN-7 name type, table 0200 of the message's version
 * (docs/CODE-MAPPINGS.md), each use with its codes in order of preference: the first one
 * the version defines is written.
 * - nickname `N` and anonymous `S` exist from 2.4; 2.3.1 gets `A` (alias) for both;
 * - temp: `TEMP` exists only from 2.7; before it the nearest is `A` (2.7 itself describes
 *   `A` as "a name assigned to a person", e.g. when the real name is not known).
 */
const NAME_TYPES_BY_USE: Readonly<Record<string, readonly string[]>> = {
  official: ['L'],
  usual: ['D'],
  maiden: ['M'],
  nickname: ['N', 'A'],
  anonymous: ['S', 'A'],
  temp: ['A'],
};

export function nameType(use: string | undefined, version: Hl7Version): string | undefined {
  if (use === undefined || !Object.hasOwn(NAME_TYPES_BY_USE, use)) return undefined;
  let byUse = NAME_TYPE_BY_VERSION.get(version);
  if (!byUse) NAME_TYPE_BY_VERSION.set(version, (byUse = new Map()));
  if (!byUse.has(use)) byUse.set(use, NAME_TYPES_BY_USE[use]!.find((code) => definedIn(NAME_TYPE, code, version)));
  return byUse.get(use);
}

/** nameType() per version and use, looked up once (the keys are the few uses above). */
const NAME_TYPE_BY_VERSION = new Map<Hl7Version, Map<string, string | undefined>>();

/**
 * PID-5 of a patient without a usable name (none, only `text`, only empty strings): PID-5
 * is required in every version, so it gets family name `UNKNOWN` with name type `U`
 * (unspecified; 2.4 and later, none in 2.3.1). A receiver can match on the identifiers;
 * an empty PID-5 would make it reject the whole message. docs/CODE-MAPPINGS.md says why
 * `text` is not used instead.
 */
export const UNKNOWN_FAMILY_NAME = 'UNKNOWN';

export function unknownName(version: Hl7Version): string {
  const unspecified = definedIn(NAME_TYPE, 'U', version) ? 'U' : undefined;
  return components(UNKNOWN_FAMILY_NAME, undefined, undefined, undefined, undefined, undefined, unspecified);
}

/**
 * XPN `family^given[0]^given[1..] joined by space^suffix^prefix^^type`; several prefixes
 * or suffixes are joined by a space too. A name with no family, given, prefix or suffix
 * (e.g. `text` only) gives '' — XPN has no free-text component, and putting `text` in the
 * family name would invent structure the sender did not give. A name without `use` gets
 * an empty XPN-7.
 */
export function xpn(name: FhirHumanName, version: Hl7Version): string {
  const given = name.given;
  if (!name.family && !given?.some(Boolean) && !name.prefix?.some(Boolean) && !name.suffix?.some(Boolean)) return '';
  return components(
    name.family ? escapeHl7(name.family) : undefined,
    given?.[0] ? escapeHl7(given[0]) : undefined,
    given && given.length > 1 ? escapeHl7(joinNonEmpty(given, 1, ' ')) : undefined,
    name.suffix?.length ? escapeHl7(joinNonEmpty(name.suffix, 0, ' ')) : undefined,
    name.prefix?.length ? escapeHl7(joinNonEmpty(name.prefix, 0, ' ')) : undefined,
    undefined, // XPN-6 degree
    nameType(name.use, version),
  );
}

/**
 * PID-5: names with use `official` first (HL7: the legal name is the first repetition),
 * then the others in their given order. Names with use `old` are left out: FHIR defines
 * them as no longer in use (or never correct), table 0200 has no code for them, and a PIX
 * manager would match on them as if current. Never empty: see {@link unknownName}.
 */
export function nameList(names: readonly FhirHumanName[] | undefined, version: Hl7Version): string {
  let official = '';
  let others = '';
  for (const name of names ?? []) {
    if (name.use === 'old') continue;
    if (name.use === 'official') official = withRepetition(official, xpn(name, version));
    else others = withRepetition(others, xpn(name, version));
  }
  return withRepetition(official, others) || unknownName(version);
}

/** MRG-7: the first name with use `official` as XPN, '' when there is none (only `official` counts). */
export function officialName(names: readonly FhirHumanName[] | undefined, version: Hl7Version): string {
  const name = names?.find((n) => n.use === 'official');
  return name ? xpn(name, version) : '';
}
