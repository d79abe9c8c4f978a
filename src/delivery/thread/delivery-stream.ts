import type { ConnectionInfo, IgnoredReason, LateAnswer, MllpClientOptions, MllpSender } from '../../transport/mllp-client.js';
import type { Job, JobResult, StreamListener } from '../job.js';
import { withDefined } from '../../util/with-defined.js';
import { BatchedPort } from './batched-port.js';
import { LaneServer } from './lane-server.js';
import { DeliveryThread, type OpenStream } from './delivery-thread.js';
import type { DeliveryStreamSettings, FromThread, ToThread, WireAttempt } from './protocol.js';

export interface ConnectionListener {
  connected(lane: number, info: ConnectionInfo): void;
  disconnected(lane: number, reason: string): void;
  /** A frame that answered nothing due was ignored; `code` is its MSA-1 ('' if none). */
  ignoredFrame(lane: number, reason: IgnoredReason, code: string): void;
  /** An AE/AR/CE/CR came after the message was settled by an AA or CA. */
  lateAnswer(lane: number, answer: LateAnswer): void;
}

export interface DeliveryStreamOptions {
  settings: DeliveryStreamSettings;
  listener: StreamListener;
  connections: ConnectionListener;
  /**
   * Asked when a redelivered job reaches the front of its lane: the result of an earlier
   * delivery of the same event that the receiver accepted but whose AMQP ack was lost.
   */
  alreadyAccepted(job: Job): JobResult | undefined;
  /** The thread died (a bug): the subscription cannot deliver any more. */
  onCrash(error: Error): void;
  /** The thread for lanes > 1; default DeliveryThread.shared, which every subscription uses. */
  thread?: DeliveryThread;
  /** With one lane (on this thread): the senders instead of MLLP clients (unit tests' fakes). */
  createSender?: (options: MllpClientOptions) => MllpSender;
}

/**
 * A subscription's delivery stream (lanes, MLLP connections, retries: a LaneServer), seen
 * from the main thread. Same contract as OrderedDispatcher: jobs go in with `submit`, and
 * each comes back exactly once through the listener (settled, abandoned or dropped), in
 * lane order.
 *
 * With several lanes the LaneServer runs on the delivery thread (one for every subscription
 * with lanes: DeliveryThread). The receiver's ACKs then
 * arrive all the time, and a lane is idle from its ACK until its next message is written:
 * on the main thread that gap is as long as whatever the event loop is doing when the ACK
 * arrives (a burst of deliveries to decode and map, confirms, logs); on the delivery
 * thread, which does nothing else, it is the time to parse the ACK and write the next frame.
 *
 * With one lane the LaneServer runs on the main thread, over the same messages (passed by
 * reference, in the same batches). A thread would help there too when the receiver is fast
 * (docs/PERFORMANCE.md), but it costs memory: its own heap, and a main heap that grows with
 * the faster drain (peak RSS 144 MB against the 120 MB budget with 100,000 events waiting).
 */
export class DeliveryStream {
  private readonly thread: OpenStream | undefined;
  private readonly out: BatchedPort<ToThread>;
  /** Jobs handed to the thread and not yet back, by seq, in submission order. */
  private readonly jobs = new Map<number, Job>();
  private state: 'running' | 'stopping' | 'stopped' = 'running';
  private stopped: Promise<void> | undefined;
  private onStopped: (() => void) | undefined;

  constructor(private readonly options: DeliveryStreamOptions) {
    if (options.settings.lanes === 1) {
      const server = new LaneServer(options.settings, { postMessage: (batch: unknown) => this.onBatch(batch as FromThread[]) }, options.createSender);
      this.out = new BatchedPort<ToThread>({ postMessage: (batch: unknown) => server.handle(batch as ToThread[]) });
      return;
    }
    this.thread = (options.thread ?? DeliveryThread.shared).open(options.settings, {
      onBatch: (batch) => this.onBatch(batch),
      onCrash: (error) => this.crashed(error),
    });
    this.out = new BatchedPort<ToThread>(this.thread.target);
  }

