import type { Rule, ValidationError } from './types.js';

/**
 * Deliberate exceptions: findings of the validator that the project accepts on purpose,
 * each with its reason (README "Versions, character sets and lengths" documents them for
 * users). Anything else the validator finds fails the tests.
 *
 * An exception matches an error when the rule is the same, the message's version is one
 * of `versions`, and `path` equals the error's path with repetition indexes removed
 * (`PID-3[2].4` -> `PID-3.4`) or is a prefix of it at a `.` (`PID-3` covers `PID-3.1`),
 * and, when the exception has a `detail` pattern, the error's detail matches it.
 *
 * Example of an entry (not active):
 *   { path: 'PID-3', rule: 'length', versions: ['2.3.1'],
 *     reason: 'IHE ITI-8 (v2.3.1) sends PID-3 CX with the full assigning authority; 2.3.1 gives the field 20' }
 */
export interface ConformanceException {
  path: string;
  rule: Rule;
  versions: readonly string[];
  /** When given, the error's detail must match too (e.g. /Windows-1252 character/ for `charset`). */
  detail?: RegExp;
  reason: string;
}

const ALL_VERSIONS = ['2.3.1', '2.4', '2.5', '2.5.1', '2.6'] as const;

/** Identifiers (CX) are never cut: a shortened identifier names another patient, or none (src/hl7/conform/conform-message.ts). */
const IDENTIFIERS_NOT_CUT =
  'identifiers are never cut to length: a shortened identifier or assigning authority names another patient, or none. ' +
  "IHE's profiles allow PID-3 up to 250 characters where 2.3.1 says 20, and 2.5's CX-1 (15) and HD-1 (20) are shorter than many real identifiers and namespaces";

export const EXCEPTIONS: readonly ConformanceException[] = [
  { path: 'PID-2', rule: 'length', versions: ALL_VERSIONS, reason: IDENTIFIERS_NOT_CUT },
  { path: 'PID-3', rule: 'length', versions: ALL_VERSIONS, reason: IDENTIFIERS_NOT_CUT },
  { path: 'PID-4', rule: 'length', versions: ALL_VERSIONS, reason: IDENTIFIERS_NOT_CUT },
  { path: 'MRG-1', rule: 'length', versions: ALL_VERSIONS, reason: IDENTIFIERS_NOT_CUT },
  { path: 'PV1-19', rule: 'length', versions: ALL_VERSIONS, reason: IDENTIFIERS_NOT_CUT },
  {
    path: 'MSH-18',
    rule: 'charset',
    versions: ALL_VERSIONS,
    detail: /Windows-1252 character/,
    reason:
      'settings.Charset Windows-1252 is declared as 8859/1: no version of table 0211 has a code for Windows-1252, 8859/1 is the nearest, ' +
      'and a receiver set up for Windows-1252 reads its 0x80-0x9F characters (€ ’ „ “ ...) as such (so do WHATWG decoders for the 8859-1 label)',
  },
  {
    path: 'MSH-9',
    rule: 'length',
    versions: ['2.3.1'],
    reason: '2.3.1 gives MSH-9 7 characters, too few for its own third component (ADT^A01^ADT_A01); receivers of 2.3.1 read the message structure',
  },
];

/** `PID-3[2].4.1` -> `PID-3.4.1`. */
export function withoutRepetitions(path: string): string {
  return path.replace(/\[\d+\]/g, '');
}

export function isExcepted(error: ValidationError, version: string, exceptions: readonly ConformanceException[]): boolean {
  const path = withoutRepetitions(error.path);
  return exceptions.some(
    (e) =>
      e.rule === error.rule &&
      e.versions.includes(version) &&
      (path === e.path || path.startsWith(`${e.path}.`)) &&
      (e.detail === undefined || e.detail.test(error.detail)),
  );
}
