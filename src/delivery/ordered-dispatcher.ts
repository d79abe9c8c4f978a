import type { MllpSender } from '../transport/mllp-client.js';
import { Lane } from './lane.js';
import type { Charset } from '../hl7/charset.js';
import type { Framing } from '../transport/mllp-framing.js';
import { RateLimiter } from './rate-limit.js';
import { ReceiverGate } from './receiver-gate.js';
import type { OutcomePolicy, RetrySettings } from './policy.js';
import type { Job, JobChecks, StreamListener } from './job.js';

export interface DispatcherOptions {
  /** Number of lanes (MLLP connections); 1 = one strictly ordered stream. */
  lanes: number;
  createSender: (lane: number) => MllpSender;
  /** Charset messages are framed in (`settings.Charset`); default UTF-8. */
  charset?: Charset;
  /** Start and end bytes of the frames (a receiver profile's `framing`). */
  framing?: Framing;
  /** `rateLimit.perSecond`: at most this many messages per second across all lanes. */
  perSecond?: number;
  policy: OutcomePolicy;
  retry: RetrySettings;
  listener: StreamListener;
  /** The lanes' live and already-accepted checks (JobChecks). */
  checks: JobChecks;
  random?: () => number;
}

/**
 * A subscription's delivery stream: ordered per patient, parallel across patients.
 *
 * - Jobs are assigned to a lane by a stable hash of their patient key, so all messages of
 *   one patient go through one lane, in submission (= queue) order.
 * - A barrier job (merge, unmerge) concerns two patients that may sit in different lanes:
 *   it is sent only when every job submitted before it has left its lane, and jobs
 *   submitted after it are held until it has. Nothing overtakes a merge, and a merge
 *   overtakes nothing.
 * - With one lane this is exactly one ordered stream.
 */
export class OrderedDispatcher {
  private readonly lanes: Lane[];
  private readonly gate = new ReceiverGate();
  private held: Job[] = [];
  private heldHead = 0;
  private barrierInFlight: Job | undefined;
  private stopping = false;

  constructor(private readonly options: DispatcherOptions) {
    const rateLimiter = options.perSecond ? new RateLimiter(options.perSecond) : undefined;
    this.lanes = Array.from(
      { length: options.lanes },
      (_, index) =>
        new Lane({
          index,
          sender: options.createSender(index),
          policy: options.policy,
          retry: options.retry,
          ...(options.charset ? { charset: options.charset } : {}),
          ...(options.framing ? { framing: options.framing } : {}),
          ...(rateLimiter ? { rateLimiter } : {}),
          gate: this.gate,
          listener: options.listener,
          checks: options.checks,
          onJobDone: (job) => this.onJobDone(job),
          ...(options.random ? { random: options.random } : {}),
        }),
    );
  }

  submit(job: Job): void {
    if (this.stopping) {
      this.options.listener.abandoned(job);
      return;
    }
    this.held.push(job);
    this.pump();
  }

  /** Events accepted by the dispatcher and not yet settled. */
  get depth(): number {
    return this.held.length - this.heldHead + this.lanes.reduce((sum, lane) => sum + lane.depth, 0);
  }

  /** receivedAt of the oldest event not yet settled, for the stalled-feed metric. */
  oldestReceivedAt(): number | undefined {
    let oldest = this.held[this.heldHead]?.receivedAt;
    for (const lane of this.lanes) {
      const candidate = lane.oldestReceivedAt();
      if (candidate !== undefined && (oldest === undefined || candidate < oldest)) oldest = candidate;
    }
    return oldest;
  }

  /**
   * Requeues what has not started, gives sends in flight `graceMs` to be answered, then
   * closes every connection. Resolves when nothing is in flight any more.
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      const held = this.held.slice(this.heldHead);
      this.held = [];
      this.heldHead = 0;
      for (const job of held) this.options.listener.abandoned(job);
    }
    const stopped = Promise.all(this.lanes.map((lane) => lane.stop(graceMs)));
    this.gate.openAll();
    await stopped;
  }

  private pump(): void {
    while (this.heldHead < this.held.length) {
      if (this.barrierInFlight) return;
      const job = this.held[this.heldHead]!;
      if (job.barrier) {
        if (this.lanes.some((lane) => lane.busy)) return;
        this.barrierInFlight = job;
      }
      this.held[this.heldHead++] = undefined as unknown as Job;
      this.laneFor(job.laneKey).enqueue(job);
    }
    if (this.heldHead > 0) {
      this.held = [];
      this.heldHead = 0;
    }
  }

  private onJobDone(job: Job): void {
    if (job === this.barrierInFlight) this.barrierInFlight = undefined;
    if (!this.stopping && this.heldHead < this.held.length) this.pump();
  }

  private laneFor(key: string): Lane {
    return this.lanes.length === 1 ? this.lanes[0]! : this.lanes[laneIndex(key, this.lanes.length)]!;
  }
}

/** FNV-1a over the key's UTF-16 code units: stable across processes and restarts. */
export function laneIndex(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
