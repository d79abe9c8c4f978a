import type { EventDecoder } from '../event/decode-event.js';
import type { ReferenceEvent } from '../event/decode-reference-event.js';
import type { PatientEvent } from '../event/patient-event.js';
import { rfc3339ToHl7 } from '../hl7/timestamp.js';
import { observedRead, type FetchObserver, type FetchOutcome, type FhirSources, type LocatedReference } from './fhir-client.js';
import { resolveLink } from './resolve-link.js';

/**
 * What resolving one reference event came to:
 * - `event`: the envelope event built from the fetched Patient, validated by the envelope
 *   decoder (so an identifier without an authority is refused exactly as for envelope events);
 * - `invalid`: dead-letter as `invalid-event` (no configured source, 404/410 for a created
 *   or updated Patient, a fetched Patient that is not a valid event);
 * - `wait`: the stream waits and retries this event in place (401/403, 5xx, timeouts,
 *   connection errors, an answer that is not a Patient).
 */
export type Resolution =
  | { kind: 'event'; event: PatientEvent }
  | { kind: 'invalid'; reason: string }
  /** Acknowledged without sending: a link that is no merge. */
  | { kind: 'filtered'; reason: string }
  | { kind: 'wait'; outcome: Exclude<FetchOutcome, 'found' | 'not-found'>; reason: string };

/**
 * Reads the Patient a reference event names — the version it names (vread
 * `_history/<resourceVersion>`), else the current one — and builds the envelope event.
 * A deleted Patient needs no more than its last version, or the reference alone when the
 * server no longer has it (404/410): enough for the A38 of subscriptions that send one.
 */
export async function resolveReference(
  event: ReferenceEvent,
  sources: FhirSources,
  decodeEvent: EventDecoder,
  observer: FetchObserver,
  receivedAt: number,
  signal?: AbortSignal,
): Promise<Resolution> {
  const located = sources.locate(event.reference);
  if (!located) return { kind: 'invalid', reason: 'resourceReference matches no configured fhirSources baseUrl (the daemon reads no other URL)' };
  if (event.type === 'merge') {
    const link = await resolveLink(event, located, sources, observer, signal);
    if (link.kind === 'wait') return { kind: 'wait', outcome: link.result.outcome as WaitOutcome, reason: link.result.reason };
    if (link.kind !== 'merge') return link;
    return validated({ id: event.id, type: 'merge', occurredAt: occurredAt(link.patient, event, receivedAt), patient: link.patient, replaced: link.replaced }, decodeEvent);
  }
  const version = event.version ?? located.version;
  const result = await observedRead(located, version, observer, signal);
  let patient: Record<string, unknown>;
  if (result.outcome === 'found') {
    patient = result.resource;
  } else if (result.outcome === 'not-found') {
    if (event.type !== 'delete') return { kind: 'invalid', reason: `the FHIR server has no such Patient${version === undefined ? '' : ' version'} (${result.status ?? 'not found'})` };
    patient = referenceOnlyPatient(located);
  } else {
    return { kind: 'wait', outcome: result.outcome, reason: result.reason };
  }
  return validated({ id: event.id, type: event.type, occurredAt: occurredAt(patient, event, receivedAt), patient }, decodeEvent);
}

type WaitOutcome = Extract<Resolution, { kind: 'wait' }>['outcome'];

/** The envelope event, validated by the envelope decoder (the same rules as for events that carry the Patient). */
function validated(envelope: Record<string, unknown>, decodeEvent: EventDecoder): Resolution {
  const decoded = decodeEvent(Buffer.from(JSON.stringify(envelope)));
  if (!decoded.ok) return { kind: 'invalid', reason: `fetched Patient: ${decoded.reason}` };
  return { kind: 'event', event: decoded.event };
}

/**
 * A Patient known only by its reference: one identifier whose system is the server's
 * Patient endpoint (`<baseUrl>Patient`) and whose value is the logical id. Map that system
 * to a namespace with `hl7.assigningAuthorities` to name it in PID-3.
 */
function referenceOnlyPatient(located: LocatedReference): Record<string, unknown> {
  return { resourceType: 'Patient', id: located.id, identifier: [{ system: `${located.base}${located.type}`, value: located.id }] };
}

/**
 * EVN-6: when the version was made (`meta.lastUpdated`), else when the event was published
 * (AMQP `timestamp`), else when the daemon received it.
 */
function occurredAt(patient: Record<string, unknown>, event: ReferenceEvent, receivedAt: number): string {
  const lastUpdated = (patient.meta as { lastUpdated?: unknown } | undefined)?.lastUpdated;
  if (typeof lastUpdated === 'string' && lastUpdated.length >= 20 && rfc3339ToHl7(lastUpdated) !== undefined) return lastUpdated;
  return new Date(event.publishedAt ?? receivedAt).toISOString();
}