  /**
   * Hands a job over as it is (plain data: the thread gets a structured clone, one lane the
   * object itself). Its `seq` must not be that of a job still in flight on this stream.
   */
  submit(job: Job): void {
    if (this.state !== 'running') {
      this.options.listener.abandoned(job);
      return;
    }
    if (this.jobs.has(job.seq)) throw new Error(`job seq ${job.seq} is already in flight`);
    this.jobs.set(job.seq, job);
    this.out.push({ type: 'submit', job });
  }

  /** The broker connection whose deliveries can be settled (undefined: none). */
  setLiveGeneration(generation: number | undefined): void {
    this.out.push({ type: 'live-generation', generation: generation ?? null });
  }

  /** Events handed over and not yet settled. */
  get depth(): number {
    return this.jobs.size;
  }

  /** receivedAt of the oldest event not yet settled. */
  oldestReceivedAt(): number | undefined {
    for (const job of this.jobs.values()) return job.receivedAt;
    return undefined;
  }

  /**
   * Requeues what has not started, gives sends in flight `graceMs` to be answered, closes
   * every connection, and leaves the thread. Resolves once every job has come back.
   */
  stop(graceMs: number): Promise<void> {
    this.stopped ??= (async () => {
      if (this.state === 'running') {
        this.state = 'stopping';
        const done = new Promise<void>((resolve) => (this.onStopped = resolve));
        this.out.push({ type: 'stop', graceMs });
        await done;
      }
      this.state = 'stopped';
      await this.thread?.close();
    })();
    return this.stopped;
  }

  private onBatch(batch: FromThread[]): void {
    for (const message of batch) this.onMessage(message);
  }

  private onMessage(message: FromThread): void {
    const { listener, connections } = this.options;
    switch (message.type) {
      case 'settled': {
        const job = this.take(message.seq);
        if (job) listener.settled(job, message.result);
        break;
      }
      case 'abandoned': {
        const job = this.take(message.seq);
        if (job) listener.abandoned(job);
        break;
      }
      case 'dropped': {
        const job = this.take(message.seq);
        if (job) listener.dropped?.(job);
        break;
      }
      case 'attempted':
        this.onAttempt(message.report);
        break;
      case 'ask-accepted': {
        const job = this.jobs.get(message.seq);
        const result = job ? this.options.alreadyAccepted(job) : undefined;
        this.out.push({ type: 'already-accepted', seq: message.seq, result: result ?? null });
        break;
      }
      case 'connected':
        connections.connected(message.lane, message.info);
        break;
      case 'disconnected':
        connections.disconnected(message.lane, message.reason);
        break;
      case 'ignored-frame':
        connections.ignoredFrame(message.lane, message.reason, message.code);
        break;
      case 'late-answer':
        connections.lateAnswer(message.lane, message.answer);
        break;
      case 'stopped':
        this.onStopped?.();
        break;
    }
  }

  private onAttempt(report: WireAttempt): void {
    const job = this.jobs.get(report.seq);
    const message = job?.messages[report.message];
    if (!job || !message) return;
    const { lane, attempt, outcome, ackCode, reason, latencyMs, retryInMs, throttledMs } = report;
    this.options.listener.attempted(withDefined({ job, message, lane, attempt, outcome }, { ackCode, reason, latencyMs, retryInMs, throttledMs }));
  }

  private take(seq: number): Job | undefined {
    const job = this.jobs.get(seq);
    this.jobs.delete(seq);
    return job;
  }

  /** The thread ended without being asked to: its jobs stay unacknowledged (the broker redelivers them). */
  private crashed(error: Error): void {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    this.jobs.clear();
    this.onStopped?.();
    if (wasRunning) this.options.onCrash(error);
  }
}
