import type { Charset } from '../../hl7/charset.js';
import type { Framing } from '../../transport/mllp-framing.js';
import type { ConnectionHabits } from '../../transport/connection-habits.js';
import type { MllpEndpoint } from '../../transport/endpoint.js';
import type { TlsFileSettings } from '../../transport/tls-files.js';
import type { ConnectionInfo, IgnoredReason, LateAnswer } from '../../transport/mllp-client.js';
import type { EnhancedAckMode } from '../../hl7/ack-mode.js';
import type { OutcomePolicy, RetrySettings } from '../policy.js';
import type { AttemptReport, Job, JobResult } from '../job.js';

/**
 * The messages between a subscription (main thread) and its delivery thread. Everything
 * here is plain data (structured clone). Both directions are ordered: a port delivers its
 * messages in the order they were posted, and each side posts in the order things happened.
 */

/** What the delivery thread needs to run the lanes: fixed for the thread's life. */
export interface DeliveryStreamSettings {
  subscription: string;
  lanes: number;
  policy: OutcomePolicy;
  retry: RetrySettings;
  endpoint: MllpEndpoint;
  tls?: TlsFileSettings;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  /** `settings.Charset`: messages are written and ACKs read in it. */
  charset: Charset;
  /** A receiver profile's `framing`, `connection` and `rateLimit.perSecond`; absent: the defaults. */
  framing?: Framing;
  connection?: ConnectionHabits;
  perSecond?: number;
  /** Enhanced acknowledgment mode (MSH-15/16); absent: original mode. */
  enhanced?: { mode: EnhancedAckMode; applicationAckTimeoutMs: number };
}

export type ToThread =
  /** An event to deliver (src/delivery/job.ts): its `seq` names it in both directions. */
  | { type: 'submit'; job: Job }
  /** The broker connection whose deliveries can still be settled; none while disconnected. */
  | { type: 'live-generation'; generation: number | null }
  | { type: 'already-accepted'; seq: number; result: JobResult | null }
  | { type: 'stop'; graceMs: number };

/** An AttemptReport with the job and message named by number. */
export type WireAttempt = Omit<AttemptReport, 'job' | 'message'> & {
  seq: number;
  /** Index into the job's messages. */
  message: number;
};

export type FromThread =
  | { type: 'settled'; seq: number; result: JobResult }
  | { type: 'abandoned'; seq: number }
  /** The job's AMQP delivery went stale before it was sent; the broker redelivers the event. */
  | { type: 'dropped'; seq: number }
  | { type: 'attempted'; report: WireAttempt }
  /** A redelivered job reached the front of its lane: was it accepted under its earlier delivery? */
  | { type: 'ask-accepted'; seq: number }
  | { type: 'connected'; lane: number; info: ConnectionInfo }
  | { type: 'disconnected'; lane: number; reason: string }
  | { type: 'ignored-frame'; lane: number; reason: IgnoredReason; code: string }
  /** An error came for a message already settled by an AA or CA. */
  | { type: 'late-answer'; lane: number; answer: LateAnswer }
  /** Every lane is idle and every connection closed; nothing follows. */
  | { type: 'stopped' };

/**
 * What the main thread posts to the delivery thread, which runs many streams (one per
 * subscription with lanes): a stream opens with its settings, then gets its batches, and is
 * closed once it has posted `stopped`.
 */
export type ToThreadPost = { stream: number; open: DeliveryStreamSettings } | { stream: number; batch: ToThread[] } | { stream: number; close: true };

/** What the delivery thread posts back: one stream's batch. */
export interface FromThreadPost {
  stream: number;
  batch: FromThread[];
}
