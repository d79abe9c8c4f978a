import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../../package-paths.js';
import type { PostTarget } from './batched-port.js';
import type { DeliveryStreamSettings, FromThread, FromThreadPost, ToThread, ToThreadPost } from './protocol.js';

/** V8 young-generation size of the delivery thread (see the Worker's resourceLimits). */
const DELIVERY_THREAD_YOUNG_GENERATION_MB = 8;

/** A stream's side of the thread: its batches, and the thread's death. */
export interface ThreadClient {
  onBatch(batch: FromThread[]): void;
  onCrash(error: Error): void;
}

/** A stream opened on the thread: post its batches to `target`; `close()` once it has stopped. */
export interface OpenStream {
  readonly target: PostTarget;
  close(): Promise<void>;
}

/**
 * The one worker thread that runs the lanes of every subscription with `lanes` > 1 in this
 * process (README "A thread for the lanes"). Each subscription is a stream of its own on it
 * (its own LaneServer, lanes, connections and batches, named by a number in every post), so
 * a subscription whose receiver is slow or down holds up no other: they only share the
 * thread's event loop, on which all of them wait on sockets and timers, never on each other.
 * One thread instead of one per subscription: each thread is a V8 isolate of its own, about
 * 10 MB (docs/PERFORMANCE.md, issue 15).
 *
 * The thread starts with the first stream and ends with the last one. If it dies (a bug),
 * every stream on it is told; the next stream opened starts a new thread.
 */
export class DeliveryThread {
  /** The thread every DeliveryStream uses unless it is given one. */
  static readonly shared = new DeliveryThread();

  private worker: Worker | undefined;
  private readonly clients = new Map<number, ThreadClient>();
  private nextStream = 1;

  /** Streams open now (for tests and metrics). */
  get streams(): number {
    return this.clients.size;
  }

  /** Whether the thread is running. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  open(settings: DeliveryStreamSettings, client: ThreadClient): OpenStream {
    const worker = (this.worker ??= this.startWorker());
    const stream = this.nextStream++;
    this.clients.set(stream, client);
    const post = (message: ToThreadPost) => worker.postMessage(message);
    post({ stream, open: settings });
    return {
      target: { postMessage: (batch: unknown) => post({ stream, batch: batch as ToThread[] }) },
      close: () => this.close(stream, worker),
    };
  }

  private async close(stream: number, worker: Worker): Promise<void> {
    if (!this.clients.delete(stream) || this.worker !== worker) return;
    if (this.clients.size > 0) {
      worker.postMessage({ stream, close: true } satisfies ToThreadPost);
      return;
    }
    this.worker = undefined;
    await worker.terminate();
  }

  private startWorker(): Worker {
    const worker = new Worker(threadEntry(), {
      name: 'mllp-dispatcher lanes',
      // The thread keeps only the jobs in flight: a small young generation is plenty, and
      // each MB of it is memory the daemon holds.
      resourceLimits: { maxYoungGenerationSizeMb: DELIVERY_THREAD_YOUNG_GENERATION_MB },
    });
    worker.on('message', (post: FromThreadPost) => this.clients.get(post.stream)?.onBatch(post.batch));
    worker.on('error', (error) => this.crashed(worker, error));
    worker.on('exit', (code) => this.crashed(worker, new Error(`delivery thread exited with code ${code}`)));
    // The thread must not keep the process alive on its own (the daemon's stop ends streams).
    worker.unref();
    return worker;
  }

  /** The thread ended without being asked to: every stream on it is told, and forgotten. */
  private crashed(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const clients = [...this.clients.values()];
    this.clients.clear();
    for (const client of clients) client.onCrash(error);
  }
}

/**
 * The compiled thread entry beside this module. Under vitest the project's modules are the
 * TypeScript sources, which a worker thread cannot load; the thread then runs the compiled
 * copy in dist/ (`npm test` builds it first).
 */
function threadEntry(): URL {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new URL('./thread-entry.js', import.meta.url);
  const compiled = join(PACKAGE_ROOT, 'dist', relative(join(PACKAGE_ROOT, 'src'), join(here, '..')), 'thread-entry.js');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: build first (npm run build)`);
  return pathToFileURL(compiled);
}
