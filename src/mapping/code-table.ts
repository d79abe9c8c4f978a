/**
 * A fixed code translation (FHIR code -> HL7 table value). A lookup never finds anything
 * it was not given: unknown or odd keys (`constructor`, `__proto__`) give undefined, so
 * unexpected input leaves a field empty instead of leaking an inherited property.
 */
export type CodeTable = (code: string | undefined) => string | undefined;

export function codeTable(entries: Readonly<Record<string, string>>): CodeTable {
  const map = new Map(Object.entries(entries));
  return (code) => (code === undefined ? undefined : map.get(code));
}
