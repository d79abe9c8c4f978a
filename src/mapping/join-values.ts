/**
 * Joining several FHIR strings into one HL7 value (before escaping): given names after the
 * first, prefixes, suffixes, address lines after the first. Empty strings are left out.
 */
export function joinNonEmpty(items: readonly string[], from: number, separator: string): string {
  let out = '';
  for (let i = from; i < items.length; i++) {
    const item = items[i];
    if (item) out = out === '' ? item : out + separator + item;
  }
  return out;
}

