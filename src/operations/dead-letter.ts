import type { GetMessage } from 'amqplib';
import { OUTCOMES } from '../delivery/outcomes.js';
import { HOLD_KEY_HEADER } from '../hold/hold-names.js';

/** Header counting how often an event was replayed from its dead-letter queue (`replay`). */
export const REPLAYS_HEADER = 'x-mllp-replays';

/**
 * What the daemon wrote on a dead letter (README, "Delivery and outcomes"): the event id
 * (the AMQP message id) and the `x-mllp-*` headers. None of these carries patient data: the
 * reason names a path and a rule, never a value, and the body is never read here.
 */
export interface DeadLetterRecord {
  eventId: string | null;
  outcome: string;
  ackCode: string | null;
  controlId: string | null;
  attempts: number;
  /** `x-mllp-dead-lettered-at` (ISO 8601), null when absent or unreadable. */
  deadLetteredAt: string | null;
  reason: string;
  replays: number;
  /** The producer's routing key (`x-mllp-routing-key`), e.g. `patient.create`. */
  routingKey: string | null;
  /** Set when this dead letter held its patient (`x-mllp-hold-key`, docs/PATIENT-HOLD.md): the hold's key hash. */
  holdKey?: string;
}

export function readDeadLetter(message: Pick<GetMessage, 'properties'>): DeadLetterRecord {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const text = (key: string): string | null => {
    const value = headers[key];
    if (value === undefined || value === null || value === '') return null;
    return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  };
  const at = text('x-mllp-dead-lettered-at');
  const holdKey = text(HOLD_KEY_HEADER);
  const record: DeadLetterRecord = {
    eventId: typeof message.properties.messageId === 'string' ? message.properties.messageId : null,
    outcome: text('x-mllp-outcome') ?? 'unknown',
    ackCode: text('x-mllp-ack-code'),
    controlId: text('x-mllp-control-id'),
    attempts: Number(text('x-mllp-attempts') ?? 0) || 0,
    deadLetteredAt: at !== null && !Number.isNaN(Date.parse(at)) ? new Date(at).toISOString() : null,
    reason: text('x-mllp-reason') ?? 'unknown',
    replays: Number(text(REPLAYS_HEADER) ?? 0) || 0,
    routingKey: text('x-mllp-routing-key'),
  };
  if (holdKey !== null) record.holdKey = holdKey;
  return record;
}

/** Which dead letters `replay` takes; every set criterion must match (an empty filter takes all). */
export interface DeadLetterFilter {
  outcomes?: readonly string[];
  eventIds?: readonly string[];
  /** Dead-lettered at or after. */
  since?: Date;
  /** Dead-lettered before. */
  until?: Date;
  /** Case-insensitive substring of the reason. */
  reasonContains?: string;
}

export const DEAD_LETTER_OUTCOMES: readonly string[] = OUTCOMES.filter((outcome) => !['accepted', 'expired', 'filtered', 'skipped'].includes(outcome));

export function matchesFilter(record: DeadLetterRecord, filter: DeadLetterFilter): boolean {
  if (filter.outcomes?.length && !filter.outcomes.includes(record.outcome)) return false;
  if (filter.eventIds?.length && (record.eventId === null || !filter.eventIds.includes(record.eventId))) return false;
  if (filter.since || filter.until) {
    // A dead letter without a readable time matches no time window.
    if (record.deadLetteredAt === null) return false;
    const at = Date.parse(record.deadLetteredAt);
    if (filter.since && at < filter.since.getTime()) return false;
    if (filter.until && at >= filter.until.getTime()) return false;
  }
  if (filter.reasonContains !== undefined && !record.reason.toLowerCase().includes(filter.reasonContains.toLowerCase())) return false;
  return true;
}
