import type { ApplicationAnswer, MllpSender } from '../transport/mllp-client.js';
import { encodeFrame, type Framing } from '../transport/mllp-framing.js';
import type { OutcomePolicy, RetrySettings } from './policy.js';
import type { Charset } from '../hl7/charset.js';
import type { RateLimiter } from './rate-limit.js';
import type { ReceiverGate } from './receiver-gate.js';
import type { Job, JobChecks, JobResult, StreamListener } from './job.js';
import { sleep } from '../util/sleep.js';
import { SendTurn } from './send-turn.js';
import { freshProgress, judge, nextMessage, outcomeOf, type Answer, type Progress, type VerdictContext } from './verdict.js';

export interface LaneOptions {
  index: number;
  sender: MllpSender;
  policy: OutcomePolicy;
  retry: RetrySettings;
  /** How messages are framed: `settings.Charset` (default UTF-8) and a receiver profile's `framing` (default MLLP). */
  charset?: Charset;
  framing?: Framing;
  /** `rateLimit.perSecond`, shared by the subscription's lanes. */
  rateLimiter?: RateLimiter;
  gate: ReceiverGate;
  listener: StreamListener;
  /** Asked before each send: is the job still live; for a redelivered job, was it already accepted. */
  checks: JobChecks;
  /** Called after each job leaves the lane (the dispatcher may release held jobs). */
  onJobDone: (job: Job) => void;
  random?: () => number;
}

/** Enhanced mode: the job's last message is committed (CA); its application ACK is due. */
interface Committed {
  kind: 'committed';
  progress: Progress;
  answer: Promise<ApplicationAnswer>;
}

type ProcessResult = JobResult | 'abandoned' | 'stale';

/**
 * One ordered stream over one MLLP connection: jobs are sent strictly one after another,
 * and a job's messages in order. A failing message is retried in place (same MSH-10) until
 * the policy gives up, so nothing behind it can overtake it.
 *
 * Enhanced acknowledgment mode: once the last message of a job is committed (CA) the lane
 * sends the next job while the application ACK is due. Jobs waiting for theirs form the
 * pipeline, settled strictly in lane order: no job is settled before the application ACK of
 * every job ahead of it (README "Delivery and outcomes"). A job whose application ACK asks
 * for a retry holds the lane (nothing new is sent) until it is resent.
 */
export class Lane {
  private readonly queue: Job[] = [];
  private head = 0;
  private current: Job | undefined;
  private running = false;
  private stopping = false;
  private readonly stopController = new AbortController();
  private idleWaiters: Array<() => void> = [];
  /** Jobs sent and not yet settled, in lane order (enhanced mode). */
  private readonly pipeline: Array<{ job: Job; result: ProcessResult | Committed }> = [];
  private draining = false;
  /** Held by whoever sends: the run loop, or a retry from the pipeline. */
  private readonly turn = new SendTurn();
  private readonly verdicts: VerdictContext;

  constructor(private readonly options: LaneOptions) {
    this.verdicts = { lane: options.index, policy: options.policy, retry: options.retry, listener: options.listener, ...(options.random ? { random: options.random } : {}) };
  }

  get index(): number {
    return this.options.index;
  }

  /** True while a job is being sent, waits in this lane, or waits for its application ACK. */
  get busy(): boolean {
    return this.current !== undefined || this.head < this.queue.length || this.pipeline.length > 0;
  }

  get depth(): number {
    return this.queue.length - this.head + (this.current ? 1 : 0) + this.pipeline.length;
  }

  /** receivedAt of the oldest job in this lane (in the pipeline, in flight or waiting). */
  oldestReceivedAt(): number | undefined {
    return this.pipeline[0]?.job.receivedAt ?? this.current?.receivedAt ?? this.queue[this.head]?.receivedAt;
  }

  enqueue(job: Job): void {
    if (this.stopping) {
      this.options.listener.abandoned(job);
      return;
    }
    this.queue.push(job);
    if (!this.running) void this.run();
  }

