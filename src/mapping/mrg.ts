import type { FhirIdentifier, FhirPatient } from '../event/patient-event.js';
import type { IdentifierContext } from './identifiers.js';
import type { IdentifierRules } from './adapt/receiver-adaptation.js';
import { selectIdentifiers } from './adapt/identifier-selection.js';
import { segment } from '../hl7/segment.js';
import { identifierList } from './identifiers.js';
import { officialName } from './names.js';

/**
 * The MRG segment of an A40 for one replaced record (docs/CODE-MAPPINGS.md, CX identifiers):
 * MRG-1 = the replaced record's identifiers as CX, by the PID-3 rules (a receiver profile's
 * `identifiers` included), except that an identifier whose `system` the survivor also has
 * gets the survivor's HD (`survivorAuthorities`, from `authoritiesBySystem`): the receiver
 * matches the merge against the domain it knows from PID-3. MRG-7 = the replaced record's `official`
 * name, when it has one.
 *
 * If no replaced identifier has a value and an authority, MRG-1 is empty and the receiver
 * will reject the A40 (AE -> dead letter, visible). The envelope validator should refuse
 * such an event before it gets here.
 */
export function mrgSegment(
  replaced: FhirPatient,
  survivorAuthorities: ReadonlyMap<string, string>,
  context: IdentifierContext,
  rules?: IdentifierRules,
): string {
  const override = (identifier: FhirIdentifier): string | undefined =>
    identifier.system ? survivorAuthorities.get(identifier.system) : undefined;
  return segment('MRG', [
    identifierList(selectIdentifiers(replaced.identifier, rules).list, context, override), // MRG-1 prior patient identifier list
    undefined, // MRG-2 prior alternate patient id
    undefined, // MRG-3 prior patient account number
    undefined, // MRG-4 prior patient id (deprecated)
    undefined, // MRG-5 prior visit number
    undefined, // MRG-6 prior alternate visit id
    officialName(replaced.name, context.version), // MRG-7 prior patient name
  ]);
}
