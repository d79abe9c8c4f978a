/**
 * Whether this process is the queue's single active consumer. RabbitMQ does not tell an
 * AMQP 0-9-1 consumer, so it is inferred: `active` once a delivery arrived on the current
 * connection (the broker only delivers to the active consumer, and stays with it);
 * `standby` when the queue holds ready messages on two polls in a row and none came to us;
 * `unknown` otherwise (e.g. an empty queue: active-and-idle and standby look the same).
 */
export type ConsumerRole = 'active' | 'standby' | 'unknown';

/** The inference above, fed with deliveries, queue polls and connection changes. Pure. */
export class ConsumerRoleTracker {
  private current: ConsumerRole = 'unknown';
  private deliveriesSincePoll = 0;
  private readyAtLastPoll = 0;

  constructor(private readonly onChange: (role: ConsumerRole) => void) {}

  get role(): ConsumerRole {
    return this.current;
  }

  /** A delivery arrived on the current connection. */
  delivered(): void {
    this.deliveriesSincePoll++;
    this.set('active');
  }

  /** The connection is gone or not consuming yet: who is active must be learnt again. */
  notConsuming(): void {
    this.deliveriesSincePoll = 0;
    this.readyAtLastPoll = 0;
    this.set('unknown');
  }

  /** A queue poll found `ready` messages waiting while this process consumes. */
  polled(ready: number): void {
    if (this.current !== 'active' && ready > 0 && this.readyAtLastPoll > 0 && this.deliveriesSincePoll === 0) this.set('standby');
    this.readyAtLastPoll = ready;
    this.deliveriesSincePoll = 0;
  }

  private set(role: ConsumerRole): void {
    if (this.current === role) return;
    this.current = role;
    this.onChange(role);
  }
}
