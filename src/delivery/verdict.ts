import type { OutboundMessage } from '../mapping/profile.js';
import type { ApplicationAnswer, SendResult } from '../transport/mllp-client.js';
import { classifyApplicationAnswer, classifySend, type SendOutcome } from './outcomes.js';
import { decide, isRefusal, type OutcomePolicy, type RetrySettings } from './policy.js';
import type { Job, JobResult, StreamListener } from './job.js';
import { withDefined } from '../util/with-defined.js';

/** Where a job stands: its sends so far, and the counters of the message being sent. */
export interface Progress {
  /** Index of the message being sent. */
  index: number;
  /** Sends made for this event, over all its messages. */
  attempts: number;
  uncertainSends: number;
  /** Sends of the current message, and of those its refusals and receiver failures. */
  attempt: number;
  refusals: number;
  receiverFailures: number;
  /** How long the current send waited for the rate limit, reported with its attempt. */
  throttledMs?: number | undefined;
  /** The result once the last message is accepted. */
  last?: JobResult;
}

export function freshProgress(): Progress {
  return { index: 0, attempts: 0, uncertainSends: 0, attempt: 0, refusals: 0, receiverFailures: 0 };
}

/** Moves on to the job's next message. */
export function nextMessage(progress: Progress): void {
  progress.index++;
  progress.attempt = 0;
  progress.refusals = 0;
  progress.receiverFailures = 0;
}

/** What the receiver said to one send: the send's own result or, after a CA, the application ACK. */
export type Answer = SendResult | Exclude<ApplicationAnswer, { kind: 'closed' }>;

export type Verdict = { kind: 'accepted' } | { kind: 'retry'; delayMs: number } | { kind: 'final'; result: JobResult };

export interface VerdictContext {
  lane: number;
  policy: OutcomePolicy;
  retry: RetrySettings;
  listener: StreamListener;
  random?: () => number;
}

/**
 * Judges one answer: reports the attempt and decides (policy.ts) whether the message is
 * accepted, sent again after a delay, or ends the job (dead letter).
 */
export function outcomeOf(answer: Answer): SendOutcome {
  return answer.kind === 'timeout' ? classifyApplicationAnswer(answer) : classifySend(answer);
}

export function judge(context: VerdictContext, job: Job, message: OutboundMessage, progress: Progress, answer: Answer): Verdict {
  const { lane, policy, retry, listener, random } = context;
  const outcome = outcomeOf(answer);
  const attempt = progress.attempt;
  // A timeout comes after a CA: the last answer the receiver gave.
  const ackCode = answer.kind === 'ack' ? answer.ack.ackCode : answer.kind === 'timeout' ? 'CA' : undefined;
  const latencyMs = answer.kind === 'ack' ? answer.latencyMs : undefined;
  if (outcome === 'accepted') {
    listener.attempted(withDefined({ job, message, lane, attempt, outcome }, { ackCode, latencyMs, throttledMs: progress.throttledMs }));
    progress.last = withDefined(
      { outcome, action: 'ack' as const, attempts: progress.attempts, uncertainSends: progress.uncertainSends, controlId: message.controlId, trigger: message.trigger },
      { ackCode, latencyMs },
    );
    return { kind: 'accepted' };
  }
  const reason = answer.kind === 'ack' ? `receiver answered ${answer.ack.ackCode}${answer.ack.errorCode ? ` (ERR-3 ${answer.ack.errorCode})` : ''}` : answer.reason;
  const decision = decide(outcome, isRefusal(outcome) ? ++progress.refusals : ++progress.receiverFailures, policy, retry, random);
  listener.attempted(
    withDefined(
      { job, message, lane, attempt, outcome },
      { ackCode, reason, latencyMs, retryInMs: decision.action === 'retry' ? decision.delayMs : undefined, throttledMs: progress.throttledMs },
    ),
  );
  if (decision.action === 'retry') return { kind: 'retry', delayMs: decision.delayMs };
  return {
    kind: 'final',
    result: withDefined(
      { outcome, action: 'dead-letter' as const, attempts: progress.attempts, uncertainSends: progress.uncertainSends, controlId: message.controlId, trigger: message.trigger },
      { ackCode, reason },
    ),
  };
}
