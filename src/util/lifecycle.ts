import type { Logger } from 'pino';

/**
 * The lifecycle contract of every long-lived part (broker session, subscription runner,
 * delivery stream, HTTP server, daemon; README "Running in production"):
 *
 * - `start()` begins the work and returns without waiting for the network;
 * - `stop()` is memoised (every call returns the same promise), safe in every state (never
 *   started, connecting, reconnect backoff, consuming, blocked by the broker, stopping),
 *   runs every one of its steps even when one fails or overruns (the failure is logged),
 *   never rejects, and settles within a deadline the part documents.
 */
export interface Lifecycle {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

/** One step of a stop: `deadlineMs` bounds how long the next step waits for it. */
export interface StopStep {
  name: string;
  run: () => unknown;
  deadlineMs?: number;
  /** Called when the step overran its deadline (e.g. destroy a socket). */
  onDeadline?: () => void;
}

/**
 * Runs the steps in order. A step that throws, rejects or overruns its deadline is logged
 * and the next step runs anyway; nothing is thrown. Resolves true when every step finished
 * in time and without error.
 */
export async function runSteps(logger: Logger, steps: readonly StopStep[]): Promise<boolean> {
  let clean = true;
  for (const step of steps) {
    try {
      const finished = await withDeadline(Promise.resolve().then(step.run), step.deadlineMs);
      if (!finished) {
        clean = false;
        logger.warn({ step: step.name, deadlineMs: step.deadlineMs }, 'stop step overran its deadline; going on with the next');
        step.onDeadline?.();
      }
    } catch (error) {
      clean = false;
      logger.error({ step: step.name, err: error instanceof Error ? error.message : String(error) }, 'stop step failed; going on with the next');
    }
  }
  return clean;
}

/**
 * Resolves true when `promise` fulfils within `ms`, false when the deadline passes first
 * (the promise keeps running); rejects when it rejects in time. No deadline: waits.
 */
export function withDeadline(promise: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  if (ms === undefined) return promise.then(() => true);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** A promise that resolves when `signal` aborts (at once if it already has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
