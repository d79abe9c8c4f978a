import { MllpClient, type MllpClientOptions, type MllpSender } from '../../transport/mllp-client.js';
import { OrderedDispatcher } from '../ordered-dispatcher.js';
import type { AttemptReport, JobChecks, JobResult } from '../job.js';
import { BatchedPort, type PostTarget } from './batched-port.js';
import type { DeliveryStreamSettings, FromThread, ToThread, WireAttempt } from './protocol.js';
import { withDefined } from '../../util/with-defined.js';

/**
 * The delivery thread's side: the subscription's lanes and MLLP connections, driven by
 * messages from the main thread (see protocol.ts). Nothing else runs on this thread, so an
 * ACK is answered by the lane's next message at once, however busy the main thread is with
 * the broker, decoding, mapping, logs and metrics.
 *
 * Two facts live on the main thread and are mirrored here: which broker connection is live
 * (`live-generation`, for the stale check before each send), and whether a redelivered
 * event was already accepted (asked with `ask-accepted` when it reaches the front of its
 * lane; the port's order guarantees the main thread has seen the earlier copy's result).
 * The lanes get both as the dispatcher's JobChecks; the jobs themselves are run as they came.
 */
export class LaneServer {
  private readonly dispatcher: OrderedDispatcher;
  private readonly out: BatchedPort<FromThread>;
  private liveGeneration: number | null = null;
  private readonly asks = new Map<number, (result: JobResult | undefined) => void>();
  private stopping = false;

  constructor(
    settings: DeliveryStreamSettings,
    target: PostTarget,
    createSender: (options: MllpClientOptions) => MllpSender = (options) => new MllpClient(options),
  ) {
    // One post per turn: an ACK's attempt report and its settlement leave together.
    const out = new BatchedPort<FromThread>(target, setImmediate);
    this.out = out;
    const checks: JobChecks = {
      isLive: (job) => this.liveGeneration === job.generation,
      alreadyAccepted: (job) => this.askAccepted(job.seq),
    };
    this.dispatcher = new OrderedDispatcher({
      lanes: settings.lanes,
      charset: settings.charset,
      ...(settings.framing ? { framing: settings.framing } : {}),
      ...(settings.perSecond ? { perSecond: settings.perSecond } : {}),
      policy: settings.policy,
      retry: settings.retry,
      checks,
      createSender: (lane) =>
        createSender({
          endpoint: settings.endpoint,
          ...(settings.tls ? { tls: settings.tls } : {}),
          connectTimeoutMs: settings.connectTimeoutMs,
          ackTimeoutMs: settings.ackTimeoutMs,
          charset: settings.charset,
          ...(settings.framing ? { framing: settings.framing } : {}),
          ...(settings.connection ? { connection: settings.connection } : {}),
          ...(settings.enhanced ? { enhanced: settings.enhanced } : {}),
          listener: {
            connected: (info) => out.push({ type: 'connected', lane, info }),
            disconnected: (reason) => out.push({ type: 'disconnected', lane, reason }),
            ignoredFrame: (reason, code) => out.push({ type: 'ignored-frame', lane, reason, code }),
            lateAnswer: (answer) => out.push({ type: 'late-answer', lane, answer }),
          },
        }),
      listener: {
        settled: (job, result) => out.push({ type: 'settled', seq: job.seq, result }),
        abandoned: (job) => out.push({ type: 'abandoned', seq: job.seq }),
        dropped: (job) => out.push({ type: 'dropped', seq: job.seq }),
        attempted: (report) => out.push({ type: 'attempted', report: wireAttempt(report) }),
      },
    });
  }

  handle(batch: ToThread[]): void {
    for (const message of batch) {
      switch (message.type) {
        case 'submit':
          this.dispatcher.submit(message.job);
          break;
        case 'live-generation':
          this.liveGeneration = message.generation;
          break;
        case 'already-accepted': {
          const answer = this.asks.get(message.seq);
          this.asks.delete(message.seq);
          answer?.(message.result ?? undefined);
          break;
        }
        case 'stop':
          void this.stop(message.graceMs);
          break;
      }
    }
  }

  private async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.dispatcher.stop(graceMs);
    this.out.push({ type: 'stopped' });
    this.out.flush();
  }

  private askAccepted(seq: number): Promise<JobResult | undefined> {
    return new Promise((resolve) => {
      this.asks.set(seq, resolve);
      this.out.push({ type: 'ask-accepted', seq });
    });
  }
}

function wireAttempt(report: AttemptReport): WireAttempt {
  const { job, message, lane, attempt, outcome, ackCode, reason, latencyMs, retryInMs, throttledMs } = report;
  return withDefined({ seq: job.seq, message: job.messages.indexOf(message), lane, attempt, outcome }, { ackCode, reason, latencyMs, retryInMs, throttledMs });
}
