import type { FhirHumanName } from '../event/patient-event.js';
import { escapeHl7 } from '../hl7/escape.js';
import { components, repetitions } from '../hl7/segment.js';
import { codeTable } from './code-table.js';

/** FHIR `HumanName` -> HL7 XPN (PID-5, MRG-7). All returned strings are encoded HL7. */

/** HumanName.use -> XPN-7 name type (table 0200, HL7-OUTBOUND.md PID-5 row). */
const nameType = codeTable({
  official: 'L',
  usual: 'D',
  maiden: 'M',
  nickname: 'N',
  anonymous: 'S',
  temp: 'TEMP',
});

/**
 * XPN `family^given[0]^given[1..] joined by space^suffix^prefix^^type`; several prefixes
 * or suffixes are joined by a space too. A name with no family, given, prefix or suffix
 * (e.g. `text` only) gives '' — XPN has no free-text component, and putting `text` in the
 * family name would invent structure the sender did not give. A name without `use` gets
 * an empty XPN-7.
 */
export function xpn(name: FhirHumanName): string {
  const given = name.given;
  if (!name.family && !given?.some(Boolean) && !name.prefix?.some(Boolean) && !name.suffix?.some(Boolean)) return '';
  return components(
    name.family ? escapeHl7(name.family) : undefined,
    given?.[0] ? escapeHl7(given[0]) : undefined,
    given && given.length > 1 ? escapeHl7(given.slice(1).filter(Boolean).join(' ')) : undefined,
    name.suffix?.length ? escapeHl7(name.suffix.filter(Boolean).join(' ')) : undefined,
    name.prefix?.length ? escapeHl7(name.prefix.filter(Boolean).join(' ')) : undefined,
    undefined, // XPN-6 degree
    nameType(name.use),
  );
}

/**
 * PID-5: names with use `official` first (HL7: the legal name is the first repetition),
 * then the others in their given order. Names with use `old` are left out: FHIR defines
 * them as no longer in use (or never correct), table 0200 has no code for them, and a PIX
 * manager would match on them as if current.
 */
export function nameList(names: readonly FhirHumanName[] | undefined): string {
  if (!names || names.length === 0) return '';
  const official: string[] = [];
  const others: string[] = [];
  for (const name of names) {
    if (name.use === 'old') continue;
    (name.use === 'official' ? official : others).push(xpn(name));
  }
  return repetitions(official.length === 0 ? others : official.concat(others));
}

/** MRG-7: the first name with use `official` as XPN, '' when there is none (only `official` counts). */
export function officialName(names: readonly FhirHumanName[] | undefined): string {
  const name = names?.find((n) => n.use === 'official');
  return name ? xpn(name) : '';
}
