import type { SubscriptionConfig } from '../config/subscription.js';
import type { PatientEvent } from '../event/patient-event.js';
import type { Outcome } from '../delivery/outcomes.js';
import type { Resolved } from '../fhir/resolution-stage.js';
import { buildMessages } from '../mapping/build-messages.js';
import type { OutboundMessage } from '../mapping/profile.js';
import { routeEvent } from '../routing/route-event.js';

/** What becomes of one delivery before anything is sent (README "Delivery and outcomes"). */
export type Prepared =
  /** Send these messages, in order. */
  | { kind: 'send'; event: PatientEvent; messages: OutboundMessage[] }
  /** Settle at once: bad input is dead-lettered; filtered, expired and skipped events are acked. */
  | { kind: 'settle'; outcome: Extract<Outcome, 'invalid-event' | 'filtered' | 'expired' | 'skipped'>; action: 'ack' | 'dead-letter'; reason: string; eventId: string | null };

/**
 * Route (window, events, when) -> map to ADT, for what the resolution stage decoded
 * (src/fhir/resolution-stage.ts: envelope events, and reference events read from their FHIR
 * source). Pure: no broker, no socket, no log; `now` is the dispatch time. Reasons name the
 * rule or the path, never a value. A mapper that throws (a bug) must not stop the feed: the
 * event is dead-lettered as invalid with the error's name only (its message could quote data).
 */
export function prepareEvent(resolved: Resolved, subscription: SubscriptionConfig, now: Date): Prepared {
  if (!resolved.ok) {
    const action = resolved.outcome === 'filtered' ? 'ack' : 'dead-letter';
    return { kind: 'settle', outcome: resolved.outcome, action, reason: resolved.reason, eventId: resolved.eventId };
  }
  const event = resolved.event;
  const route = routeEvent(event, subscription, now);
  if (route.kind !== 'deliver') return { kind: 'settle', outcome: route.kind, action: 'ack', reason: route.reason, eventId: event.id };
  try {
    const mapped = buildMessages(event, subscription.mapping, { now, utcOffsetMinutes: -now.getTimezoneOffset() });
    if (mapped.kind === 'skipped') return { kind: 'settle', outcome: 'skipped', action: 'ack', reason: mapped.reason, eventId: event.id };
    if (mapped.kind === 'invalid') return { kind: 'settle', outcome: 'invalid-event', action: 'dead-letter', reason: mapped.reason, eventId: event.id };
    return { kind: 'send', event, messages: mapped.messages };
  } catch (error) {
    return { kind: 'settle', outcome: 'invalid-event', action: 'dead-letter', reason: `could not be mapped to HL7 (${(error as Error).name})`, eventId: event.id };
  }
}
