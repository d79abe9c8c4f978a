import type { Channel, Message } from 'amqplib';

/**
 * Acknowledges deliveries in batches: per event loop turn, one `basic.ack` with
 * `multiple = true` for the longest run of settled deliveries at the head of the channel's
 * delivery order, and single acks for those settled out of order (lanes, filtered events).
 * The broker then handles one frame where it had one per event.
 *
 * Only deliveries we settled are ever covered: the `multiple` ack names the last tag of the
 * settled run, which has not been acked before, and everything the broker still holds
 * below it was settled by us (acked singly earlier, or in this run).
 * One batcher per channel: delivery tags restart with every channel.
 */
export class AckBatcher {
  /** Delivery tags in the order the broker delivered them, from `head` on. */
  private readonly delivered: number[] = [];
  private head = 0;
  private readonly settled = new Set<number>();
  private readonly ackedSingly = new Set<number>();
  private scheduled = false;

  constructor(private readonly channel: Channel) {}

  /** Records a delivery as it arrives (in the broker's order). */
  received(deliveryTag: number): void {
    this.delivered.push(deliveryTag);
  }

  /** The event of this delivery is settled: acknowledge it (in this turn's batch). */
  ack(deliveryTag: number): void {
    this.settled.add(deliveryTag);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends the pending acks now. */
  flush(): void {
    this.scheduled = false;
    let upTo: number | undefined;
    while (this.head < this.delivered.length) {
      const tag = this.delivered[this.head]!;
      if (this.settled.delete(tag)) upTo = tag;
      else if (!this.ackedSingly.delete(tag)) break;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.delivered.length) {
      this.delivered.splice(0, this.head);
      this.head = 0;
    }
    try {
      if (upTo !== undefined) this.channel.ack(tagOnly(upTo), true);
      for (const tag of this.settled) {
        this.channel.ack(tagOnly(tag), false);
        this.ackedSingly.add(tag);
      }
    } catch {
      // The channel closed since these events settled: the broker has requeued them and
      // will deliver them again (the session drops this channel's deliveries as stale).
    }
    this.settled.clear();
  }
}

function tagOnly(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as unknown as Message;
}
