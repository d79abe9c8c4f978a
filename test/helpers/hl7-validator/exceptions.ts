import type { Rule, ValidationError } from './types.js';

/**
 * Deliberate exceptions: findings of the validator that the project accepts on purpose,
 * each with its reason. The lead engineer decides what goes here (issue 12 item 6); the
 * list starts empty, so today every finding counts.
 *
 * An exception matches an error when the rule is the same, the message's version is one
 * of `versions`, and `path` equals the error's path with repetition indexes removed
 * (`PID-3[2].4` -> `PID-3.4`) or is a prefix of it at a `.` (`PID-3` covers `PID-3.1`).
 *
 * Example of an entry (not active):
 *   { path: 'PID-3', rule: 'length', versions: ['2.3.1'],
 *     reason: 'IHE ITI-8 (v2.3.1) sends PID-3 CX with the full assigning authority; 2.3.1 gives the field 20' }
 */
export interface ConformanceException {
  path: string;
  rule: Rule;
  versions: readonly string[];
  reason: string;
}

export const EXCEPTIONS: readonly ConformanceException[] = [];

/** `PID-3[2].4.1` -> `PID-3.4.1`. */
export function withoutRepetitions(path: string): string {
  return path.replace(/\[\d+\]/g, '');
}

export function isExcepted(error: ValidationError, version: string, exceptions: readonly ConformanceException[]): boolean {
  const path = withoutRepetitions(error.path);
  return exceptions.some(
    (e) => e.rule === error.rule && e.versions.includes(version) && (path === e.path || path.startsWith(`${e.path}.`)),
  );
}
