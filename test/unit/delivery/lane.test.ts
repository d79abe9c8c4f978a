import { describe, expect, it } from 'vitest';
import { Lane } from '../../../src/delivery/lane.js';
import { DEFAULT_POLICY, type OutcomePolicy, type RetrySettings } from '../../../src/delivery/policy.js';
import { ReceiverGate } from '../../../src/delivery/receiver-gate.js';
import { ack, deferred, FakeChecks, FakeSender, frameOf, invalidAck, RecordingListener, testJob, uncertain, unreachable, until, type Script } from './fakes.js';

const FAST: RetrySettings = { initialDelayMs: 1, maxDelayMs: 4, maxAttempts: 3 };

function makeLane(script: Script, options: { retry?: RetrySettings; policy?: OutcomePolicy; gate?: ReceiverGate; index?: number } = {}) {
  const sender = new FakeSender(script);
  const listener = new RecordingListener();
  const checks = new FakeChecks();
  const done: string[] = [];
  const lane = new Lane({
    index: options.index ?? 0,
    sender,
    policy: options.policy ?? DEFAULT_POLICY,
    retry: options.retry ?? FAST,
    gate: options.gate ?? new ReceiverGate(),
    listener,
    checks,
    onJobDone: (job) => done.push(job.eventId),
    random: () => 0.5,
  });
  return { lane, sender, listener, done, checks };
}

