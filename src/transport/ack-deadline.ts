/**
 * One timer for the ACK timeouts of a connection's sends, in place of a timer per send.
 *
 * Messages follow each other every few hundred microseconds while the ACK timeout is seconds
 * long: setting and clearing a timer per message costs more than the rest of the send's
 * bookkeeping. Here a send only says when its time is up (`watch`); the one timer fires at
 * the earliest deadline it was armed for and asks `check` whether the send now in flight is
 * overdue. `check` settles it if so and returns nothing, or returns the milliseconds left for
 * a later send, and the timer is armed again for them. The timer is unref'd: an idle
 * client does not keep the process alive (a send in flight has its socket for that).
 */
export class AckDeadline {
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() at which the armed timer fires. */
  private firesAt = Infinity;

  constructor(private readonly check: () => number | undefined) {}

  /** A send is in flight until `deadline` (a performance.now() time). */
  watch(deadline: number): void {
    // Armed for this deadline or earlier: when it fires, the check re-arms for the rest.
    if (this.timer !== undefined && this.firesAt <= deadline) return;
    this.arm(deadline - performance.now());
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.firesAt = Infinity;
  }

  private arm(delayMs: number): void {
    this.stop();
    const delay = Math.max(0, Math.ceil(delayMs));
    this.firesAt = performance.now() + delay;
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.firesAt = Infinity;
    const left = this.check();
    if (left !== undefined) this.arm(left);
  }
}
