import type { MessagePort } from 'node:worker_threads';

/** The side of a port this module posts to: a worker's parentPort or a Worker. */
export interface PostTarget {
  postMessage(value: unknown): void;
}

/**
 * Posts messages in batches: the items pushed before the scheduled flush runs leave
 * together, in push order, in one `postMessage`. Posting and waking the other thread costs
 * more than the structured clone of a few small objects.
 *
 * `schedule` decides how long a batch gathers: `queueMicrotask` (default) ends it with the
 * current callback; `setImmediate` ends it with the current turn of the event loop (e.g.
 * an ACK's attempt report and the settlement that follows in a later microtask).
 */
export class BatchedPort<T> {
  private pending: T[] = [];

  constructor(
    private readonly target: PostTarget | MessagePort,
    private readonly schedule: (flush: () => void) => void = queueMicrotask,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    if (this.pending.length === 1) this.schedule(() => this.flush());
  }

  /** Posts what is pending now (also called by the microtask). */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.target.postMessage(batch);
  }
}
