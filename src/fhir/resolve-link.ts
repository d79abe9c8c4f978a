import type { ReferenceEvent } from '../event/decode-reference-event.js';
import { observedRead, type FetchObserver, type FetchResult, type FhirSources, type LocatedReference } from './fhir-client.js';

/**
 * A merge from an `EHealthReferenceEvent` that added `Patient.link` entries (README,
 * "Reference events"): which record survives is in each added link's `type`, read from the
 * version of the resource the event names:
 * - `replaced-by` (the resource is the non-surviving record): one added link; the survivor
 *   is the linked Patient (its current version), the resource is the replaced record;
 * - `replaces` (the resource is the survivor): the linked Patients are the replaced records.
 * Links of type `refer` or `seealso` are no merge (`filtered`).
 */
export type LinkResolution =
  | { kind: 'merge'; patient: Record<string, unknown>; replaced: Array<Record<string, unknown>> }
  | { kind: 'filtered'; reason: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'wait'; result: Exclude<FetchResult, { outcome: 'found' }> };

type Read = (located: LocatedReference, version: string | undefined) => Promise<FetchResult>;

export async function resolveLink(event: ReferenceEvent, located: LocatedReference, sources: FhirSources, observer: FetchObserver, signal?: AbortSignal): Promise<LinkResolution> {
  const read: Read = (target, version) => observedRead(target, version, observer, signal);
  const targets: LocatedReference[] = [];
  for (const reference of event.linked ?? []) {
    const target = sources.locate(reference);
    if (!target) return { kind: 'invalid', reason: 'references: a linked Patient matches no configured fhirSources baseUrl (the daemon reads no other URL)' };
    targets.push(target);
  }
  const own = await read(located, event.version ?? located.version);
  if (own.outcome === 'not-found') return { kind: 'invalid', reason: `the FHIR server has no such Patient${event.version === undefined ? '' : ' version'} (${own.status ?? 'not found'})` };
  if (own.outcome !== 'found') return { kind: 'wait', result: own };
  const types = targets.map((target) => linkTypeTo(own.resource, target));
  if (types.some((type) => type === undefined)) return { kind: 'invalid', reason: 'the Patient version read has no link to a Patient the event names' };
  if (types.every((type) => type === 'refer' || type === 'seealso')) return { kind: 'filtered', reason: 'Patient.link of type refer or seealso is no merge' };
  if (types.length === 1 && types[0] === 'replaced-by') {
    const survivor = await readLinked(read, targets[0]!);
    return 'kind' in survivor ? survivor : { kind: 'merge', patient: survivor.resource, replaced: [own.resource] };
  }
  if (types.every((type) => type === 'replaces')) {
    const replaced: Array<Record<string, unknown>> = [];
    for (const target of targets) {
      const record = await readLinked(read, target);
      if ('kind' in record) return record;
      replaced.push(record.resource);
    }
    return { kind: 'merge', patient: own.resource, replaced };
  }
  return { kind: 'invalid', reason: 'the added links mix types (replaces, replaced-by, refer, seealso): no single surviving record' };
}

async function readLinked(read: Read, target: LocatedReference): Promise<{ resource: Record<string, unknown> } | Exclude<LinkResolution, { kind: 'merge' }>> {
  const result = await read(target, target.version);
  if (result.outcome === 'found') return { resource: result.resource };
  if (result.outcome === 'not-found') return { kind: 'invalid', reason: `the FHIR server has no linked Patient (${result.status ?? 'not found'})` };
  return { kind: 'wait', result };
}

/** The `type` of the link in `patient` whose `other.reference` (absolute, or relative to the source's base) names `target`. */
function linkTypeTo(patient: Record<string, unknown>, target: LocatedReference): string | undefined {
  const links = Array.isArray(patient.link) ? (patient.link as Array<{ other?: { reference?: unknown }; type?: unknown }>) : [];
  const wanted = `${target.base}${target.type}/${target.id}`;
  for (const link of links) {
    const reference = link.other?.reference;
    if (typeof reference !== 'string') continue;
    let absolute: string;
    try {
      absolute = new URL(reference, target.base).href.replace(/\/_history\/[^/]+$/, '');
    } catch {
      continue;
    }
    if (absolute === wanted && typeof link.type === 'string') return link.type;
  }
  return undefined;
}
