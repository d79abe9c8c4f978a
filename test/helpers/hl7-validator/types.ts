/** What the validator reports. `detail` never quotes the value (it may be patient data). */

export type Rule =
  /** Segment order, a required segment missing, a segment beyond its maximum count. */
  | 'structure'
  /** A segment the message's version does not define at all. */
  | 'unknown-segment'
  /** MSH-12 names a version the dictionary does not have, or MSH-1/MSH-2 are not the defaults. */
  | 'version'
  /** A required field (or, inside a valued field, a required component) is empty. */
  | 'required'
  /** A non-repeating field repeats, or a field repeats more often than allowed. */
  | 'repetition'
  /** A field repetition or component is longer than its maximum (unescaped characters). */
  | 'length'
  /** More components (or subcomponents) than the data type has, or a field beyond the segment's last. */
  | 'components'
  /** A primitive value that does not have its data type's form (TS/DTM, DT, NM, SI). */
  | 'datatype'
  /** An ID/IS value that is not in the table of the message's version. */
  | 'table'
  /** A raw control character (< 0x20) inside a value. */
  | 'control-char'
  /** A malformed or unknown escape sequence. */
  | 'escape'
  /** A character the character set declared in MSH-18 (ASCII when empty) cannot hold. */
  | 'charset';

export interface ValidationError {
  /** `PID-5`, `PID-5.1.1`, `PID-3[2].4.1` (repetition index only from the 2nd on), `MSH`, `PV1`. */
  path: string;
  rule: Rule;
  detail: string;
}

/** Versions this validator knows how to judge (the dictionary's versions from 2.3 on). */
export const KNOWN_VERSIONS = ['2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1'] as const;
export type KnownVersion = (typeof KNOWN_VERSIONS)[number];

export function isKnownVersion(v: string): v is KnownVersion {
  return (KNOWN_VERSIONS as readonly string[]).includes(v);
}

/** Compares HL7 version strings numerically ('2.3.1' < '2.4' < '2.5' < '2.5.1'). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
