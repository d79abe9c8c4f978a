import type { JobResult } from '../delivery/job.js';
import type { Trigger } from '../mapping/profile.js';
import { withDefined } from '../util/with-defined.js';
import type { Settlement } from './settler.js';

/** How many events acknowledged by the receiver but not by us (connection lost) are remembered. */
const KEPT = 10_000;

/**
 * Events the receiver accepted whose AMQP ack was lost with the broker connection, by event
 * id: when the broker redelivers one, it is acknowledged without being sent again (the
 * receiver would only get a needless duplicate). The oldest is forgotten beyond `capacity`.
 */
export class AcceptedRedeliveries {
  private readonly accepted = new Map<string, Settlement>();

  constructor(private readonly capacity = KEPT) {}

  get size(): number {
    return this.accepted.size;
  }

  /** An event settled on a connection that is gone: remembered when the receiver accepted it. */
  remember(settlement: Settlement): void {
    if (settlement.outcome !== 'accepted' || !settlement.eventId) return;
    this.accepted.set(settlement.eventId, settlement);
    if (this.accepted.size > this.capacity) this.accepted.delete(this.accepted.keys().next().value!);
  }

  /**
   * The earlier result of a redelivered event, forgotten once taken. Asked when the
   * redelivered copy reaches the front of its lane, not when it arrives: the broker
   * redelivers at once, while the earlier copy may still wait for its ACK ahead of it.
   */
  take(eventId: string): JobResult | undefined {
    const earlier = this.accepted.get(eventId);
    if (earlier?.controlId == null || earlier.trigger == null) return undefined;
    this.accepted.delete(eventId);
    return withDefined(
      { outcome: 'accepted' as const, action: 'ack' as const, attempts: earlier.attempts, uncertainSends: 0, controlId: earlier.controlId, trigger: earlier.trigger as Trigger },
      { ackCode: earlier.ackCode ?? undefined, latencyMs: earlier.latencyMs ?? undefined },
    );
  }
}
