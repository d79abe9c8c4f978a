import { describe, expect, it } from 'vitest';
import { laneIndex, OrderedDispatcher } from '../../../src/delivery/ordered-dispatcher.js';
import { DEFAULT_POLICY, type RetrySettings } from '../../../src/delivery/policy.js';
import type { SendResult } from '../../../src/transport/mllp-client.js';
import type { Job } from '../../../src/delivery/job.js';
import { ack, deferred, FakeChecks, FakeSender, RecordingListener, testJob, unreachable, until, type Script } from './fakes.js';

const FAST: RetrySettings = { initialDelayMs: 1, maxDelayMs: 4, maxAttempts: 3 };

/** One patient key per lane: keys[i] hashes to lane i. */
function keysForLanes(lanes: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.filter(Boolean).length < lanes; i++) {
    const key = `urn:oid:1.2.3|PAT-${i}`;
    const lane = laneIndex(key, lanes);
    keys[lane] ??= key;
  }
  return keys;
}

function makeDispatcher(lanes: number, script: (lane: number) => Script) {
  const senders: FakeSender[] = [];
  const listener = new RecordingListener();
  const checks = new FakeChecks();
  const dispatcher = new OrderedDispatcher({
    lanes,
    createSender: (lane) => {
      const sender = new FakeSender(script(lane));
      senders[lane] = sender;
      return sender;
    },
    policy: DEFAULT_POLICY,
    retry: FAST,
    listener,
    checks,
    random: () => 0.5,
  });
  return { dispatcher, senders, listener, checks };
}

describe('laneIndex', () => {
  it('is stable, in range, and spreads keys over the lanes', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) {
      const key = `urn:oid:1.2.3|PAT-${i}`;
      const lane = laneIndex(key, 4);
      expect(lane).toBe(laneIndex(key, 4));
      expect(lane).toBeGreaterThanOrEqual(0);
      expect(lane).toBeLessThan(4);
      counts[lane]!++;
    }
    for (const count of counts) expect(count).toBeGreaterThan(50);
    expect(laneIndex('anything', 1)).toBe(0);
  });

  it('is pinned (FNV-1a): the lane of a patient must not move between releases', () => {
    expect(laneIndex('', 1000)).toBe(0x811c9dc5 % 1000);
    expect(laneIndex('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
  });
});

