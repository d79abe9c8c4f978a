import type { ChannelModel } from 'amqplib';

interface Mux {
  scheduledRead: boolean;
  _readIncoming(): void;
  _scheduleRead(): void;
}

interface AmqplibInternals {
  connection?: {
    stream?: { cork?: () => void; uncork?: () => void };
    muxer?: Partial<Mux>;
  };
}

/**
 * How long frames may gather before they are written while a backlog is being worked off:
 * the acks, receipts and dead letters of the events settled within these milliseconds go
 * to the broker in one system call, and the broker handles them as one batch (and confirms
 * the receipts with one frame). 1 ms cut the CPU both sides spend per event by a fifth
 * against none; 2 ms by another fifth of the daemon's (docs/PERFORMANCE.md, issue 18). The
 * cost, an ack or receipt up to this much later, is only paid when events are waiting
 * anyway, and is far below what the prefetch window holds (64 events, over 10 ms of work).
 */
export const AMQP_BACKLOG_WRITE_WINDOW_MS = 2;

/**
 * Whether `waiting` events (received, not yet settled) are a backlog worth the write window:
 * more than two per lane, plus a few. Below that, the events behind the ones in flight are
 * the ordinary overlap of a steady flow (at 1,000/s about one event in two arrives while
 * another is in flight), and holding their acks and receipts back would only add latency:
 * p99 publish -> receipt at 1,000/s was 3.05 to 5.02 ms with this rule against 4.43 to
 * 6.86 ms with "more than one per lane", in four paired runs (docs/PERFORMANCE.md, issue
 * 18). A drain keeps its whole prefetch waiting (at least 64, and 16 per lane), far above.
 */
export function isBacklog(waiting: number, lanes: number): boolean {
  return waiting > 2 * lanes + 4;
}

/**
 * Batches amqplib's socket writes. amqplib gathers the frames of every channel and flushes
 * them from a `setImmediate` (its Mux), one `write()` per frame. Here the socket is corked
 * around that flush so the frames leave in one `writev`, and while `backlog()` says events
 * are waiting the flush waits AMQP_BACKLOG_WRITE_WINDOW_MS so that more frames join it.
 * When idle, frames leave at once (no added latency). Frames and their order are unchanged.
 *
 * Relies on amqplib internals (`connection.muxer`, `connection.stream`), checked for amqplib
 * 2.3.1 (pinned in package.json); if they are missing, nothing changes and it returns false.
 */
export function coalesceWrites(model: ChannelModel, backlog: () => boolean = () => false): boolean {
  const connection = (model as unknown as AmqplibInternals).connection;
  const stream = connection?.stream;
  const muxer = connection?.muxer;
  const flush = muxer?._readIncoming;
  if (!stream?.cork || !stream.uncork || !muxer || typeof flush !== 'function' || typeof muxer._scheduleRead !== 'function') return false;
  const mux = muxer as Mux;
  mux._readIncoming = function readIncomingCorked(this: Mux) {
    stream.cork!();
    try {
      flush.call(this);
    } finally {
      stream.uncork!();
    }
  };
  mux._scheduleRead = function scheduleReadAfterWindow(this: Mux) {
    if (this.scheduledRead) return;
    this.scheduledRead = true;
    const run = () => {
      this.scheduledRead = false;
      this._readIncoming();
    };
    if (backlog()) setTimeout(run, AMQP_BACKLOG_WRITE_WINDOW_MS);
    else setImmediate(run);
  };
  return true;
}
