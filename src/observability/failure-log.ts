import type { Logger } from 'pino';

/**
 * Keeps a receiver that fails the same way for an hour from writing a line per retry.
 * The first failure of a kind is logged at warn with its details; identical ones after it
 * go to debug and are counted; every `summaryIntervalMs` a warn line summarises them; the
 * first success after failures logs one info line saying how long it lasted.
 * "The same way" means the same outcome and reason.
 */
export class FailureLog {
  private current: { key: string; outcome: string; reason: string; since: number; count: number; summarisedAt: number; summarisedCount: number } | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly summaryIntervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True between a failure and the next success. */
  get failing(): boolean {
    return this.current !== undefined;
  }

  failure(outcome: string, reason: string, fields: Record<string, unknown>, message: string): void {
    const key = `${outcome}\u0000${reason}`;
    const now = this.now();
    const current = this.current;
    if (current?.key === key) {
      current.count++;
      this.logger.debug({ ...fields, outcome, reason }, message);
      if (now - current.summarisedAt >= this.summaryIntervalMs) {
        this.logger.warn(
          { outcome, reason, failures: current.count, failuresSinceLastSummary: current.count - current.summarisedCount, failingForMs: now - current.since },
          `still failing: ${message}`,
        );
        current.summarisedAt = now;
        current.summarisedCount = current.count;
      }
      return;
    }
    this.logger.warn({ ...fields, outcome, reason }, message);
    this.current = { key, outcome, reason, since: current?.since ?? now, count: 1, summarisedAt: now, summarisedCount: 1 };
  }

  success(fields: Record<string, unknown>, message: string): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    this.logger.info({ ...fields, failures: current.count, failingForMs: this.now() - current.since, lastOutcome: current.outcome }, message);
  }
}
