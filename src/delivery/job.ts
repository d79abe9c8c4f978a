import type { OutboundMessage, Trigger } from '../mapping/profile.js';
import type { SendOutcome } from './outcomes.js';

/**
 * One event on its way to the receiver: the messages it produced, in the order they must
 * be sent (a merge with two replaced records gives two A40s). Plain data.
 */
export interface StreamJob {
  readonly eventId: string;
  readonly messages: readonly OutboundMessage[];
  /** Patient key: all jobs with the same key go through one lane, in order. */
  readonly laneKey: string;
  /** Merges and unmerges concern two patients: everything before settles first, everything after waits. */
  readonly barrier: boolean;
  /** When the daemon received the event (ms since the epoch). */
  readonly receivedAt: number;
}

/** A job as the lanes run it: with its checks against the AMQP side. */
export interface DeliveryJob extends StreamJob {
  /**
   * False once the AMQP delivery can no longer be settled (its channel is gone). The broker
   * redelivers such an event, so the stream drops the stale copy instead of sending it.
   */
  isLive(): boolean;
  /**
   * Asked once, when the job reaches the front of its lane, before anything is sent. A
   * result means the receiver already accepted this event under an earlier AMQP delivery
   * whose ack was lost with the broker connection: the job is settled with that result
   * and nothing is sent again (the receiver would only get a needless duplicate).
   * May answer asynchronously (the delivery thread asks the main thread).
   */
  alreadyAccepted?(): JobResult | undefined | Promise<JobResult | undefined>;
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
export interface AttemptReport<J extends StreamJob = DeliveryJob> {
  job: J;
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

export interface StreamListener<J extends StreamJob = DeliveryJob> {
  /** The job is done; settle its AMQP delivery accordingly. */
  settled(job: J, result: JobResult): void;
  /** The job was not finished (shutdown): requeue its AMQP delivery. */
  abandoned(job: J): void;
  /**
   * The job was dropped unsent because its AMQP delivery went stale (`isLive()` false):
   * there is nothing to settle, the broker delivers the event again.
   */
  dropped?(job: J): void;
  attempted(report: AttemptReport<J>): void;
}
