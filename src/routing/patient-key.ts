import type { FhirPatient } from '../event/patient-event.js';

/**
 * The key that keeps one patient's messages in one lane: the authority and value of the
 * first identifier that has both (the first PID-3 repetition), or of the first identifier
 * of `system` when the subscription names one (`laneKeySystem`) and the patient has it.
 * Never logged: it is patient data.
 */
export function patientKey(patient: FhirPatient, system?: string): string {
  const identifiers = patient.identifier ?? [];
  if (system !== undefined) {
    const preferred = identifiers.find((identifier) => identifier.system === system && identifier.value);
    if (preferred) return `${system}|${preferred.value}`;
  }
  for (const identifier of identifiers) {
    const authority = identifier.system || identifier.assigner?.display;
    if (authority && identifier.value) return `${authority}|${identifier.value}`;
  }
  return '';
}
