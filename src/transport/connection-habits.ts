/**
 * A receiver profile's `connection` (README "Fitting a receiver"): how long an MLLP
 * connection lives.
 * - `persistent` (default): kept open for the next message; with `idleCloseMs` > 0 it is
 *   closed after that long without a send (and reopened by the next one), for receivers
 *   behind firewalls that drop idle connections silently;
 * - `per-message`: connect, send, read the ACK, close, for receivers that expect it.
 * Nothing is closed while a message is in flight or an application ACK is due.
 */
export interface ConnectionHabits {
  readonly mode: 'persistent' | 'per-message';
  /** 0 = never close an idle persistent connection. */
  readonly idleCloseMs: number;
}

export class ConnectionKeeper {
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly habits: ConnectionHabits | undefined,
    /** Closes the current connection (if any) with a reason for the log. */
    private readonly close: (reason: string) => void,
    /** Whether a message is in flight or an application ACK is due on the connection. */
    private readonly busy: () => boolean,
  ) {}

  /** A send starts: an idle close pending is called off. */
  sending(): void {
    clearTimeout(this.idleTimer);
  }

  /** A send has settled. */
  settled(): void {
    const habits = this.habits;
    if (!habits) return;
    if (habits.mode === 'per-message') {
      if (!this.busy()) this.close('per-message connection: closed after the ACK');
      return;
    }
    if (habits.idleCloseMs <= 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (!this.busy()) this.close(`idle for ${habits.idleCloseMs} ms (connection.idleCloseMs)`);
    }, habits.idleCloseMs);
    this.idleTimer.unref();
  }

  stop(): void {
    clearTimeout(this.idleTimer);
  }
}
