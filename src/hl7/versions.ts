/**
 * The HL7 v2 versions a subscription can send (`settings.Version`, MSH-12). The mapper
 * writes every code from the tables of the message's own version (src/mapping/tables/).
 */
export const HL7_VERSIONS = ['2.3.1', '2.4', '2.5', '2.5.1', '2.6'] as const;
export type Hl7Version = (typeof HL7_VERSIONS)[number];

const ORDER: Readonly<Record<Hl7Version, number>> = { '2.3.1': 0, '2.4': 1, '2.5': 2, '2.5.1': 3, '2.6': 4 };

/** Whether `version` is `since` or later. */
export function versionAtLeast(version: Hl7Version, since: Hl7Version): boolean {
  return ORDER[version] >= ORDER[since];
}
