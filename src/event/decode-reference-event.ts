import { createHash } from 'node:crypto';
import type { MessageProperties } from 'amqplib';

/**
 * Reference events (README, "Reference events"): an event that names a FHIR resource
 * instead of carrying it, in the shape of the Danish eHealth infrastructure's Event Model
 * (`EHealthSimpleEvent`, `EHealthReferenceEvent`). Recognised per message by its
 * `messageType` in the body, or the `messagetype` AMQP header when the body has none.
 * The body's values win over the headers' (as the body's `type` wins over the routing key
 * for envelope events); headers fill what the body leaves out.
 *
 * Reasons name fields and rules, never values (a reference holds the patient's id).
 */
export interface ReferenceEvent {
  /** AMQP `message_id`, else derived from the event's facts, so MSH-10 is stable across redeliveries. */
  id: string;
  messageType: 'EHealthSimpleEvent' | 'EHealthReferenceEvent';
  /** `merge`: an `EHealthReferenceEvent` that added `Patient.link` entries. */
  type: 'create' | 'update' | 'delete' | 'merge';
  /** Absolute URL of the resource (`resourceReference`). */
  reference: string;
  /** `resourceVersion`: for created/updated the version after the change, for deleted the version before. */
  version?: string;
  /** Merges: the Patients (absolute URLs) the added links point to (`references`). */
  linked?: string[];
  /** AMQP `timestamp` (ms), used for EVN-6 when the resource has no `meta.lastUpdated`. */
  publishedAt?: number;
}

export type ReferenceDecodeResult =
  | { kind: 'not-reference' }
  | { kind: 'reference'; event: ReferenceEvent }
  /** Acknowledged without sending (outcome `filtered`): a reference event that is not a patient change. */
  | { kind: 'ignored'; eventId: string | null; reason: string }
  | { kind: 'invalid'; eventId: string | null; reason: string };

const SIMPLE_EVENT_TYPES: Readonly<Record<string, ReferenceEvent['type']>> = { created: 'create', updated: 'update', deleted: 'delete' };
const MESSAGE_TYPE_MARK = Buffer.from('"messageType"');
/** A notification names a resource; anything larger is not one (and is not parsed as one). */
const MAX_REFERENCE_EVENT_BYTES = 65_536;

/**
 * Decides whether a body is a reference event and reads it. `not-reference` sends the body
 * on to the envelope decoder (decode-event.ts) untouched. Cheap for envelope events: the
 * body is parsed here only when it holds `"messageType"` or the header says so.
 */
