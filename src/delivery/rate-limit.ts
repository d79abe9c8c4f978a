import { performance } from 'node:perf_hooks';

/**
 * A receiver profile's `rateLimit.perSecond` (README "Fitting a receiver"): no more than N
 * messages reach the receiver in any window of one second, across all of a subscription's
 * lanes. Each of N slots holds the time its last send was answered (or is in flight); a
 * send may go when some slot's answer is at least a second old. Timing the window from the
 * answer rather than the write keeps the limit true where it is measured, at the receiver:
 * a message arrives before it is answered, so two sends through one slot arrive at least a
 * second apart, whatever the connect time or network delay of the first.
 * Sends go in the order they asked (FIFO), so a lane's messages keep their order and no lane
 * starves another.
 */
export const WINDOW_MS = 1000;

export class RateLimiter {
  /** Per slot: when its last send was answered (performance.now()); Infinity while in flight. */
  private readonly slots: number[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private wake: (() => void) | undefined;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Resolves with a slot when a send may go out now. The caller must `release` it when the
   * send is answered (or failed). Resolves at once with a slot when `signal` aborts (the
   * caller is stopping and will not send).
   */
  acquire(signal: AbortSignal): Promise<number> {
    const turn = this.queue.then(() => this.take(signal));
    this.queue = turn;
    return turn;
  }

  /**
   * Waits for a slot (see `acquire`); `done()` must be called once the send is answered.
   * `waitedMs` is undefined when the send did not have to wait (under a millisecond).
   */
  async pass(signal: AbortSignal): Promise<{ waitedMs: number | undefined; done(): void }> {
    const asked = this.now();
    const slot = await this.acquire(signal);
    const waitedMs = this.now() - asked;
    return { waitedMs: waitedMs >= 1 ? waitedMs : undefined, done: () => this.release(slot) };
  }

  /** The send through `slot` was answered (or ended without an answer). */
  release(slot: number): void {
    this.slots[slot] = this.now();
    this.wake?.();
  }

  private async take(signal: AbortSignal): Promise<number> {
    for (;;) {
      if (this.slots.length < this.perSecond) return this.slots.push(Number.POSITIVE_INFINITY) - 1;
      let oldest = 0;
      for (let i = 1; i < this.slots.length; i++) if (this.slots[i]! < this.slots[oldest]!) oldest = i;
      const waitMs = this.slots[oldest]! + WINDOW_MS - this.now();
      if (waitMs <= 0 || signal.aborted) {
        this.slots[oldest] = Number.POSITIVE_INFINITY;
        return oldest;
      }
      await this.waitFor(Number.isFinite(waitMs) ? Math.ceil(waitMs) : undefined, signal);
    }
  }

  /** Until `ms` passed (when given), a slot is released, or `signal` aborts. */
  private waitFor(ms: number | undefined, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
