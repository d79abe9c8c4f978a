/**
 * The project's independent HL7 v2 conformance check (issue 12 item 6), driven by the npm
 * package `hl7-dictionary` (devDependency). See docs/CONFORMANCE.md.
 */
export { assertValidHl7, formatErrors, validateMessage, type ValidateOptions } from './validate.js';
export { EXCEPTIONS, type ConformanceException, withoutRepetitions } from './exceptions.js';
export { CODES_INTRODUCED, TABLES_BY_VERSION, tableCodes } from './tables.js';
export type { Rule, ValidationError } from './types.js';
