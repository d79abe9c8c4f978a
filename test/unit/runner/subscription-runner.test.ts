import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createEventDecoder } from '../../../src/event/decode-event.js';
import { DispatcherMetrics } from '../../../src/observability/metrics.js';
import { SubscriptionRunner } from '../../../src/runner/subscription-runner.js';
import type { SendResult } from '../../../src/transport/mllp-client.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';
import { patientEvent } from '../../helpers/events.js';
import { waitFor } from '../../helpers/wait.js';
import { configDir, load, minimalSubscription } from '../config/config-fixtures.js';
import { ack, deferred, FakeSender, unreachable } from '../delivery/fakes.js';
import { FakeSession } from './fake-session.js';

/** The runner wired to a fake broker session and a fake receiver (one lane, no sockets). */

const dir = configDir();
afterAll(() => dir.cleanup());
const decode = createEventDecoder({ maxMessageBytes: 1 << 20 });
const runners: SubscriptionRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop(100)));
});

function setup(script?: ConstructorParameters<typeof FakeSender>[0]) {
  const config = load({ configFile: dir.write(`c-${runners.length}-${Date.now()}.json`, { subscriptions: [minimalSubscription('unit-feed', { events: ['create', 'update'] })] }) });
  const { logger, lines } = capturingLogger();
  const senders: FakeSender[] = [];
  let session!: FakeSession;
  const runner = new SubscriptionRunner({
    subscription: config.subscriptions[0]!,
    amqp: config.amqp,
    logger,
    metrics: new DispatcherMetrics({ defaultMetrics: false }),
    phi: false,
    decodeEvent: decode,
    onFatal: (error) => {
      throw error;
    },
    adapters: {
      createSession: (options) => (session = new FakeSession(options)),
      createSender: () => {
        const sender = new FakeSender(script);
        senders.push(sender);
        return sender;
      },
    },
  });
  runners.push(runner);
  runner.start();
  return { runner, session, senders, lines, config };
}

const receiptsOf = (session: FakeSession, exchange: string) => session.published.filter((p) => p.exchange === exchange).map((p) => JSON.parse(p.content.toString()) as Record<string, unknown>);

describe('SubscriptionRunner (fake broker session, fake receiver)', () => {
  it('sends a deliverable event once, then publishes its receipt, then acks; bad input is dead-lettered, a filtered event acked', async () => {
    const { session, senders, config } = setup();
    const good = session.deliver(patientEvent());
    const bad = session.deliver(Buffer.from('not json'), { messageId: 'bad-1' });
    const filtered = session.deliver(patientEvent({ type: 'delete' }));
    await waitFor(() => session.acks.length === 3, { message: 'three events acknowledged' });
    expect(senders[0]!.sends).toHaveLength(1);
    expect(session.acks).toEqual(expect.arrayContaining([good, bad, filtered]));
    const outcomes = receiptsOf(session, config.amqp.receiptsExchange).map((receipt) => [receipt.eventId, receipt.outcome]);
    expect(outcomes).toEqual(
      expect.arrayContaining([
        [(JSON.parse(good.message.content.toString()) as { id: string }).id, 'accepted'],
        ['bad-1', 'invalid-event'],
        [(JSON.parse(filtered.message.content.toString()) as { id: string }).id, 'filtered'],
      ]),
    );
    const deadLetters = session.published.filter((p) => p.exchange === config.amqp.deadLetterExchange);
    expect(deadLetters.map((p) => [p.routingKey, p.mandatory, p.options.headers?.['x-mllp-outcome']])).toEqual([['unit-feed', true, 'invalid-event']]);
  });

  it('an event accepted after its connection was lost is not acked; its redelivery is acked without sending it again', async () => {
    const answer = deferred<SendResult>();
    const { session, senders, lines } = setup((controlId) => answer.promise.then(() => ack('AA', controlId)));
    const event = patientEvent();
    session.deliver(event);
    await waitFor(() => senders[0]?.sends.length === 1, { message: 'sent' });
    session.lose();
    answer.resolve(ack('AA', 'x'));
    await waitFor(() => lines.some((line) => line.msg === 'broker connection lost before the event was acknowledged; the broker will redeliver it'), { message: 'stale' });
    expect(session.acks).toEqual([]);
    session.connect();
    const redelivered = session.deliver(event, { redelivered: true });
    await waitFor(() => session.acks.length === 1, { message: 'redelivery acknowledged' });
    expect(session.acks).toEqual([redelivered]);
    expect(senders[0]!.sends).toHaveLength(1);
  });

  it('stop runs every step even when the broker never answers the close, and ends within its deadline', async () => {
    const { runner, session, senders, lines } = setup();
    session.closeHangs = true;
    const started = Date.now();
    await runner.stop(100);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(session.closeCalls).toBe(1);
    expect(senders[0]!.closeCalls).toBeGreaterThan(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((line) => line.msg === 'stop step overran its deadline; going on with the next').map((line) => line.step)).toEqual(['broker session']);
    expect(lines.some((line) => line.msg === 'subscription stopped')).toBe(true);
    // Memoised: a second stop is the same stop.
    await runner.stop(100);
    expect(session.closeCalls).toBe(1);
  });

  it('status: the broker state and block, the receiver health and the events in flight, as /readyz shows them', async () => {
    const { runner, session } = setup(() => unreachable());
    expect(runner.status()).toEqual({
      name: 'unit-feed',
      broker: 'consuming',
      consuming: true,
      role: 'unknown',
      receiverConnections: 0,
      receiverUp: true,
      eventsInFlight: 0,
      unroutableDeadLetters: 0,
    });
    session.blocked = 'low on memory';
    session.deliver(patientEvent());
    await waitFor(() => runner.status().receiverUp === false, { message: 'receiver down' });
    const status = runner.status();
    expect(status).toMatchObject({ brokerBlocked: 'low on memory', receiverUp: false, eventsInFlight: 1, receiverError: 'socket error ECONNREFUSED: connect ECONNREFUSED' });
    expect(Date.parse(status.receiverDownSince!)).not.toBeNaN();
    expect(status.resolutionWaiting).toBeUndefined();
  });
});
