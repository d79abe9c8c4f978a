import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryStream } from '../../../src/delivery/thread/delivery-stream.js';
import { DeliveryThread } from '../../../src/delivery/thread/delivery-thread.js';
import { laneIndex } from '../../../src/delivery/ordered-dispatcher.js';
import { DEFAULT_POLICY } from '../../../src/delivery/policy.js';
import type { AttemptReport, Job, JobResult } from '../../../src/delivery/job.js';
import { ScriptedReceiver, type Behaviour } from '../../helpers/scripted-receiver.js';
import { closedPort } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * DeliveryStream with several lanes runs its LaneServer on a worker thread: real thread,
 * real MLLP over TCP to a scripted receiver. (One lane runs the same server in-process; the
 * rest of the suite covers that path.)
 */

let counter = 0;
const laneKeyOf = (patient: number) => `urn:oid:1.2.3|P${patient}`;
function job(patient: number, options: { redelivered?: boolean; generation?: number } = {}): Job {
  const seq = ++counter;
  const id = `ds-${process.pid}-${seq}`;
  return {
    seq,
    eventId: id,
    messages: [{ trigger: 'A08', controlId: id, text: `MSH|^~\\&|APP|FAC|RCV|RFAC|20260315143022||ADT^A08^ADT_A01|${id}|P|2.5\rEVN|A08|20260315143022\r` }],
    laneKey: laneKeyOf(patient),
    barrier: false,
    receivedAt: Date.now(),
    generation: options.generation ?? 1,
    redelivered: options.redelivered ?? false,
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  lanes: number,
  accepted: (job: Job) => JobResult | undefined = () => undefined,
  options: { thread?: DeliveryThread; behaviour?: Behaviour; port?: number; onCrash?: (error: Error) => void } = {},
) {
  const receiver = await ScriptedReceiver.start(options.behaviour);
  cleanups.push(() => receiver.close());
  const settled: Array<{ job: Job; result: JobResult }> = [];
  const attempts: AttemptReport[] = [];
  const dropped: Job[] = [];
  const abandoned: Job[] = [];
  const connected: number[] = [];
  const stream = new DeliveryStream({
    settings: {
      subscription: 'delivery-stream-test',
      lanes,
      policy: DEFAULT_POLICY,
      retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
      endpoint: { host: '127.0.0.1', port: options.port ?? receiver.port, secure: false },
      connectTimeoutMs: 2000,
      charset: 'UTF-8',
  ackTimeoutMs: 2000,
    },
    listener: {
      settled: (j, result) => settled.push({ job: j, result }),
      abandoned: (j) => abandoned.push(j),
      dropped: (j) => dropped.push(j),
      attempted: (report) => attempts.push(report),
    },
    connections: { connected: (lane) => connected.push(lane), disconnected: () => {}, ignoredFrame: () => {}, lateAnswer: () => {} },
    alreadyAccepted: accepted,
    onCrash:
      options.onCrash ??
      ((error) => {
        throw error;
      }),
    ...(options.thread ? { thread: options.thread } : {}),
  });
  cleanups.push(() => stream.stop(1000));
  stream.setLiveGeneration(1);
  return { receiver, stream, settled, attempts, dropped, abandoned, connected };
}

describe('DeliveryStream on a delivery thread (lanes > 1)', () => {
  it('delivers every job once over one connection per lane, each patient in order, and reports it back', async () => {
    const { receiver, stream, settled, attempts, connected } = await setup(4);
    const jobs = Array.from({ length: 200 }, (_, i) => job(i % 20));
    for (const j of jobs) stream.submit(j);
    expect(stream.depth).toBe(200);
    await waitFor(() => settled.length === 200, { message: 'every job settled' });
    expect(stream.depth).toBe(0);
    expect(stream.oldestReceivedAt()).toBeUndefined();
    expect(settled.every(({ result }) => result.outcome === 'accepted' && result.ackCode === 'AA')).toBe(true);
    expect(new Set(settled.map(({ job: j }) => j.eventId)).size).toBe(200);
    expect(attempts).toHaveLength(200);
    // The main-thread job objects come back (not copies), with their own message objects.
    expect(settled.every(({ job: j }) => jobs.includes(j))).toBe(true);
    expect(attempts.every((report) => report.message === report.job.messages[0])).toBe(true);
    // Per patient, the receiver got the messages in submission order.
    const received = receiver.controlIds();
    expect(received).toHaveLength(200);
    for (let patient = 0; patient < 20; patient++) {
      const ids = jobs.filter((j) => j.laneKey === laneKeyOf(patient)).map((j) => j.eventId);
      expect(received.filter((id) => ids.includes(id))).toEqual(ids);
    }
    expect(new Set(connected)).toEqual(new Set(jobs.map((j) => laneIndex(j.laneKey, 4))));
  });

  it('drops jobs of a broker connection that is gone, and answers redelivered ones from the main thread', async () => {
    const earlier = job(1);
    const { receiver, stream, settled, dropped } = await setup(2, (j) =>
      j.eventId === earlier.eventId ? { outcome: 'accepted', action: 'ack', attempts: 1, uncertainSends: 0, controlId: j.eventId, trigger: 'A08', ackCode: 'AA' } : undefined,
    );
    const stale = job(2, { generation: 1 });
    stream.setLiveGeneration(2);
    stream.submit(stale);
    const redelivered: Job = { ...earlier, seq: ++counter, generation: 2, redelivered: true };
    const fresh = job(3, { generation: 2, redelivered: true });
    stream.submit(redelivered);
    stream.submit(fresh);
    await waitFor(() => settled.length === 2 && dropped.length === 1, { message: 'two settled, one dropped' });
    expect(dropped).toEqual([stale]);
    expect(receiver.controlIds()).toEqual([fresh.eventId]);
    expect(settled.find(({ job: j }) => j === redelivered)?.result.attempts).toBe(1);
    expect(stream.depth).toBe(0);
  });

  it('stops: a job submitted afterwards comes back abandoned at once', async () => {
    const { stream, abandoned } = await setup(2);
    await stream.stop(1000);
    const late = job(9);
    stream.submit(late);
    expect(abandoned).toEqual([late]);
    expect(stream.depth).toBe(0);
  });

  it('runs many subscriptions on one thread: one whose receiver never answers or is down delays no other; the thread ends with its last stream', async () => {
    const thread = new DeliveryThread();
    const silent = await setup(4, undefined, { thread, behaviour: () => ({ kind: 'none' }) });
    const down = await setup(4, undefined, { thread, port: await closedPort() });
    const healthy = await setup(4, undefined, { thread });
    expect(thread.streams).toBe(3);
    for (let i = 0; i < 20; i++) {
      silent.stream.submit(job(i));
      down.stream.submit(job(i));
    }
    await waitFor(() => silent.receiver.received.length >= 4 && down.attempts.some((report) => report.outcome === 'unreachable'), {
      message: 'one stream waiting for ACKs, one for its receiver',
    });
    const started = Date.now();
    const jobs = Array.from({ length: 200 }, (_, i) => job(i % 20));
    for (const j of jobs) healthy.stream.submit(j);
    await waitFor(() => healthy.settled.length === 200, { timeoutMs: 5000, message: 'the healthy stream settled everything' });
    const elapsedMs = Date.now() - started;
    expect(healthy.settled.every(({ result }) => result.outcome === 'accepted')).toBe(true);
    expect(silent.settled).toEqual([]);
    expect(down.settled).toEqual([]);
    // The ACK timeout (2 s) of the silent stream never held the healthy one up.
    expect(elapsedMs).toBeLessThan(2000);
    await Promise.all([silent.stream.stop(100), down.stream.stop(100)]);
    expect(silent.abandoned.length + down.abandoned.length).toBe(40);
    expect(thread.running).toBe(true);
    await healthy.stream.stop(100);
    expect(thread.streams).toBe(0);
    expect(thread.running).toBe(false);
  });

  it('a thread that dies tells every stream on it, and the next stream starts a new thread', async () => {
    const thread = new DeliveryThread();
    const crashes: Error[] = [];
    let healthyCrash!: (error: Error) => void;
    const healthyCrashed = new Promise<Error>((resolve) => (healthyCrash = resolve));
    await setup(2, undefined, { thread, onCrash: (error) => healthyCrash(error) });
    const raw = thread.open(
      { subscription: 'crash-test', lanes: 2, policy: DEFAULT_POLICY, retry: { initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 }, endpoint: { host: '127.0.0.1', port: 1, secure: false }, connectTimeoutMs: 100, ackTimeoutMs: 100, charset: 'UTF-8' },
      { onBatch: () => {}, onCrash: (error) => crashes.push(error) },
    );
    // A malformed batch: the thread's code throws, uncaught (what a bug there would do).
    raw.target.postMessage([{ type: 'submit', job: null }]);
    const error = await healthyCrashed;
    expect(error).toBeInstanceOf(Error);
    await waitFor(() => crashes.length === 1, { message: 'the raw stream told too' });
    expect(thread.running).toBe(false);
    expect(thread.streams).toBe(0);
    const next = await setup(2, undefined, { thread });
    expect(thread.running).toBe(true);
    next.stream.submit(job(1));
    await waitFor(() => next.settled.length === 1, { message: 'the new thread delivers' });
  });
});
