/**
 * Waits `ms`, or less if `signal` aborts first (then it resolves at once; it never rejects).
 * The timer does not outlive the wait. Callers tell an aborted wait by the signal.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
