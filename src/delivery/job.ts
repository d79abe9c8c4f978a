import type { OutboundMessage, Trigger } from '../mapping/profile.js';
import type { SendOutcome } from './outcomes.js';

/**
 * One event on its way to the receiver, the one job type from the broker side to the lanes
 * and back: plain data, so the same object is what crosses to the delivery thread
 * (structured clone; README "A thread for the lanes", docs/DECISIONS.md "Performance") and
 * what one lane runs on the main thread. What is not data stays beside it on each side:
 * the AMQP delivery with the runner (by `seq`), the live and already-accepted checks with
 * whoever runs the lanes (JobChecks). A field added here reaches every side unchanged.
 */
export interface Job {
  /** Names the job in both directions; unique among the jobs in flight on one stream. */
  readonly seq: number;
  readonly eventId: string;
  /** The messages it produced, in the order they must be sent (a merge with two replaced records gives two A40s). */
  readonly messages: readonly OutboundMessage[];
  /** Patient key: all jobs with the same key go through one lane, in order. */
  readonly laneKey: string;
  /** Merges and unmerges concern two patients: everything before settles first, everything after waits. */
  readonly barrier: boolean;
  /** When the daemon received the event (ms since the epoch). */
  readonly receivedAt: number;
  /** The broker connection generation of its AMQP delivery (see JobChecks.isLive). */
  readonly generation: number;
  /** The broker marked it redelivered: JobChecks.alreadyAccepted is asked before it is sent. */
  readonly redelivered: boolean;
}

/** What the lanes ask about a job before sending it, answered by whoever holds the AMQP side. */
export interface JobChecks {
  /**
   * False once the job's AMQP delivery can no longer be settled (its channel is gone). The
   * broker redelivers such an event, so the lane drops the stale copy instead of sending it.
   */
  isLive(job: Job): boolean;
  /**
   * Asked once for a `redelivered` job, when it reaches the front of its lane, before
   * anything is sent. A result means the receiver already accepted this event under an
   * earlier AMQP delivery whose ack was lost with the broker connection: the job is settled
   * with that result and nothing is sent again (the receiver would only get a needless
   * duplicate). May answer asynchronously (the delivery thread asks the main thread).
   */
  alreadyAccepted(job: Job): JobResult | undefined | Promise<JobResult | undefined>;
}

/** How a job ended. `ack`: acknowledge the event; `dead-letter`: publish it to the dead-letter exchange, then acknowledge. */
export interface JobResult {
  outcome: SendOutcome;
  action: 'ack' | 'dead-letter';
  /** Sends made for this event, over all its messages. */
  attempts: number;
  /** MSH-10 and trigger of the last message sent (the failing one when dead-lettered). */
  controlId: string;
  trigger: Trigger;
  ackCode?: string;
  /** Why it failed, log-safe (no patient data). */
  reason?: string;
  /** ACK latency of the last accepted message. */
  latencyMs?: number;
  /**
   * Sends that ended `uncertain` (written, then no ACK) before this result: each is a
   * message the receiver may now hold twice, under the same MSH-10.
   */
  uncertainSends: number;
}

/** Facts about one send attempt, for logs and metrics. */
export interface AttemptReport {
  job: Job;
  message: OutboundMessage;
  lane: number;
  /** 1-based attempt number of this message. */
  attempt: number;
  outcome: SendOutcome;
  ackCode?: string;
  reason?: string;
  latencyMs?: number;
  /** Set when the message will be sent again after this delay. */
  retryInMs?: number;
  /** How long this send waited for the receiver's rate limit (`rateLimit.perSecond`). */
  throttledMs?: number;
}

export interface StreamListener {
  /** The job is done; settle its AMQP delivery accordingly. */
  settled(job: Job, result: JobResult): void;
  /** The job was not finished (shutdown): requeue its AMQP delivery. */
  abandoned(job: Job): void;
  /**
   * The job was dropped unsent because its AMQP delivery went stale (JobChecks.isLive false):
   * there is nothing to settle, the broker delivers the event again.
   */
  dropped?(job: Job): void;
  attempted(report: AttemptReport): void;
}
