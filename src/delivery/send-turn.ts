/**
 * The right to send on one lane's connection, which carries one message at a time: held by
 * the lane's run loop, or by a retry from its pipeline of jobs waiting for their application
 * ACK (enhanced mode, README "Acknowledgment modes"). Waiters get it in the order they asked.
 */
export class SendTurn {
  private held = false;
  private waiters: Array<() => void> = [];

  /**
   * Takes the turn. Returns undefined when it was free (taken at once, without a microtask),
   * or a promise that resolves when it is handed over.
   */
  acquire(): Promise<void> | undefined {
    if (!this.held) {
      this.held = true;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Hands the turn to the next waiter, or frees it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}
