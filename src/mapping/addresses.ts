import type { FhirAddress } from '../event/patient-event.js';
import { escapeHl7 } from '../hl7/escape.js';
import { components, withRepetition } from '../hl7/segment.js';
import { joinNonEmpty } from './join-values.js';
import { codeTable } from './code-table.js';

/** FHIR `Address` -> HL7 XAD (PID-11). All returned strings are encoded HL7. */

/** Address.use -> XAD-7 address type (table 0190, docs/CODE-MAPPINGS.md). */
const addressType = codeTable({
  home: 'H',
  work: 'B',
  temp: 'C',
  old: 'BA',
});

/**
 * XAD `line[0]^line[1]^city^state^postalCode^country^type^^district`.
 * - Lines after the second are appended to XAD-2, separated by `, ` (XAD has two street
 *   components; dropping lines would lose part of the address).
 * - XAD-7: `type: postal` gives `M` (mailing) and wins over `use`: a postal-only address
 *   (a PO box) is not a home or business residence. Otherwise `use` per the table;
 *   `old` -> `BA` (bad address) keeps the record but tells the receiver not to use it.
 * - `district` -> XAD-9 (county/parish), as in HL7's V2-to-FHIR XAD mapping.
 * An address without any of these parts gives ''.
 */
export function xad(address: FhirAddress): string {
  const line = address.line;
  const type = address.type === 'postal' ? 'M' : addressType(address.use);
  return components(
    line?.[0] ? escapeHl7(line[0]) : undefined,
    line && line.length > 1 ? escapeHl7(joinNonEmpty(line, 1, ', ')) : undefined,
    address.city ? escapeHl7(address.city) : undefined,
    address.state ? escapeHl7(address.state) : undefined,
    address.postalCode ? escapeHl7(address.postalCode) : undefined,
    address.country ? escapeHl7(address.country) : undefined,
    // XAD-7 is only worth sending with some address data; components() trims it otherwise.
    hasAddressData(address) ? type : undefined,
    undefined, // XAD-8 other geographic designation
    address.district ? escapeHl7(address.district) : undefined,
  );
}

/**
 * PID-11: every address in the given order, except `use: billing` ones: table 0190 (2.5)
 * has no billing code, and a billing address (often a guarantor's) is not the patient's
 * for identity matching.
 */
export function addressList(addresses: readonly FhirAddress[] | undefined): string {
  if (!addresses || addresses.length === 0) return '';
  let field = '';
  for (const address of addresses) {
    if (address.use !== 'billing') field = withRepetition(field, xad(address));
  }
  return field;
}

function hasAddressData(a: FhirAddress): boolean {
  return Boolean(a.line?.some(Boolean) || a.city || a.state || a.postalCode || a.country || a.district);
}
