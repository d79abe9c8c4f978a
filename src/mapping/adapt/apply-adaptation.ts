import type { FhirPatient, PatientEvent } from '../../event/patient-event.js';
import type { MappingProfile, Trigger } from '../profile.js';
import { identifierList } from '../identifiers.js';
import { identifierContext, selectIdentifiers } from './identifier-selection.js';
import { setAt } from './hl7-path.js';
import type { ReceiverAdaptation, ZSegment } from './receiver-adaptation.js';

/**
 * Applies a receiver profile's `segments` and `fields` to one message's segments, in this
 * order (README "Fitting a receiver"): omitted segments are left out, Z-segments are added
 * after the first segment of the name they follow (several after one segment keep their
 * configuration order), then each field edit is applied to the first segment of its name.
 * Segments are encoded HL7 (`NAME|field|...`); edit values are rendered from the event.
 */
export function adaptSegments(segments: readonly string[], adaptation: ReceiverAdaptation, event: PatientEvent): string[] {
  const kept = adaptation.omit.length > 0 ? segments.filter((segment) => !adaptation.omit.includes(nameOf(segment))) : segments;
  const out: string[] = [];
  const unplaced = new Set(adaptation.add);
  // Each segment is followed by the Z-segments configured after its name (the first segment
  // of that name only), which may in turn be followed by theirs.
  const emit = (segment: string): void => {
    out.push(segment);
    for (const z of unplaced) {
      if (z.after !== nameOf(segment)) continue;
      unplaced.delete(z);
      emit(zSegment(z, event));
    }
  };
  for (const segment of kept) emit(segment);
  // A Z-segment whose segment this message lacks (an A40 has no PV1) ends the message.
  for (const z of unplaced) out.push(zSegment(z, event));
  for (const edit of adaptation.fields) {
    const index = out.findIndex((segment) => nameOf(segment) === edit.path.segment);
    if (index === -1) continue;
    const fields = out[index]!.split('|');
    setAt(fields, edit.path, edit.value.render(event));
    out[index] = fields.join('|');
  }
  return out;
}

function zSegment(z: ZSegment, event: PatientEvent): string {
  const fields = [z.segment];
  for (const [number, template] of z.fields) {
    while (fields.length <= number) fields.push('');
    fields[number] = template.render(event);
  }
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return fields.join('|');
}

function nameOf(segment: string): string {
  return segment.slice(0, 3);
}

/**
 * Why the event cannot be sent under the profile's `identifiers` rules: a patient record
 * left without a PID-3 (or, for an A40, a replaced record without an MRG-1). The reason
 * names the rule, never values. Undefined when every record keeps one, or without rules.
 */
export function identifierProblem(event: PatientEvent, trigger: Trigger, profile: MappingProfile): string | undefined {
  const rules = profile.adaptation?.identifiers;
  if (!rules) return undefined;
  const context = identifierContext(profile);
  const empty = (record: FhirPatient): boolean => identifierList(selectIdentifiers(record.identifier, rules).list, context) === '';
  const rule = rules.systems ? 'identifiers.systems' : 'identifiers.placement';
  if (empty(event.patient)) return `${rule}: no identifier of the patient is left for PID-3`;
  if (trigger === 'A40' && event.replaced?.some(empty)) return `${rule}: no identifier of a replaced record is left for MRG-1`;
  if (event.type === 'unmerge' && trigger !== 'A38' && event.replaced?.some(empty)) return `${rule}: no identifier of a restored record is left for PID-3`;
  return undefined;
}
