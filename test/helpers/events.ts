import { randomBytes } from 'node:crypto';

/** A valid patient event with a unique id; `patientId` keys the patient (PID-3). */
export function patientEvent(overrides: { id?: string; type?: string; patientId?: string; family?: string; [key: string]: unknown } = {}): Record<string, unknown> {
  const { id, type, patientId, family, ...rest } = overrides;
  const event: Record<string, unknown> = {
    id: id ?? `evt-${randomBytes(6).toString('hex')}`,
    type: type ?? 'create',
    occurredAt: '2026-03-15T14:29:00+01:00',
    source: { application: 'ACME_EHR', facility: 'ACME_HOSP', user: 'jdoe' },
    patient: {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: patientId ?? 'PAT-000123', assigner: { display: 'ACME_MPI' }, type: { coding: [{ code: 'PI' }] } }],
      name: [{ use: 'official', family: family ?? 'Testperson', given: ['Anne'] }],
      gender: 'female',
      birthDate: '1984-03-12',
    },
    ...rest,
  };
  if (event.type === 'merge' || event.type === 'unmerge') {
    event.replaced ??= [
      { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: `${patientId ?? 'PAT-000123'}-OLD` }], name: [{ use: 'official', family: 'Old' }] },
    ];
  }
  return event;
}