describe('OrderedDispatcher', () => {
  it('keeps each patient\'s jobs in submission order while other patients go on in parallel', async () => {
    const keys = keysForLanes(3);
    const slow = deferred<SendResult>();
    const log: string[] = [];
    const { dispatcher, listener } = makeDispatcher(3, () => (id) => {
      log.push(id);
      return id === 'p0-1-0' ? slow.promise : ack('AA', id);
    });
    const jobs: Job[] = [];
    for (let round = 1; round <= 3; round++) {
      for (let patient = 0; patient < 3; patient++) jobs.push(testJob({ id: `p${patient}-${round}`, key: keys[patient]! }));
    }
    for (const job of jobs) dispatcher.submit(job);
    // Patient 0's first job hangs; patients 1 and 2 are not held up by it.
    await until(() => listener.settledJobs.length === 6);
    expect(listener.settledIds().sort()).toEqual(['p1-1', 'p1-2', 'p1-3', 'p2-1', 'p2-2', 'p2-3']);
    expect(log.filter((id) => id.startsWith('p0-'))).toEqual(['p0-1-0']);
    expect(dispatcher.depth).toBe(3);
    slow.resolve(ack('AA', 'p0-1-0'));
    await until(() => listener.settledJobs.length === 9);
    for (let patient = 0; patient < 3; patient++) {
      const order = listener.settledIds().filter((id) => id.startsWith(`p${patient}-`));
      expect(order).toEqual([`p${patient}-1`, `p${patient}-2`, `p${patient}-3`]);
      expect(log.filter((id) => id.startsWith(`p${patient}-`))).toEqual([`p${patient}-1-0`, `p${patient}-2-0`, `p${patient}-3-0`]);
    }
    expect(dispatcher.depth).toBe(0);
  });

  it('keeps a patient\'s order when its job is retried: the next job of that patient waits', async () => {
    const keys = keysForLanes(2);
    const log: string[] = [];
    const { dispatcher, listener } = makeDispatcher(2, () => (id, attempt) => {
      log.push(id);
      return id === 'a1-0' && attempt < 3 ? ack('AR', id) : ack('AA', id);
    });
    for (const id of ['a1', 'a2', 'a3']) dispatcher.submit(testJob({ id, key: keys[0]! }));
    await until(() => listener.settledJobs.length === 3);
    expect(log).toEqual(['a1-0', 'a1-0', 'a1-0', 'a2-0', 'a3-0']);
    expect(listener.settledIds()).toEqual(['a1', 'a2', 'a3']);
  });

  it('sends a barrier (merge) only when every lane is idle, and holds what comes after it', async () => {
    const keys = keysForLanes(2);
    const slow = deferred<SendResult>();
    const merge = deferred<SendResult>();
    const log: string[] = [];
    const { dispatcher, listener } = makeDispatcher(2, () => (id) => {
      log.push(id);
      if (id === 'before-slow-0') return slow.promise;
      if (id === 'merge-1') return merge.promise;
      return ack('AA', id);
    });
    dispatcher.submit(testJob({ id: 'before-slow', key: keys[0]! }));
    dispatcher.submit(testJob({ id: 'before-fast', key: keys[1]! }));
    dispatcher.submit(testJob({ id: 'merge', key: keys[1]!, barrier: true, messages: 2 }));
    dispatcher.submit(testJob({ id: 'after-0', key: keys[0]! }));
    dispatcher.submit(testJob({ id: 'after-1', key: keys[1]! }));

    await until(() => listener.settledIds().includes('before-fast'));
    // Lane 0 is still busy with a job submitted before the merge: the merge waits, and so
    // does everything submitted after it, even on the idle lane.
    expect(log).toEqual(['before-slow-0', 'before-fast-0']);
    expect(dispatcher.depth).toBe(4);

    slow.resolve(ack('AA', 'before-slow-0'));
    await until(() => log.includes('merge-1'));
    expect(log).toEqual(['before-slow-0', 'before-fast-0', 'merge-0', 'merge-1']);
    // The merge is in flight: nothing after it may start.
    expect(listener.settledIds()).toEqual(['before-fast', 'before-slow']);

    merge.resolve(ack('AA', 'merge-1'));
    await until(() => listener.settledJobs.length === 5);
    expect(log.slice(4).sort()).toEqual(['after-0-0', 'after-1-0']);
    expect(listener.settledIds().slice(0, 3)).toEqual(['before-fast', 'before-slow', 'merge']);
    expect(listener.resultOf('merge')).toMatchObject({ outcome: 'accepted', attempts: 2, controlId: 'merge-1' });
  });

  it('runs two barriers back to back in order', async () => {
    const keys = keysForLanes(2);
    const log: string[] = [];
    const { dispatcher, listener } = makeDispatcher(2, () => (id) => {
      log.push(id);
      return ack('AA', id);
    });
    dispatcher.submit(testJob({ id: 'm1', key: keys[0]!, barrier: true }));
    dispatcher.submit(testJob({ id: 'm2', key: keys[1]!, barrier: true }));
    dispatcher.submit(testJob({ id: 'x', key: keys[0]! }));
    await until(() => listener.settledJobs.length === 3);
    expect(log).toEqual(['m1-0', 'm2-0', 'x-0']);
  });

  it('lets one lane probe an unreachable receiver while the other lanes wait at the gate', async () => {
    const keys = keysForLanes(2);
    let receiverUp = false;
    const { dispatcher, senders, listener } = makeDispatcher(2, () => (id) => (receiverUp ? ack('AA', id) : unreachable()));
    dispatcher.submit(testJob({ id: 'a', key: keys[0]! }));
    // The second send means the first came back unreachable: lane 0 holds the gate.
    await until(() => senders[0]!.sends.length >= 2);
    dispatcher.submit(testJob({ id: 'b', key: keys[1]! }));
    await until(() => senders[0]!.sends.length >= 5);
    // Lane 1 has not hammered the receiver that lane 0 found down.
    expect(senders[1]!.sends).toHaveLength(0);
    receiverUp = true;
    await until(() => listener.settledJobs.length === 2);
    expect(senders[1]!.sentControlIds()).toEqual(['b-0']);
    expect(listener.resultOf('a')).toMatchObject({ outcome: 'accepted' });
    expect(listener.resultOf('a')!.attempts).toBeGreaterThanOrEqual(5);
    expect(listener.resultOf('b')).toMatchObject({ outcome: 'accepted', attempts: 1 });
  });

  it('opens the gate when the probing lane\'s job goes stale', async () => {
    const keys = keysForLanes(2);
    const probe = testJob({ id: 'a', key: keys[0]! });
    const { dispatcher, senders, listener, checks } = makeDispatcher(2, (lane) => (id, attempt) => {
      if (lane === 0 && attempt >= 3) checks.stale.add(probe.eventId);
      return lane === 0 ? unreachable() : ack('AA', id);
    });
    dispatcher.submit(probe);
    // The second send means the first came back unreachable: lane 0 holds the gate.
    await until(() => senders[0]!.sends.length >= 2);
    dispatcher.submit(testJob({ id: 'b', key: keys[1]! }));
    await until(() => listener.settledJobs.length === 1);
    expect(listener.settledIds()).toEqual(['b']);
    expect(senders[0]!.sends).toHaveLength(3);
  });

  it('stop() requeues held jobs and waiting jobs, lets the one in flight finish, and refuses new ones', async () => {
    const keys = keysForLanes(2);
    const inFlight = deferred<SendResult>();
    const { dispatcher, senders, listener } = makeDispatcher(2, () => (id) => (id === 'a-0' ? inFlight.promise : ack('AA', id)));
    const a = testJob({ id: 'a', key: keys[0]! });
    dispatcher.submit(a);
    dispatcher.submit(testJob({ id: 'a2', key: keys[0]! }));
    dispatcher.submit(testJob({ id: 'm', key: keys[1]!, barrier: true }));
    dispatcher.submit(testJob({ id: 'after', key: keys[1]! }));
    await until(() => senders[0]!.busy);
    expect(dispatcher.oldestReceivedAt()).toBe(a.receivedAt);
    const stopped = dispatcher.stop(5_000);
    inFlight.resolve(ack('AA', 'a-0'));
    await stopped;
    expect(listener.settledIds()).toEqual(['a']);
    expect(listener.abandonedJobs.map((job) => job.eventId).sort()).toEqual(['a2', 'after', 'm']);
    dispatcher.submit(testJob({ id: 'late', key: keys[1]! }));
    expect(listener.abandonedJobs.map((job) => job.eventId)).toContain('late');
    expect(senders[1]!.sends).toHaveLength(0);
    expect(senders.every((sender) => sender.closeCalls >= 1)).toBe(true);
  });

  it('stop() releases lanes waiting at a closed gate', async () => {
    const keys = keysForLanes(2);
    const { dispatcher, senders, listener } = makeDispatcher(2, () => () => unreachable());
    dispatcher.submit(testJob({ id: 'a', key: keys[0]! }));
    // The second send means the first came back unreachable: lane 0 holds the gate.
    await until(() => senders[0]!.sends.length >= 2);
    dispatcher.submit(testJob({ id: 'b', key: keys[1]! }));
    await until(() => senders[0]!.sends.length >= 3);
    await dispatcher.stop(1_000);
    expect(listener.abandonedJobs.map((job) => job.eventId).sort()).toEqual(['a', 'b']);
    expect(senders[1]!.sends).toHaveLength(0);
  });
});
