import { describe, expect, it } from 'vitest';
import { Lane } from '../../../src/delivery/lane.js';
import { DEFAULT_POLICY, type OutcomePolicy, type RetrySettings } from '../../../src/delivery/policy.js';
import { ReceiverGate } from '../../../src/delivery/receiver-gate.js';
import type { ApplicationAnswer } from '../../../src/transport/mllp-client.js';
import { ack, applicationAck, committed, deferred, FakeChecks, FakeSender, RecordingListener, testJob, until, type Script } from './fakes.js';

/**
 * The lane in enhanced acknowledgment mode: a CA lets the next job go out, each job is
 * settled by its application ACK, in lane order (README "Delivery and outcomes").
 */

const FAST: RetrySettings = { initialDelayMs: 1, maxDelayMs: 4, maxAttempts: 3 };

function makeLane(script: Script, policy: OutcomePolicy = DEFAULT_POLICY) {
  const sender = new FakeSender(script);
  const listener = new RecordingListener();
  const done: string[] = [];
  const lane = new Lane({ index: 0, sender, policy, retry: FAST, gate: new ReceiverGate(), listener, checks: new FakeChecks(), onJobDone: (job) => done.push(job.eventId), random: () => 0.5 });
  return { lane, sender, listener, done };
}

/** A script that commits every send and hands out one deferred application ACK per send. */
function pending() {
  const answers = new Map<string, Array<{ resolve: (answer: ApplicationAnswer) => void }>>();
  const script: Script = (controlId) => {
    const answer = deferred<ApplicationAnswer>();
    answers.set(controlId, [...(answers.get(controlId) ?? []), answer]);
    return committed(controlId, answer.promise);
  };
  /** Answers the latest send of `controlId`. */
  const answer = (controlId: string, result: ApplicationAnswer) => answers.get(controlId)!.at(-1)!.resolve(result);
  return { script, answer };
}

describe('Lane, enhanced mode', () => {
  it('sends the next job after the CA, and settles each job only after its application ACK, in lane order', async () => {
    const { script, answer } = pending();
    const { lane, sender, listener, done } = makeLane(script);
    for (const id of ['a', 'b', 'c']) lane.enqueue(testJob({ id }));
    await until(() => sender.sends.length === 3, 2000, 'three sends');
    expect(sender.sentControlIds()).toEqual(['a-0', 'b-0', 'c-0']);
    expect(lane.busy).toBe(true);
    expect(lane.depth).toBe(3);
    // b and c are answered first: neither is settled before a.
    answer('c-0', applicationAck('AA', 'c-0'));
    answer('b-0', applicationAck('AE', 'b-0'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(listener.settledJobs).toEqual([]);
    answer('a-0', applicationAck('AA', 'a-0'));
    await until(() => listener.settledJobs.length === 3);
    expect(listener.settledIds()).toEqual(['a', 'b', 'c']);
    expect(done).toEqual(['a', 'b', 'c']);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'accepted', action: 'ack', ackCode: 'AA', latencyMs: 40, attempts: 1 });
    expect(listener.resultOf('b')).toMatchObject({ outcome: 'application-error', action: 'dead-letter', ackCode: 'AE', reason: 'receiver answered AE' });
    expect(listener.attempts.map((report) => [report.message.controlId, report.outcome, report.ackCode])).toEqual([
      ['a-0', 'accepted', 'AA'],
      ['b-0', 'application-error', 'AE'],
      ['c-0', 'accepted', 'AA'],
    ]);
    expect(lane.busy).toBe(false);
  });

  it('no application ACK in time: application-ack-timeout, dead-lettered by default, nothing resent', async () => {
    const { lane, sender, listener } = makeLane((id) => committed(id, Promise.resolve({ kind: 'timeout', reason: 'committed (CA), then no application ACK within 50 ms' })));
    lane.enqueue(testJob({ id: 't' }));
    await until(() => listener.settledJobs.length === 1);
    expect(listener.resultOf('t')).toMatchObject({ outcome: 'application-ack-timeout', action: 'dead-letter', attempts: 1, ackCode: 'CA', reason: 'committed (CA), then no application ACK within 50 ms' });
    expect(sender.sentControlIds()).toEqual(['t-0']);
  });

  it('an application AR (retry by default) resends that message, before anything new goes out; later jobs still settle after it', async () => {
    const { script, answer } = pending();
    const { lane, sender, listener } = makeLane(script);
    lane.enqueue(testJob({ id: 'a' }));
    lane.enqueue(testJob({ id: 'b' }));
    await until(() => sender.sends.length === 2);
    answer('a-0', applicationAck('AR', 'a-0'));
    await until(() => listener.attempts.length === 1, 2000, 'the AR judged');
    expect(listener.attempts[0]).toMatchObject({ outcome: 'rejected', ackCode: 'AR', retryInMs: 1 });
    lane.enqueue(testJob({ id: 'c' }));
    await until(() => sender.sends.length === 4);
    // a's resend goes out before c (the lane is held while a retry waits).
    expect(sender.sentControlIds()).toEqual(['a-0', 'b-0', 'a-0', 'c-0']);
    answer('b-0', applicationAck('AA', 'b-0'));
    answer('c-0', applicationAck('AA', 'c-0'));
    answer('a-0', applicationAck('AA', 'a-0'));
    await until(() => listener.settledJobs.length === 3);
    expect(listener.settledIds()).toEqual(['a', 'b', 'c']);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'accepted', attempts: 2, ackCode: 'AA' });
  });

  it('a job of two messages waits for the first one\'s application ACK before sending the second', async () => {
    const { script, answer } = pending();
    const { lane, sender, listener } = makeLane(script);
    lane.enqueue(testJob({ id: 'm', messages: 2, barrier: true }));
    await until(() => sender.sends.length === 1);
    expect(sender.busy).toBe(false);
    answer('m-0', applicationAck('AA', 'm-0'));
    await until(() => sender.sends.length === 2);
    answer('m-1', applicationAck('AA', 'm-1'));
    await until(() => listener.settledJobs.length === 1);
    expect(listener.resultOf('m')).toMatchObject({ outcome: 'accepted', attempts: 2, controlId: 'm-1' });
  });

  it('a CA without an application ACK due settles at once (MSH-16 NE or ER), as in original mode', async () => {
    const { lane, listener } = makeLane((id) => ack('CA', id));
    lane.enqueue(testJob({ id: 'n' }));
    await until(() => listener.settledJobs.length === 1);
    expect(listener.resultOf('n')).toMatchObject({ outcome: 'accepted', ackCode: 'CA' });
  });

  it('stop: a job waiting for its application ACK gets the grace period, then is abandoned (requeued)', async () => {
    const { script, answer } = pending();
    const { lane, sender, listener } = makeLane(script);
    lane.enqueue(testJob({ id: 'g' }));
    lane.enqueue(testJob({ id: 'h' }));
    await until(() => sender.sends.length === 2);
    const stopped = lane.stop(5_000);
    answer('g-0', applicationAck('AA', 'g-0'));
    await until(() => listener.settledJobs.length === 1);
    // h's answer never comes; closing the sender (the grace ran out) ends its wait.
    answer('h-0', { kind: 'closed', reason: 'connection closed by the dispatcher' });
    await stopped;
    expect(listener.events.filter((event) => !event.startsWith('attempt'))).toEqual(['settled g accepted', 'abandoned h']);
  });
});
