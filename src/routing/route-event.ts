import type { EventType, PatientEvent } from '../event/patient-event.js';
import type { WhenCriteria } from './when/index.js';

/** The routing part of a subscription (README "Subscriptions": `events`, `when`, `notBefore`, `notAfter`). */
export interface RouteRules {
  events: ReadonlySet<EventType>;
  when: WhenCriteria;
  notBefore?: Date;
  notAfter?: Date;
}

export type RouteDecision = { kind: 'deliver' } | { kind: 'filtered' | 'expired'; reason: string };

const DELIVER: RouteDecision = { kind: 'deliver' };

/**
 * Decides whether a subscription sends an event. The delivery window is checked first, at
 * dispatch time (`now`): outside it the endpoint takes nothing, whatever the event.
 * Reasons name the rule, never event values.
 */
export function routeEvent(event: PatientEvent, rules: RouteRules, now: Date): RouteDecision {
  const time = now.getTime();
  if (rules.notBefore && time < rules.notBefore.getTime()) {
    return { kind: 'expired', reason: `before the subscription's notBefore (${rules.notBefore.toISOString()})` };
  }
  if (rules.notAfter && time > rules.notAfter.getTime()) {
    return { kind: 'expired', reason: `after the subscription's notAfter (${rules.notAfter.toISOString()})` };
  }
  if (!rules.events.has(event.type)) return { kind: 'filtered', reason: `event type ${event.type} is not in events` };
  if (!rules.when.matches(event, now)) return { kind: 'filtered', reason: 'when criteria do not match' };
  return DELIVER;
}
