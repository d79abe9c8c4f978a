import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { EVENT_TYPES, type FhirPatient, type PatientEvent } from './patient-event.js';
import { fhirDateToHl7, rfc3339ToHl7 } from '../hl7/timestamp.js';
import { EVENT_SCHEMA_FILE } from '../package-paths.js';

/**
 * Buffer -> PatientEvent, or the precise reason it is not one (README "Producing events",
 * "Bad input"). Reasons name the offending path and rule, never a value: they end up in
 * logs and in the dead letter's `x-mllp-reason` header.
 */
export type DecodeResult = { ok: true; event: PatientEvent } | { ok: false; reason: string };

export type EventDecoder = (body: Buffer) => DecodeResult;

/** Compiles the shipped JSON Schema once; the returned decoder is cheap per event. */
export function createEventDecoder(options: { maxMessageBytes: number; schemaFile?: string }): EventDecoder {
  const schema = JSON.parse(readFileSync(options.schemaFile ?? EVENT_SCHEMA_FILE, 'utf8')) as object;
  const validate = new Ajv({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);
  return (body) => decodeEvent(body, options.maxMessageBytes, validate);
}

const REPLACEMENT_CHARACTER = '\uFFFD';

function decodeEvent(body: Buffer, maxMessageBytes: number, validate: ValidateFunction): DecodeResult {
  if (body.length > maxMessageBytes) {
    return fail(`body is ${body.length} bytes, over amqp.maxMessageBytes (${maxMessageBytes})`);
  }
  // Decoding replaces every invalid sequence with U+FFFD: a text without one came from valid
  // UTF-8, and only a text with one (rare: it may also be sent as such) needs the check.
  const text = body.toString('utf8');
  if (text.includes(REPLACEMENT_CHARACTER) && !isUtf8(body)) return fail('body is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('body is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('body is not a JSON object');
  const candidate = value as Record<string, unknown>;
  // Checked before the schema so the commonest producer mistakes get a sentence of their own.
  if (candidate.type === undefined) return fail('type is required');
  if (typeof candidate.type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(candidate.type)) {
    return fail(`type is not one of ${EVENT_TYPES.join(', ')}`);
  }
  if ((candidate.type === 'merge' || candidate.type === 'unmerge') && !(Array.isArray(candidate.replaced) && candidate.replaced.length > 0)) {
    return fail(`${candidate.type} event has no replaced record (replaced must list at least one)`);
  }
  if (!validate(value)) return fail(describeSchemaError(validate.errors?.[0]));
  const event = value as unknown as PatientEvent;
  const impossible = findImpossibleDate(event);
  if (impossible) return fail(impossible);
  return { ok: true, event };
}

/**
 * The schema checks the shape of dates; this checks that they exist (no 30 February), with
 * the very converters the mapper uses, so an event that passes here never reaches HL7 with
 * an empty EVN-6 or PID-7 (the mapper leaves a field empty when its value does not parse).
 */
function findImpossibleDate(event: PatientEvent): string | undefined {
  if (rfc3339ToHl7(event.occurredAt) === undefined) return `occurredAt ${NOT_A_DATE}`;
  const records: Array<[string, FhirPatient]> = [['patient', event.patient]];
  event.replaced?.forEach((record, index) => records.push([`replaced.${index}`, record]));
  for (const [path, record] of records) {
    if (record.birthDate !== undefined && fhirDateToHl7(record.birthDate) === undefined) return `${path}.birthDate ${NOT_A_DATE}`;
    if (record.deceasedDateTime !== undefined && fhirDateToHl7(record.deceasedDateTime) === undefined) return `${path}.deceasedDateTime ${NOT_A_DATE}`;
  }
  return undefined;
}

const NOT_A_DATE = 'names a date that does not exist (day out of range for its month)';

/** What the schema's date patterns stand for, by the schema location of the pattern. */
const PATTERN_MEANING: Readonly<Record<string, string>> = {
  '#/properties/occurredAt/pattern': 'must be an RFC 3339 date-time with seconds and a UTC offset (e.g. 2026-03-15T14:29:00+01:00)',
  '#/definitions/fhirDate/pattern': 'must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)',
  '#/definitions/fhirDateTime/pattern': 'must be a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or a date-time with seconds and a UTC offset)',
};

function describeSchemaError(error: ErrorObject | undefined): string {
  if (!error) return 'does not match the patient event schema';
  const path = error.instancePath === '' ? 'event' : error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'contains' && /(^|\.)identifier$/.test(path)) {
    return `${path}: no identifier has both a value and an authority (system or assigner.display); PID-3 needs an assigning authority`;
  }
  if (error.keyword === 'required') {
    return `${path === 'event' ? '' : `${path}.`}${(error.params as { missingProperty: string }).missingProperty} is required`;
  }
  if (error.keyword === 'pattern') return `${path} ${PATTERN_MEANING[error.schemaPath] ?? 'has the wrong format'}`;
  // Allowed values come from the schema, never from the event: safe to name.
  if (error.keyword === 'enum') return `${path} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (error.keyword === 'const') return `${path} must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  return `${path} ${error.message ?? 'is invalid'}`;
}

function fail(reason: string): DecodeResult {
  return { ok: false, reason };
}