describe('Lane: one ordered stream', () => {
  it('sends jobs one after another in enqueue order, and a job\'s messages in order', async () => {
    const { lane, sender, listener } = makeLane((id) => ack('AA', id));
    const a = testJob({ id: 'a' });
    const merge = testJob({ id: 'm', messages: 2, barrier: true });
    const b = testJob({ id: 'b' });
    for (const job of [a, merge, b]) lane.enqueue(job);
    await until(() => listener.settledJobs.length === 3);
    expect(sender.sentControlIds()).toEqual(['a-0', 'm-0', 'm-1', 'b-0']);
    expect(listener.settledIds()).toEqual(['a', 'm', 'b']);
    expect(listener.resultOf('m')).toMatchObject({ outcome: 'accepted', action: 'ack', attempts: 2, controlId: 'm-1', trigger: 'A40', ackCode: 'AA' });
    expect(listener.resultOf('a')).toMatchObject({ attempts: 1, uncertainSends: 0, latencyMs: 1.5 });
  });

  it('retries a failing message in place: nothing behind it is sent until it settles', async () => {
    const { lane, sender, listener } = makeLane((id, attempt) => (id === 'a-0' && attempt <= 2 ? ack('AR', id) : ack('AA', id)));
    for (const id of ['a', 'b', 'c']) lane.enqueue(testJob({ id }));
    await until(() => listener.settledJobs.length === 3);
    expect(sender.sentControlIds()).toEqual(['a-0', 'a-0', 'a-0', 'b-0', 'c-0']);
    expect(listener.settledIds()).toEqual(['a', 'b', 'c']);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'accepted', attempts: 3, ackCode: 'AA' });
    expect(listener.attempts.map((report) => [report.message.controlId, report.attempt, report.outcome, report.retryInMs !== undefined])).toEqual([
      ['a-0', 1, 'rejected', true],
      ['a-0', 2, 'rejected', true],
      ['a-0', 3, 'accepted', false],
      ['b-0', 1, 'accepted', false],
      ['c-0', 1, 'accepted', false],
    ]);
  });

  it('resends the same MSH-10 and the same bytes on every attempt, and counts the uncertain ones', async () => {
    const answers = [uncertain(), uncertain(), invalidAck(), unreachable()];
    const { lane, sender, listener } = makeLane((id, attempt) => answers[attempt - 1] ?? ack('AA', id));
    const job = testJob({ id: 'x' });
    lane.enqueue(job);
    await until(() => listener.settledJobs.length === 1);
    expect(sender.sends).toHaveLength(5);
    for (const send of sender.sends) {
      expect(send.controlId).toBe('x-0');
      expect(send.frame.equals(frameOf(job))).toBe(true);
    }
    expect(listener.resultOf('x')).toMatchObject({ outcome: 'accepted', attempts: 5, uncertainSends: 2 });
  });

  it('dead-letters an AE at once and goes on with the next job', async () => {
    const { lane, sender, listener } = makeLane((id) => (id === 'a-0' ? ack('AE', id) : ack('AA', id)));
    lane.enqueue(testJob({ id: 'a' }));
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => listener.settledJobs.length === 2);
    expect(sender.sentControlIds()).toEqual(['a-0', 'b-0']);
    expect(listener.resultOf('a')).toEqual({
      outcome: 'application-error',
      action: 'dead-letter',
      attempts: 1,
      uncertainSends: 0,
      controlId: 'a-0',
      trigger: 'A01',
      ackCode: 'AE',
      reason: 'receiver answered AE (ERR-3 207)',
    });
    expect(listener.resultOf('b')).toMatchObject({ outcome: 'accepted', action: 'ack' });
  });

  it('dead-letters a rejected message after exactly retry.maxAttempts sends; the next job proceeds', async () => {
    const { lane, sender, listener } = makeLane((id) => (id === 'a-0' ? ack('AR', id) : ack('AA', id)), { retry: { ...FAST, maxAttempts: 4 } });
    lane.enqueue(testJob({ id: 'a' }));
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => listener.settledJobs.length === 2);
    expect(sender.sentControlIds()).toEqual(['a-0', 'a-0', 'a-0', 'a-0', 'b-0']);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'rejected', action: 'dead-letter', attempts: 4, ackCode: 'AR' });
    // The last attempt report says no retry follows.
    expect(listener.attempts[3]).toMatchObject({ attempt: 4, outcome: 'rejected' });
    expect(listener.attempts[3]!.retryInMs).toBeUndefined();
  });

  it('dead-letters invalid-ack after retry.maxAttempts without an ACK code', async () => {
    const { lane, listener } = makeLane(() => invalidAck('ACK MSA-2 "NOPE" does not match MSH-10 a-0'));
    lane.enqueue(testJob({ id: 'a' }));
    await until(() => listener.settledJobs.length === 1);
    const result = listener.resultOf('a')!;
    expect(result).toMatchObject({ outcome: 'invalid-ack', action: 'dead-letter', attempts: 3, reason: 'ACK MSA-2 "NOPE" does not match MSH-10 a-0' });
    expect(result.ackCode).toBeUndefined();
  });

  it('retries unreachable past maxAttempts (the stream waits), then delivers', async () => {
    const { lane, sender, listener } = makeLane((id, attempt) => (id === 'a-0' && attempt <= 7 ? unreachable() : ack('AA', id)), { retry: { ...FAST, maxAttempts: 2 } });
    lane.enqueue(testJob({ id: 'a' }));
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => listener.settledJobs.length === 2);
    expect(sender.sentControlIds()).toEqual([...Array(8).fill('a-0'), 'b-0']);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'accepted', attempts: 8, uncertainSends: 0 });
  });

  it('counts only refusals toward maxAttempts: an outage before an AR does not use up its retries', async () => {
    // 6 sends fail for the receiver's sake (down, then silent); then it answers AR, AR, AA.
    const answers = [unreachable(), unreachable(), unreachable(), uncertain(), uncertain(), unreachable()];
    const { lane, sender, listener } = makeLane((id, attempt) => answers[attempt - 1] ?? (attempt <= 8 ? ack('AR', id) : ack('AA', id)), {
      retry: { ...FAST, maxAttempts: 3 },
    });
    lane.enqueue(testJob({ id: 'a' }));
    await until(() => listener.settledJobs.length === 1);
    expect(sender.sends).toHaveLength(9);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'accepted', action: 'ack', attempts: 9, uncertainSends: 2 });
    // The first AR after the outage is refusal 1 of 3 and its backoff starts from the beginning.
    const firstReject = listener.attempts.find((report) => report.outcome === 'rejected')!;
    expect(firstReject.attempt).toBe(7);
    expect(firstReject.retryInMs).toBe(1);
  });

  it('dead-letters after maxAttempts refusals even when receiver failures are interleaved', async () => {
    const answers = ['AR', 'uncertain', 'AR', 'unreachable', 'AR'];
    const { lane, sender, listener } = makeLane((id, attempt) => {
      const answer = answers[attempt - 1];
      return answer === 'uncertain' ? uncertain() : answer === 'unreachable' ? unreachable() : ack('AR', id);
    });
    lane.enqueue(testJob({ id: 'a' }));
    await until(() => listener.settledJobs.length === 1);
    expect(sender.sends).toHaveLength(5);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'rejected', action: 'dead-letter', attempts: 5, uncertainSends: 1 });
  });

  it('a merge whose second message is rejected for good is dead-lettered with the second control id', async () => {
    const { lane, sender, listener } = makeLane((id) => (id === 'm-1' ? ack('AR', id) : ack('AA', id)));
    lane.enqueue(testJob({ id: 'm', messages: 2, barrier: true }));
    await until(() => listener.settledJobs.length === 1);
    expect(sender.sentControlIds()).toEqual(['m-0', 'm-1', 'm-1', 'm-1']);
    expect(listener.resultOf('m')).toMatchObject({ outcome: 'rejected', action: 'dead-letter', controlId: 'm-1', trigger: 'A40', attempts: 4 });
  });

  it('honours a per-subscription policy: application-error retry, rejected dead-letter', async () => {
    const retrying = makeLane((id, attempt) => (attempt === 1 ? ack('AE', id) : ack('AA', id)), { policy: { ...DEFAULT_POLICY, 'application-error': 'retry' } });
    retrying.lane.enqueue(testJob({ id: 'a' }));
    await until(() => retrying.listener.settledJobs.length === 1);
    expect(retrying.listener.resultOf('a')).toMatchObject({ outcome: 'accepted', attempts: 2 });

    const strict = makeLane((id) => ack('AR', id), { policy: { ...DEFAULT_POLICY, rejected: 'dead-letter' } });
    strict.lane.enqueue(testJob({ id: 'b' }));
    await until(() => strict.listener.settledJobs.length === 1);
    expect(strict.sender.sends).toHaveLength(1);
    expect(strict.listener.resultOf('b')).toMatchObject({ outcome: 'rejected', action: 'dead-letter', attempts: 1, ackCode: 'AR' });
  });
});

