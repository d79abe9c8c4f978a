import { describe, expect, it } from 'vitest';
import { LaneServer } from '../../../src/delivery/thread/lane-server.js';
import type { DeliveryStreamSettings, FromThread, ToThread } from '../../../src/delivery/thread/protocol.js';
import { DEFAULT_POLICY } from '../../../src/delivery/policy.js';
import { ack, FakeSender, testJob, until } from './fakes.js';

const SETTINGS: DeliveryStreamSettings = {
  subscription: 'unit',
  lanes: 2,
  policy: DEFAULT_POLICY,
  retry: { initialDelayMs: 1, maxDelayMs: 4, maxAttempts: 3 },
  endpoint: { host: '127.0.0.1', port: 1, secure: false },
  connectTimeoutMs: 1000,
  charset: 'UTF-8',
  ackTimeoutMs: 1000,
};


/** A LaneServer on fake senders; what it posts is collected in order, batch by batch. */
function makeServer() {
  const posted: FromThread[] = [];
  const batches: number[] = [];
  const senders: FakeSender[] = [];
  const server = new LaneServer(
    SETTINGS,
    {
      postMessage: (batch) => {
        batches.push((batch as FromThread[]).length);
        posted.push(...(batch as FromThread[]));
      },
    },
    () => {
      const sender = new FakeSender((controlId) => ack('AA', controlId));
      senders.push(sender);
      return sender;
    },
  );
  const send = (...messages: ToThread[]) => server.handle(messages);
  const ofType = <T extends FromThread['type']>(type: T) => posted.filter((m): m is Extract<FromThread, { type: T }> => m.type === type);
  return { server, posted, batches, senders, send, ofType };
}

describe('LaneServer (the delivery thread\'s side)', () => {
  it('sends jobs of the live generation and reports each attempt, then its settlement, by seq', async () => {
    const { send, ofType, senders } = makeServer();
    const jobs = [testJob(), testJob()];
    send({ type: 'live-generation', generation: 1 }, ...jobs.map((job) => ({ type: 'submit' as const, job })));
    await until(() => ofType('settled').length === 2);
    expect(ofType('settled').map((m) => [m.seq, m.result.outcome, m.result.controlId])).toEqual(jobs.map((job) => [job.seq, 'accepted', job.messages[0]!.controlId]));
    expect(ofType('attempted').map((m) => [m.report.seq, m.report.message, m.report.outcome])).toEqual(jobs.map((job) => [job.seq, 0, 'accepted']));
    expect(senders.flatMap((sender) => sender.sentControlIds()).sort()).toEqual(jobs.map((job) => job.messages[0]!.controlId).sort());
  });

  it('drops, unsent, a job whose broker connection is no longer live', async () => {
    const { send, ofType, senders } = makeServer();
    const stale = testJob({ generation: 1 });
    send({ type: 'live-generation', generation: 2 }, { type: 'submit', job: stale });
    await until(() => ofType('dropped').length === 1);
    expect(ofType('dropped')[0]!.seq).toBe(stale.seq);
    expect(ofType('settled')).toEqual([]);
    expect(senders.flatMap((sender) => sender.sends)).toEqual([]);
  });

  it('asks about a redelivered job when it reaches the front of its lane, and settles it with the answer', async () => {
    const { send, ofType, senders } = makeServer();
    const copy = testJob({ redelivered: true });
    send({ type: 'live-generation', generation: 1 }, { type: 'submit', job: copy });
    await until(() => ofType('ask-accepted').length === 1);
    expect(ofType('ask-accepted')[0]!.seq).toBe(copy.seq);
    expect(senders.flatMap((sender) => sender.sends)).toEqual([]);
    const earlier = { outcome: 'accepted' as const, action: 'ack' as const, attempts: 1, uncertainSends: 0, controlId: copy.messages[0]!.controlId, trigger: 'A01' as const, ackCode: 'AA' };
    send({ type: 'already-accepted', seq: copy.seq, result: earlier });
    await until(() => ofType('settled').length === 1);
    expect(ofType('settled')[0]).toEqual({ type: 'settled', seq: copy.seq, result: earlier });
    expect(senders.flatMap((sender) => sender.sends)).toEqual([]);
  });

  it('sends a redelivered job when the main thread knows no earlier acceptance', async () => {
    const { send, ofType, senders } = makeServer();
    const copy = testJob({ redelivered: true });
    send({ type: 'live-generation', generation: 1 }, { type: 'submit', job: copy });
    await until(() => ofType('ask-accepted').length === 1);
    send({ type: 'already-accepted', seq: copy.seq, result: null });
    await until(() => ofType('settled').length === 1);
    expect(senders.flatMap((sender) => sender.sentControlIds())).toEqual([copy.messages[0]!.controlId]);
  });

  it('posts "stopped" last, after everything it reports about the jobs', async () => {
    const { send, posted, ofType } = makeServer();
    send({ type: 'live-generation', generation: 1 }, { type: 'submit', job: testJob() }, { type: 'submit', job: testJob() }, { type: 'stop', graceMs: 1000 });
    await until(() => ofType('stopped').length === 1);
    expect(posted.at(-1)).toEqual({ type: 'stopped' });
    expect(ofType('settled').length + ofType('abandoned').length).toBe(2);
  });

  it('posts what one turn produced as one batch', async () => {
    const { send, batches, ofType } = makeServer();
    send({ type: 'live-generation', generation: 1 }, { type: 'submit', job: testJob() });
    await until(() => ofType('settled').length === 1);
    // The ACK's turn: the attempt and the settlement leave together.
    expect(batches.at(-1)).toBeGreaterThanOrEqual(2);
  });
});
