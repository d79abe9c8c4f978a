/**
 * Shared by the lanes of one subscription: they all talk to one receiver. When a lane finds
 * the receiver unreachable it takes the gate and keeps probing with backoff; the other
 * lanes wait at the gate instead of each hammering a receiver that is down, and all resume
 * when the probing lane gets through.
 */
export class ReceiverGate {
  private owner: number | undefined;
  private waiters: Array<() => void> = [];

  /** True when another lane holds the gate. */
  isClosedFor(lane: number): boolean {
    return this.owner !== undefined && this.owner !== lane;
  }

  close(lane: number): void {
    if (this.owner === undefined) this.owner = lane;
  }

  open(lane: number): void {
    if (this.owner === lane) this.openAll();
  }

  /** Opens the gate whoever holds it (shutdown, or the holding lane stopped). */
  openAll(): void {
    this.owner = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  wait(): Promise<void> {
    if (this.owner === undefined) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