describe('Lane: stale jobs', () => {
  it('drops a job whose AMQP delivery went stale before it was sent: neither settled nor abandoned', async () => {
    const { lane, sender, listener, done, checks } = makeLane((id) => ack('AA', id));
    const stale = testJob({ id: 's' });
    checks.stale.add('s');
    lane.enqueue(stale);
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => done.length === 2);
    expect(sender.sentControlIds()).toEqual(['b-0']);
    expect(listener.settledIds()).toEqual(['b']);
    expect(listener.abandonedJobs).toEqual([]);
    expect(done).toEqual(['s', 'b']);
  });

  it('stops retrying a job that goes stale between attempts (the broker redelivers it)', async () => {
    const job = testJob({ id: 'a' });
    const { lane, sender, listener, done, checks } = makeLane((id) => {
      if (id !== 'a-0') return ack('AA', id);
      checks.stale.add('a');
      return ack('AR', id);
    });
    lane.enqueue(job);
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => done.length === 2);
    expect(sender.sentControlIds()).toEqual(['a-0', 'b-0']);
    expect(listener.settledIds()).toEqual(['b']);
  });

  it('releases the receiver gate when the job holding it goes stale', async () => {
    const gate = new ReceiverGate();
    const job = testJob({ id: 'a' });
    const { lane, done, checks } = makeLane(() => {
      checks.stale.add('a');
      return unreachable();
    }, { gate, index: 0 });
    lane.enqueue(job);
    await until(() => done.length === 1);
    // Another lane must not wait forever for a lane that has nothing left to probe with.
    expect(gate.isClosedFor(1)).toBe(false);
  });
});

describe('Lane: redelivered events already accepted', () => {
  it('settles a job with the earlier result, without sending, when the already-accepted check has one; asked only at the front of the lane', async () => {
    const answer = deferred<ReturnType<typeof ack>>();
    const { lane, sender, listener, checks } = makeLane((id) => (id === 'first-0' ? answer.promise : ack('AA', id)));
    let accepted: { controlId: string } | undefined;
    const asked: string[] = [];
    const redelivered = testJob({ id: 'again', redelivered: true });
    checks.accepted.set('again', () => {
      asked.push(accepted ? 'known' : 'unknown');
      return accepted ? { outcome: 'accepted', action: 'ack', attempts: 1, uncertainSends: 0, controlId: accepted.controlId, trigger: 'A01', ackCode: 'AA' } : undefined;
    });
    const fresh = testJob({ id: 'fresh', redelivered: true });
    checks.accepted.set('fresh', () => undefined);
    lane.enqueue(testJob({ id: 'first' }));
    lane.enqueue(redelivered);
    lane.enqueue(fresh);
    await until(() => sender.busy);
    // The earlier copy is accepted while the redelivered one waits behind it.
    accepted = { controlId: 'again-0' };
    expect(asked).toEqual([]);
    answer.resolve(ack('AA', 'first-0'));
    await until(() => listener.settledJobs.length === 3);
    expect(asked).toEqual(['known']);
    // Only redelivered jobs are asked about.
    expect(checks.asks).toEqual(['again', 'fresh']);
    expect(sender.sentControlIds()).toEqual(['first-0', 'fresh-0']);
    expect(listener.resultOf('again')).toMatchObject({ outcome: 'accepted', action: 'ack', attempts: 1, controlId: 'again-0', ackCode: 'AA' });
    expect(listener.settledIds()).toEqual(['first', 'again', 'fresh']);
  });
});