export function decodeReferenceEvent(body: Buffer, properties: Partial<Pick<MessageProperties, 'headers' | 'messageId' | 'timestamp'>>): ReferenceDecodeResult {
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const headerType = headerString(headers, 'messagetype');
  if (headerType === undefined && !body.includes(MESSAGE_TYPE_MARK)) return { kind: 'not-reference' };
  if (headerType !== undefined && body.length > MAX_REFERENCE_EVENT_BYTES) {
    return { kind: 'invalid', eventId: properties.messageId || null, reason: `reference event body is ${body.length} bytes, over ${MAX_REFERENCE_EVENT_BYTES}` };
  }
  // A large body without the header is left to the envelope decoder and its size limit.
  if (body.length > MAX_REFERENCE_EVENT_BYTES) return { kind: 'not-reference' };
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    value = undefined;
  }
  const fields = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  if (fields === undefined && headerType === undefined) return { kind: 'not-reference' };
  const messageType = bodyOrHeader(fields, 'messageType', headers, 'messagetype');
  if (messageType === undefined) return { kind: 'not-reference' };
  const messageId = typeof properties.messageId === 'string' && properties.messageId !== '' ? properties.messageId : null;
  if (fields === undefined) return { kind: 'invalid', eventId: messageId, reason: `${messageType === 'EHealthSimpleEvent' || messageType === 'EHealthReferenceEvent' ? messageType : 'reference event'} body is not a JSON object` };
  const eventType = bodyOrHeader(fields, 'eventType', headers, 'eventtype');
  const reference = bodyOrHeader(fields, 'resourceReference', headers, 'resourcereference');
  const version = bodyOrHeader(fields, 'resourceVersion', headers, 'resourceversion');
  const linkedIds = Array.isArray(fields.references) ? fields.references.map(String).join(' ') : undefined;
  const eventId = messageId ?? derivedId([messageType, eventType, reference, version, linkedIds]);
  const invalid = (reason: string): ReferenceDecodeResult => ({ kind: 'invalid', eventId, reason });

  if (messageType !== 'EHealthSimpleEvent' && messageType !== 'EHealthReferenceEvent') return invalid('messageType is not one of EHealthSimpleEvent, EHealthReferenceEvent');
  const messageVersion = bodyOrHeader(fields, 'messageVersion', headers, 'messageversion');
  if (messageVersion !== undefined && !/^1(\.\d+)?$/.test(messageVersion)) return invalid('messageVersion must be 1.x');
  if (eventType === undefined) return invalid('eventType is required');
  if (reference === undefined) return invalid('resourceReference is required');
  const resourceType = resourceTypeOf(reference);
  if (resourceType === undefined) return invalid('resourceReference must be an absolute URL ending in <type>/<id>');
  if (resourceType !== 'Patient') {
    // The type name is no patient data; it tells the operator which producer is wired wrong.
    return invalid(`resourceReference names a ${resourceType}, not a Patient; only Patient events are taken`);
  }
  if (version !== undefined && !/^[A-Za-z0-9.-]{1,64}$/.test(version)) return invalid('resourceVersion must be a FHIR version id ([A-Za-z0-9.-], at most 64)');
  const timestamp = typeof properties.timestamp === 'number' && properties.timestamp > 0 ? { publishedAt: properties.timestamp * 1000 } : {};
  const versioned = version === undefined ? {} : { version };
  if (messageType === 'EHealthReferenceEvent') {
    const element = bodyOrHeader(fields, 'resourceElement', headers, 'resourceelement');
    if (element !== 'link' && element !== 'Patient.link') {
      return { kind: 'ignored', eventId, reason: 'EHealthReferenceEvent that is not about Patient.link (the Patient itself changes with an EHealthSimpleEvent)' };
    }
    if (eventType === 'reference_removed') {
      // The removed link's type (who survived) is gone from the resource: an unmerge cannot
      // be derived (docs/DECISIONS.md, "Reference events").
      return invalid('EHealthReferenceEvent reference_removed on Patient.link is not turned into an unmerge; publish unmerges as envelope events');
    }
    if (eventType !== 'reference_added') return invalid('eventType is not one of reference_added, reference_removed');
    const linked = fields.references;
    if (!Array.isArray(linked) || linked.length === 0 || linked.some((entry) => typeof entry !== 'string' || resourceTypeOf(entry) !== 'Patient')) {
      return invalid('references must list at least one absolute Patient reference');
    }
    return { kind: 'reference', event: { id: eventId, messageType, type: 'merge', reference, ...versioned, linked: linked as string[], ...timestamp } };
  }
  const type = SIMPLE_EVENT_TYPES[eventType];
  if (type === undefined) return invalid('eventType is not one of created, updated, deleted');
  return { kind: 'reference', event: { id: eventId, messageType, type, reference, ...versioned, ...timestamp } };
}

/** The resource type of an absolute reference `.../<Type>/<id>[/_history/<v>]`, if it has that shape. */
function resourceTypeOf(reference: string | undefined): string | undefined {
  if (reference === undefined) return undefined;
  let path: string;
  try {
    path = new URL(reference).pathname;
  } catch {
    return undefined;
  }
  const match = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9.-]{1,64}(?:\/_history\/[A-Za-z0-9.-]{1,64})?$/.exec(path);
  return match?.[1];
}

function bodyOrHeader(fields: Record<string, unknown> | undefined, key: string, headers: Record<string, unknown>, header: string): string | undefined {
  const value = fields?.[key];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return headerString(headers, header);
}

function headerString(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  if (typeof value === 'string' && value !== '') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8') || undefined;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** `ref-` + 24 hex digits of SHA-256 over the facts: the same event always gets the same id. */
function derivedId(parts: Array<string | undefined>): string {
  return `ref-${createHash('sha256').update(parts.map((part) => part ?? '').join('\u0000')).digest('hex').slice(0, 24)}`;
}