  /**
   * Stops taking work: jobs still waiting are abandoned (requeued) at once, a retry backoff
   * is cut short, and a send in flight (or an application ACK due) gets until `graceMs` to be
   * answered before the connection is closed under it. Resolves when the lane is idle and
   * its connection closed.
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.stopController.abort();
      for (const job of this.drainQueue()) this.options.listener.abandoned(job);
    }
    if (this.running || this.draining) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const grace = setTimeout(() => void this.options.sender.close(), graceMs);
      await idle;
      clearTimeout(grace);
    }
    await this.options.sender.close();
  }

  private drainQueue(): Job[] {
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
        this.queue[this.head++] = undefined as unknown as Job;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.current = job;
        const wait = this.turn.acquire();
        if (wait) await wait;
        let result: ProcessResult | Committed;
        try {
          result = await this.process(job, freshProgress());
        } finally {
          this.turn.release();
        }
        this.current = undefined;
        // A job that ends without a verdict (stale, abandoned) may have left this lane holding
        // the receiver gate; hand it back, or the lanes waiting at it would wait for ever.
        if (typeof result === 'string') this.options.gate.open(this.index);
        if (this.pipeline.length > 0 || (typeof result === 'object' && 'kind' in result)) {
          this.pipeline.push({ job, result });
          void this.drain();
          continue;
        }
        // Settling (logs, metrics, receipt, ack) runs as a microtask: after the loop has
        // written the next message to the receiver, so that work overlaps the round trip
        // instead of delaying the next send. Microtasks keep their order and run before the
        // next job of this lane is checked (a redelivered copy must see that its earlier
        // copy was accepted), and before the lane reports itself idle to stop().
        const settled = result;
        queueMicrotask(() => this.report(job, settled));
      }
    } finally {
      this.running = false;
      this.current = undefined;
      if (!this.draining) this.wakeIdle();
    }
  }

  private report(job: Job, result: ProcessResult): void {
    if (result === 'abandoned') this.options.listener.abandoned(job);
    else if (result === 'stale') this.options.listener.dropped?.(job);
    else this.options.listener.settled(job, result);
    this.options.onJobDone(job);
  }

  /** Settles the pipeline in lane order as the application ACKs come in. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pipeline.length > 0) {
        const entry = this.pipeline[0]!;
        while (typeof entry.result === 'object' && 'kind' in entry.result) entry.result = await this.applicationAnswered(entry.job, entry.result);
        this.pipeline.shift();
        if (typeof entry.result === 'string') this.options.gate.open(this.index);
        this.report(entry.job, entry.result);
      }
    } finally {
      this.draining = false;
      if (!this.running) this.wakeIdle();
    }
  }

  /** Judges a committed job's application ACK; a retry resends it, holding the lane meanwhile. */
  private async applicationAnswered(job: Job, committed: Committed): Promise<ProcessResult | Committed> {
    const answer = await committed.answer;
    if (answer.kind === 'closed') return 'abandoned';
    const { progress } = committed;
    if (this.stopping && outcomeOf(answer) !== 'accepted') return 'abandoned';
    const verdict = judge(this.verdicts, job, job.messages[progress.index]!, progress, answer);
    if (verdict.kind === 'accepted') return progress.last!;
    if (verdict.kind === 'final') return verdict.result;
    const wait = this.turn.acquire();
    if (wait) await wait;
    try {
      if (!(await this.interruptible(sleep(verdict.delayMs, this.stopController.signal)))) return 'abandoned';
      return await this.process(job, progress);
    } finally {
      this.turn.release();
    }
  }

  private async process(job: Job, progress: Progress): Promise<ProcessResult | Committed> {
    const { sender, gate, checks } = this.options;
    const lane = this.options.index;
    if (this.stopping) return 'abandoned';
    if (!checks.isLive(job)) return 'stale';
    if (progress.attempts === 0 && job.redelivered) {
      const earlier = await checks.alreadyAccepted(job);
      if (earlier) return earlier;
    }
    for (; progress.index < job.messages.length; nextMessage(progress)) {
      const message = job.messages[progress.index]!;
      const frame = encodeFrame(message.text, this.options.charset, this.options.framing);
      const context = { eventId: job.eventId, trigger: message.trigger };
      for (;;) {
        if (this.stopping) return 'abandoned';
        if (!checks.isLive(job)) return 'stale';
        if (gate.isClosedFor(lane)) {
          await this.interruptible(gate.wait());
          continue;
        }
        const pass = await this.options.rateLimiter?.pass(this.stopController.signal);
        progress.throttledMs = pass?.waitedMs;
        if (pass && this.stopping) {
          pass.done();
          return 'abandoned';
        }
        progress.attempt++;
        progress.attempts++;
        const sent = await sender.send(frame, message.controlId, context);
        pass?.done();
        if (sent.kind === 'uncertain') progress.uncertainSends++;
        if (sent.kind === 'unreachable') gate.close(lane);
        else gate.open(lane);
        let answer: Answer = sent;
        if (sent.kind === 'ack' && sent.application) {
          // Committed: the last message's application ACK is awaited in the pipeline, while
          // the next job goes out; an earlier message's here, before the job's next message.
          if (progress.index === job.messages.length - 1) return { kind: 'committed', progress, answer: sent.application };
          const application = await sent.application;
          if (application.kind === 'closed') return 'abandoned';
          answer = application;
        }
        // A send that failed while stopping is not retried: the broker redelivers the event.
        if (this.stopping && outcomeOf(answer) !== 'accepted') return 'abandoned';
        const verdict = judge(this.verdicts, job, message, progress, answer);
        if (verdict.kind === 'accepted') break;
        if (verdict.kind === 'final') {
          gate.open(lane);
          return verdict.result;
        }
        if (!(await this.interruptible(sleep(verdict.delayMs, this.stopController.signal)))) return 'abandoned';
      }
    }
    return progress.last!;
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
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