describe('Lane: stop()', () => {
  it('abandons queued jobs at once and cuts a retry backoff short', async () => {
    const { lane, sender, listener } = makeLane((id) => ack('AR', id), { retry: { initialDelayMs: 60_000, maxDelayMs: 60_000, maxAttempts: 5 } });
    for (const id of ['a', 'b', 'c']) lane.enqueue(testJob({ id }));
    await until(() => listener.attempts.length === 1);
    const started = Date.now();
    await lane.stop(5_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(listener.abandonedJobs.map((job) => job.eventId)).toEqual(['b', 'c', 'a']);
    expect(listener.settledJobs).toEqual([]);
    expect(sender.sentControlIds()).toEqual(['a-0']);
    expect(sender.closeCalls).toBeGreaterThanOrEqual(1);
  });

  it('lets a send in flight be answered within the grace period and settles it', async () => {
    const answer = deferred<ReturnType<typeof ack>>();
    const { lane, sender, listener } = makeLane(() => answer.promise);
    lane.enqueue(testJob({ id: 'a' }));
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => sender.busy);
    const stopped = lane.stop(5_000);
    await until(() => listener.abandonedJobs.length === 1);
    expect(listener.abandonedJobs[0]!.eventId).toBe('b');
    answer.resolve(ack('AA', 'a-0'));
    await stopped;
    expect(listener.settledIds()).toEqual(['a']);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'accepted' });
    expect(sender.sentControlIds()).toEqual(['a-0']);
  });

  it('closes the connection under a send still unanswered at the end of the grace period and abandons it', async () => {
    const { lane, sender, listener } = makeLane(() => 'hang');
    lane.enqueue(testJob({ id: 'a' }));
    await until(() => sender.busy);
    const started = Date.now();
    await lane.stop(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(listener.abandonedJobs.map((job) => job.eventId)).toEqual(['a']);
    expect(listener.settledJobs).toEqual([]);
    expect(sender.closeCalls).toBeGreaterThanOrEqual(1);
  });

  it('does not retry a failure that comes back while stopping, and abandons the rest of a merge', async () => {
    const answer = deferred<ReturnType<typeof ack>>();
    const { lane, sender, listener } = makeLane((id) => (id === 'm-0' ? answer.promise : ack('AA', id)));
    lane.enqueue(testJob({ id: 'm', messages: 2, barrier: true }));
    await until(() => sender.busy);
    const stopped = lane.stop(5_000);
    answer.resolve(ack('AA', 'm-0'));
    await stopped;
    // m-0 was accepted but m-1 never sent: the event is requeued and redelivered whole.
    expect(sender.sentControlIds()).toEqual(['m-0']);
    expect(listener.abandonedJobs.map((job) => job.eventId)).toEqual(['m']);
  });

  it('abandons jobs enqueued after stop, and stop is idempotent', async () => {
    const { lane, sender, listener } = makeLane((id) => ack('AA', id));
    await lane.stop(10);
    await lane.stop(10);
    lane.enqueue(testJob({ id: 'late' }));
    expect(listener.abandonedJobs.map((job) => job.eventId)).toEqual(['late']);
    expect(sender.sends).toEqual([]);
  });
});

describe('Lane: depth and busy', () => {
  it('counts the job in flight and the waiting ones', async () => {
    const answer = deferred<ReturnType<typeof ack>>();
    const { lane, sender, listener } = makeLane((id) => (id === 'a-0' ? answer.promise : ack('AA', id)));
    const a = testJob({ id: 'a' });
    lane.enqueue(a);
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => sender.busy);
    expect(lane.busy).toBe(true);
    expect(lane.depth).toBe(2);
    expect(lane.oldestReceivedAt()).toBe(a.receivedAt);
    answer.resolve(ack('AA', 'a-0'));
    await until(() => listener.settledJobs.length === 2);
    expect(lane.busy).toBe(false);
    expect(lane.depth).toBe(0);
    expect(lane.oldestReceivedAt()).toBeUndefined();
  });
});
