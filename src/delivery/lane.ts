import type { MllpSender } from '../transport/mllp-client.js';
import { encodeFrame } from '../transport/mllp-framing.js';
import type { Charset } from '../hl7/charset.js';
import { classifySend } from './outcomes.js';
import { decide, isRefusal, type OutcomePolicy, type RetrySettings } from './policy.js';
import type { ReceiverGate } from './receiver-gate.js';
import type { DeliveryJob, JobResult, StreamListener } from './job.js';
import { withDefined } from '../util/with-defined.js';
import { sleep } from '../util/sleep.js';

export interface LaneOptions<J extends DeliveryJob> {
  index: number;
  sender: MllpSender;
  policy: OutcomePolicy;
  retry: RetrySettings;
  /** Charset messages are framed in (`settings.Charset`); default UTF-8. */
  charset?: Charset;
  gate: ReceiverGate;
  listener: StreamListener<J>;
  /** Called after each job leaves the lane (the dispatcher may release held jobs). */
  onJobDone: (job: J) => void;
  random?: () => number;
}

type ProcessResult = JobResult | 'abandoned' | 'stale';

/**
 * One ordered stream over one MLLP connection: jobs are sent strictly one after another,
 * and a job's messages in order. A failing message is retried in place (same MSH-10) until
 * the policy gives up, so nothing behind it can overtake it.
 */
export class Lane<J extends DeliveryJob = DeliveryJob> {
  private readonly queue: J[] = [];
  private head = 0;
  private current: J | undefined;
  private running = false;
  private stopping = false;
  private readonly stopController = new AbortController();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: LaneOptions<J>) {}

  get index(): number {
    return this.options.index;
  }

  /** True while a job is being sent or waits in this lane. */
  get busy(): boolean {
    return this.current !== undefined || this.head < this.queue.length;
  }

  get depth(): number {
    return this.queue.length - this.head + (this.current ? 1 : 0);
  }

  /** receivedAt of the oldest job in this lane (in flight or waiting). */
  oldestReceivedAt(): number | undefined {
    return this.current?.receivedAt ?? this.queue[this.head]?.receivedAt;
  }

  enqueue(job: J): void {
    if (this.stopping) {
      this.options.listener.abandoned(job);
      return;
    }
    this.queue.push(job);
    if (!this.running) void this.run();
  }

  /**
   * Stops taking work: jobs still waiting are abandoned (requeued) at once, a retry backoff
   * is cut short, and a send in flight gets until `graceMs` to be answered before the
   * connection is closed under it. Resolves when the lane is idle and its connection closed.
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.stopController.abort();
      for (const job of this.drainQueue()) this.options.listener.abandoned(job);
    }
    if (this.running) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const grace = setTimeout(() => void this.options.sender.close(), graceMs);
      await idle;
      clearTimeout(grace);
    }
    await this.options.sender.close();
  }

  private drainQueue(): J[] {
    const left = this.queue.slice(this.head);
    this.queue.length = 0;
    this.head = 0;
    return left;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.head < this.queue.length) {
        const job = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as J;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.current = job;
        const result = await this.process(job);
        this.current = undefined;
        // A job that ends without a verdict (stale, abandoned) may have left this lane holding
        // the receiver gate; hand it back, or the lanes waiting at it would wait for ever.
        if (typeof result === 'string') this.options.gate.open(this.index);
        // Settling (logs, metrics, receipt, ack) runs as a microtask: after the loop has
        // written the next message to the receiver, so that work overlaps the round trip
        // instead of delaying the next send. Microtasks keep their order and run before the
        // next job of this lane is checked (a redelivered copy must see that its earlier
        // copy was accepted), and before the lane reports itself idle to stop().
        queueMicrotask(() => {
          if (result === 'abandoned') this.options.listener.abandoned(job);
          else if (result === 'stale') this.options.listener.dropped?.(job);
          else this.options.listener.settled(job, result);
          this.options.onJobDone(job);
        });
      }
    } finally {
      this.running = false;
      this.current = undefined;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private async process(job: J): Promise<ProcessResult> {
    const { sender, policy, retry, gate, listener, random } = this.options;
    const lane = this.options.index;
    let attempts = 0;
    let uncertainSends = 0;
    let last: JobResult | undefined;
    if (this.stopping) return 'abandoned';
    if (!job.isLive()) return 'stale';
    if (job.alreadyAccepted) {
      const earlier = await job.alreadyAccepted();
      if (earlier) return earlier;
    }
    for (const message of job.messages) {
      const frame = encodeFrame(message.text, this.options.charset);
      let attempt = 0;
      // Counted apart: refusals are bounded by retry.maxAttempts, receiver failures are not.
      let refusals = 0;
      let receiverFailures = 0;
      for (;;) {
        if (this.stopping) return 'abandoned';
        if (!job.isLive()) return 'stale';
        if (gate.isClosedFor(lane)) {
          await this.interruptible(gate.wait());
          continue;
        }
        attempt++;
        attempts++;
        const sent = await sender.send(frame, message.controlId);
        const outcome = classifySend(sent);
        if (outcome === 'uncertain') uncertainSends++;
        if (outcome === 'unreachable') gate.close(lane);
        else gate.open(lane);
        const ackCode = sent.kind === 'ack' ? sent.ack.ackCode : undefined;
        const latencyMs = sent.kind === 'ack' ? sent.latencyMs : undefined;
        const reason = sent.kind === 'ack' ? ackReason(outcome, sent.ack.ackCode, sent.ack.errorCode) : sent.reason;

        if (outcome === 'accepted') {
          listener.attempted(withDefined({ job, message, lane, attempt, outcome }, { ackCode, latencyMs }));
          last = withDefined(
            { outcome, action: 'ack' as const, attempts, uncertainSends, controlId: message.controlId, trigger: message.trigger },
            { ackCode, latencyMs },
          );
          break;
        }
        // A send that failed while stopping is not retried: the broker redelivers the event.
        if (this.stopping) return 'abandoned';
        const decision = decide(outcome, isRefusal(outcome) ? ++refusals : ++receiverFailures, policy, retry, random);
        listener.attempted(
          withDefined(
            { job, message, lane, attempt, outcome },
            { ackCode, reason, latencyMs, retryInMs: decision.action === 'retry' ? decision.delayMs : undefined },
          ),
        );
        if (decision.action === 'dead-letter') {
          gate.open(lane);
          return withDefined(
            { outcome, action: 'dead-letter' as const, attempts, uncertainSends, controlId: message.controlId, trigger: message.trigger },
            { ackCode, reason: reason ?? outcome },
          );
        }
        const slept = await this.interruptible(sleep(decision.delayMs, this.stopController.signal));
        if (!slept) return 'abandoned';
      }
    }
    return last!;
  }

  /** Resolves true when `promise` settles, false when the lane is stopped first. */
  private interruptible(promise: Promise<unknown>): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    const signal = this.stopController.signal;
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve(!this.stopping);
        },
        () => resolve(false),
      );
    });
  }
}

function ackReason(outcome: string, ackCode: string, errorCode: string | undefined): string | undefined {
  if (outcome === 'accepted') return undefined;
  return `receiver answered ${ackCode}${errorCode ? ` (ERR-3 ${errorCode})` : ''}`;
}
