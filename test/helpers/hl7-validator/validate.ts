import type { ValidationError } from './types.js';
import { segmentDefinition, versionDefinition } from './dictionary.js';
import { EXCEPTIONS, isExcepted, type ConformanceException } from './exceptions.js';
import { checkCharacterSet } from './charset.js';
import { checkSegment } from './fields.js';
import { componentOf, fieldOf, parseSegment, splitSegments } from './parse.js';
import { checkStructure } from './structure.js';

export interface ValidateOptions {
  /** Deliberate exceptions to apply; default: EXCEPTIONS (exceptions.ts). */
  exceptions?: readonly ConformanceException[];
}

/**
 * Every conformance error of one un-framed HL7 v2 message (segments separated by `\r`,
 * default delimiters), judged by the `hl7-dictionary` definitions of the message's own
 * MSH-12 version (with the per-version table overlay of tables.ts): structure (MSH-9.3,
 * else the event's own structure `<MSH-9.1>_<MSH-9.2>`), then each segment's fields, then
 * the characters against the MSH-18 character set (charset.ts).
 * Deliberate exceptions (exceptions.ts) are left out. An empty list means valid.
 */
export function validateMessage(text: string, options: ValidateOptions = {}): ValidationError[] {
  if (text.startsWith('\u000b')) {
    return [{ path: 'MSH', rule: 'structure', detail: 'the text is MLLP-framed: pass the message between 0x0B and 0x1C 0x0D' }];
  }
  if (!text.includes('\r') && text.includes('\n')) {
    return [{ path: 'MSH', rule: 'structure', detail: 'segments are separated by \\n; HL7 separates them by \\r' }];
  }
  const errors: ValidationError[] = [];
  const segments = splitSegments(text).map(parseSegment);
  const msh = segments[0];
  if (!msh || msh.id !== 'MSH') {
    return [{ path: 'MSH', rule: 'structure', detail: 'the message does not start with an MSH segment' }];
  }
  const version = componentOf(fieldOf(msh, 12), 1);
  if (!versionDefinition(version)) {
    return [{ path: 'MSH-12', rule: 'version', detail: `version (${version.length} chars) is not one the validator knows` }];
  }
  const msh9 = fieldOf(msh, 9);
  const structure = componentOf(msh9, 3) || `${componentOf(msh9, 1)}_${componentOf(msh9, 2)}`;
  // Z-segments are locally defined and may stand anywhere (HL7 v2 chapter 2, "Z segments"):
  // they are left out of the structure and their fields are not judged, except that no raw
  // control character may appear in them either.
  checkStructure(
    segments.map((s) => s.id).filter((id) => !isZSegment(id)),
    structure,
    version,
    errors,
  );
  for (const segment of segments) {
    const def = segmentDefinition(version, segment.id);
    if (def) checkSegment(segment, def, version, errors);
    else if (isZSegment(segment.id) && /[\u0000-\u001f]/.test(segment.fields.join(''))) {
      errors.push({ path: segment.id, rule: 'control-char', detail: 'raw control character in a Z-segment' });
    }
  }
  checkCharacterSet(text, componentOf(fieldOf(msh, 18), 1), errors);
  const exceptions = options.exceptions ?? EXCEPTIONS;
  return errors.filter((e) => !isExcepted(e, version, exceptions));
}

function isZSegment(id: string): boolean {
  return /^Z[A-Z0-9]{2}$/.test(id);
}

/** One line per error: `PID-5 required: required field (Patient Name) is empty`. */
export function formatErrors(errors: readonly ValidationError[]): string {
  return errors.map((e) => `${e.path} ${e.rule}: ${e.detail}`).join('\n');
}

/**
 * For end-to-end tests: throws an Error listing every conformance error of `text`
 * (validateMessage), or returns when there is none.
 */
export function assertValidHl7(text: string, options: ValidateOptions = {}): void {
  const errors = validateMessage(text, options);
  if (errors.length > 0) {
    throw new Error(`HL7 message is not valid for its version (${errors.length} error(s)):\n${formatErrors(errors)}`);
  }
}
