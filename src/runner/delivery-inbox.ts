import type { Delivery } from '../amqp/amqp-session.js';

/**
 * Deliveries handed on per turn of the event loop. More would delay the receiver's ACKs:
 * each delivery costs about 20 µs to decode and map, and the broker sends them in bursts
 * (one per batch of acks, AMQP_BACKLOG_WRITE_WINDOW_MS in src/amqp/coalesce-writes.ts).
 * Taken whole, a burst of 15 kept an ACK that arrived meanwhile waiting 300 µs for the
 * lane's next message; taken one per turn, the ACK waits for one delivery at most
 * (docs/PERFORMANCE.md, issue 18).
 */
export const DELIVERIES_PER_TURN = 1;

/**
 * The AMQP deliveries of a subscription that are waiting to be decoded and mapped, in
 * arrival order. They are handed to `take` in the check phase, not in amqplib's socket
 * callback, a few per turn of the event loop, so that between them the loop polls the
 * sockets: an ACK from the receiver is read, and the lane's next message written, before
 * the rest of a burst of deliveries is worked through. Order is kept: each delivery is
 * taken once, in the order pushed, with the time it was pushed.
 */
export class DeliveryInbox {
  private deliveries: Array<Delivery | undefined> = [];
  private receivedAt: number[] = [];
  private head = 0;
  private scheduled = false;

  constructor(
    private readonly take: (delivery: Delivery, receivedAt: number) => void,
    private readonly perTurn: number = DELIVERIES_PER_TURN,
  ) {}

  push(delivery: Delivery): void {
    this.deliveries.push(delivery);
    this.receivedAt.push(Date.now());
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.turn);
    }
  }

  /** Deliveries pushed and not yet taken. */
  get depth(): number {
    return this.deliveries.length - this.head;
  }

  /** When the oldest delivery not yet taken was pushed. */
  oldestReceivedAt(): number | undefined {
    return this.head < this.deliveries.length ? this.receivedAt[this.head] : undefined;
  }

  private readonly turn = (): void => {
    const end = Math.min(this.head + this.perTurn, this.deliveries.length);
    while (this.head < end) {
      const delivery = this.deliveries[this.head]!;
      const receivedAt = this.receivedAt[this.head]!;
      this.deliveries[this.head++] = undefined;
      this.take(delivery, receivedAt);
    }
    if (this.head < this.deliveries.length) {
      // Under a steady flow the inbox may never empty: drop what was taken now and then.
      if (this.head >= 1024) {
        this.deliveries = this.deliveries.slice(this.head);
        this.receivedAt = this.receivedAt.slice(this.head);
        this.head = 0;
      }
      setImmediate(this.turn);
      return;
    }
    this.scheduled = false;
    this.deliveries = [];
    this.receivedAt = [];
    this.head = 0;
  };
}
