import { SingleBar } from 'cli-progress';

/** Progress of a long operator command: a bar on a terminal, plain lines otherwise. */
export interface ProgressReporter {
  update(done: number, detail: string): void;
  stop(): void;
}

/** Plain lines go out at most this often (and once at the end). */
const LINE_INTERVAL_MS = 1000;

/**
 * On a terminal (`stream.isTTY`), a cli-progress bar with the count, percentage, ETA and
 * `detail`; elsewhere (a log file, a CI job, a pipe) a line at most every second, e.g.
 * `replay: 120/500 (24%) replayed 100, skipped 20, failed 0`.
 */
export function progressReporter(label: string, total: number, stream: NodeJS.WritableStream & { isTTY?: boolean }): ProgressReporter {
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream: stream as NodeJS.WriteStream,
      format: `${label} [{bar}] {percentage}% {value}/{total} ETA {eta_formatted} {detail}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
    });
    bar.start(total, 0, { detail: '' });
    return {
      update: (done, detail) => bar.update(done, { detail }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  let pending: string | undefined;
  let first: { at: number; done: number } | undefined;
  const eta = (done: number): string => {
    first ??= { at: Date.now(), done };
    const rate = (done - first.done) / ((Date.now() - first.at) / 1000);
    return done < total && rate > 0 && Number.isFinite(rate) ? `, ETA ${Math.ceil((total - done) / rate)}s` : '';
  };
  const line = (done: number, detail: string) => `${label}: ${done}/${total} (${total === 0 ? 100 : Math.floor((done * 100) / total)}%${eta(done)}) ${detail}\n`;
  return {
    update: (done, detail) => {
      const now = Date.now();
      pending = line(done, detail);
      if (now - last >= LINE_INTERVAL_MS) {
        stream.write(pending);
        pending = undefined;
        last = now;
      }
    },
    stop: () => {
      if (pending !== undefined) stream.write(pending);
      pending = undefined;
    },
  };
}

/** A reporter made at the first update, when the total is known; `stop` is a no-op before. */
export function lazyProgress(label: string, stream: NodeJS.WritableStream & { isTTY?: boolean }): { update(total: number, done: number, detail: string): void; stop(): void } {
  let reporter: ProgressReporter | undefined;
  return {
    update: (total, done, detail) => {
      reporter ??= progressReporter(label, total, stream);
      reporter.update(done, detail);
    },
    stop: () => reporter?.stop(),
  };
}
