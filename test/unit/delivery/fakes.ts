import type { AttemptReport, Job, JobChecks, JobResult, StreamListener } from '../../../src/delivery/job.js';
import type { OutboundMessage, Trigger } from '../../../src/mapping/profile.js';
import type { ApplicationAnswer, MllpSender, SendResult } from '../../../src/transport/mllp-client.js';
import { encodeFrame } from '../../../src/transport/mllp-framing.js';

/**
 * Test doubles for the delivery units: a scripted MllpSender (no sockets) and a listener
 * that records what the stream reports. Only for pure unit tests of delivery/.
 */

export const ack = (ackCode: string, controlId: string): SendResult => ({
  kind: 'ack',
  ack: { messageType: 'ACK', ackCode, controlId, ...(ackCode === 'AA' || ackCode === 'CA' ? {} : { errorCode: '207' }) },
  latencyMs: 1.5,
});
export const unreachable = (reason = 'socket error ECONNREFUSED: connect ECONNREFUSED'): SendResult => ({ kind: 'unreachable', reason });
export const uncertain = (reason = 'no ACK within 100 ms'): SendResult => ({ kind: 'uncertain', reason });
export const invalidAck = (reason = 'ACK MSA-2 "X" does not match MSH-10 Y'): SendResult => ({ kind: 'invalid-ack', reason });

export interface SendRecord {
  controlId: string;
  frame: Buffer;
  /** 0-based index over every send of this sender. */
  index: number;
}

/** What the script answers: a result, a promise of one, or `hang` (never answered until close()). */
export type Script = (controlId: string, attemptOfThisControlId: number, index: number) => SendResult | Promise<SendResult> | 'hang';

/** An MllpSender whose answers come from a script; enforces "one send in flight". */
export class FakeSender implements MllpSender {
  readonly sends: SendRecord[] = [];
  closeCalls = 0;
  private inFlight: ((result: SendResult) => void) | undefined;
  private readonly perControlId = new Map<string, number>();

  constructor(private script: Script = (controlId) => ack('AA', controlId)) {}

  get connected(): boolean {
    return this.closeCalls === 0;
  }

  setScript(script: Script): void {
    this.script = script;
  }

  sentControlIds(): string[] {
    return this.sends.map((send) => send.controlId);
  }

  /** True while a send waits for its answer. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  send(frame: Buffer, controlId: string): Promise<SendResult> {
    if (this.inFlight) throw new Error('FakeSender: two sends in flight');
    const attempt = (this.perControlId.get(controlId) ?? 0) + 1;
    this.perControlId.set(controlId, attempt);
    const index = this.sends.length;
    this.sends.push({ controlId, frame, index });
    return new Promise<SendResult>((resolve) => {
      const done = (result: SendResult) => {
        if (this.inFlight !== done) return;
        this.inFlight = undefined;
        resolve(result);
      };
      this.inFlight = done;
      const answer = this.script(controlId, attempt, index);
      if (answer === 'hang') return;
      void Promise.resolve(answer).then(done);
    });
  }

  async close(): Promise<void> {
    this.closeCalls++;
    this.inFlight?.(uncertain('connection closed by the dispatcher'));
  }
}

/** A deferred answer the test releases when it wants. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The lanes' checks, as a test sets them: a job is live unless its event id is in `stale`;
 * a redelivered job's earlier result comes from `accepted` (none when absent); `asks` records
 * the event ids asked about, in order.
 */
export class FakeChecks implements JobChecks {
  readonly stale = new Set<string>();
  readonly accepted = new Map<string, () => JobResult | undefined>();
  readonly asks: string[] = [];

  isLive(job: Job): boolean {
    return !this.stale.has(job.eventId);
  }

  alreadyAccepted(job: Job): JobResult | undefined {
    this.asks.push(job.eventId);
    return this.accepted.get(job.eventId)?.();
  }
}

let jobCounter = 0;

/** A job with `messages` messages whose control ids are `<id>-0`, `<id>-1`, ... */
export function testJob(options: { id?: string; key?: string; barrier?: boolean; messages?: number; trigger?: Trigger; generation?: number; redelivered?: boolean } = {}): Job {
  const seq = ++jobCounter;
  const id = options.id ?? `job-${seq}`;
  const trigger = options.trigger ?? (options.barrier ? 'A40' : 'A01');
  const messages: OutboundMessage[] = Array.from({ length: options.messages ?? 1 }, (_, index) => ({
    trigger,
    controlId: `${id}-${index}`,
    text: `MSH|^~\\&|APP|FAC|||20260315143022||ADT^${trigger}^ADT_A01|${id}-${index}|P|2.5\rEVN||20260315143022\r`,
  }));
  return {
    seq,
    eventId: id,
    messages,
    laneKey: options.key ?? 'urn:oid:1|PAT-1',
    barrier: options.barrier ?? false,
    receivedAt: Date.now(),
    generation: options.generation ?? 1,
    redelivered: options.redelivered ?? false,
  };
}

export function frameOf(job: Job, index = 0): Buffer {
  return encodeFrame(job.messages[index]!.text);
}

/** Records what the stream reports, and lets a test wait for it. */
export class RecordingListener implements StreamListener {
  readonly settledJobs: Array<{ job: Job; result: JobResult }> = [];
  readonly abandonedJobs: Job[] = [];
  readonly attempts: AttemptReport[] = [];
  /** Every report in order, for sequence assertions. */
  readonly events: string[] = [];

  settled(job: Job, result: JobResult): void {
    this.settledJobs.push({ job, result });
    this.events.push(`settled ${job.eventId} ${result.outcome}`);
  }

  abandoned(job: Job): void {
    this.abandonedJobs.push(job);
    this.events.push(`abandoned ${job.eventId}`);
  }

  attempted(report: AttemptReport): void {
    this.attempts.push(report);
    this.events.push(`attempt ${report.message.controlId} ${report.outcome}`);
  }

  resultOf(eventId: string): JobResult | undefined {
    return this.settledJobs.find((entry) => entry.job.eventId === eventId)?.result;
  }

  settledIds(): string[] {
    return this.settledJobs.map((entry) => entry.job.eventId);
  }
}

/** Polls until `condition` holds; fails after `timeoutMs`. For unit tests on real timers with tiny delays. */
export async function until(condition: () => boolean, timeoutMs = 2000, message = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Enhanced mode: a CA whose application ACK (or its timeout) comes when `application` resolves. */
export const committed = (controlId: string, application: Promise<ApplicationAnswer>): SendResult => ({
  kind: 'ack',
  ack: { messageType: 'ACK', ackCode: 'CA', controlId },
  latencyMs: 0.5,
  application,
});

/** An application ACK with this code. */
export const applicationAck = (ackCode: string, controlId: string): ApplicationAnswer => ({ kind: 'ack', ack: { messageType: 'ACK', ackCode, controlId }, latencyMs: 40 });
