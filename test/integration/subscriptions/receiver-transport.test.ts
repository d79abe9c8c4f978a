import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, startDelivery, waitReceipts } from '../../helpers/delivery.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { waitFor } from '../../helpers/wait.js';
import { metricValue, scrape } from '../../helpers/metrics.js';

/**
 * A receiver profile's transport keys end to end (README "Fitting a receiver"): framing a
 * receiver speaks only in, a connection per message, an idle connection closed, and a
 * rate limit measured where it matters, at the receiver.
 */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

async function receiver(framing?: { start: number[]; end: number[] }): Promise<ScriptedReceiver> {
  const started = await ScriptedReceiver.start(undefined, undefined, 0, framing);
  cleanups.add(() => started.close());
  return started;
}

describe('receiver profile transport', () => {
  it('framing: a receiver that speaks only its own start and end bytes gets every message and its ACKs are read', async () => {
    const custom = await receiver({ start: [0x02], end: [0x03, 0x0d] });
    const harness = await startDelivery({
      prefix: 'framing',
      port: custom.port,
      cleanups,
      entry: { profile: 'stx-etx' },
      extra: { profiles: { 'stx-etx': { framing: { start: '02', end: '030d' } } } },
    });
    const events = Array.from({ length: 5 }, () => patientEvent());
    await harness.broker.publishAll(events);
    const receipts = await waitReceipts(harness, 5);
    expect(receipts.map((receipt) => [receipt.eventId, receipt.outcome])).toEqual(events.map((event) => [event.id, 'accepted']));
    expect(custom.received).toHaveLength(5);
    expect(custom.connections).toBe(1);
  });

  it('a standard MLLP receiver does not understand those bytes: nothing is accepted', async () => {
    const standard = await receiver();
    const harness = await startDelivery({
      prefix: 'framing-mismatch',
      port: standard.port,
      cleanups,
      entry: { framing: { start: '02', end: '030d' }, timeouts: { connectMs: 1000, ackMs: 300 }, policy: { uncertain: 'dead-letter' } },
    });
    await harness.broker.publish(patientEvent());
    const [receipt] = await waitReceipts(harness, 1);
    expect(standard.received).toHaveLength(0);
    expect(receipt!.outcome).toBe('uncertain');
  });

  it('per-message connections: N messages, N connections, each closed after its ACK', async () => {
    const target = await receiver();
    const harness = await startDelivery({ prefix: 'per-message', port: target.port, cleanups, entry: { connection: { mode: 'per-message' } } });
    const events = Array.from({ length: 6 }, () => patientEvent());
    await harness.broker.publishAll(events);
    await waitReceipts(harness, 6);
    expect(target.received.map((message) => message.connection)).toEqual([1, 2, 3, 4, 5, 6]);
    await waitFor(() => target.openConnections === 0, { message: 'every connection closed' });
    expect(target.connections).toBe(6);
  });

  it('idleCloseMs: an idle connection is closed, and the next message opens a new one', async () => {
    const target = await receiver();
    const harness = await startDelivery({ prefix: 'idle', port: target.port, cleanups, entry: { connection: { mode: 'persistent', idleCloseMs: 300 } } });
    await harness.broker.publishAll([patientEvent(), patientEvent()]);
    await waitReceipts(harness, 2);
    expect(target.received.map((message) => message.connection)).toEqual([1, 1]);
    await waitFor(() => target.openConnections === 0, { message: 'the idle connection closed', timeoutMs: 5000 });
    await harness.broker.publish(patientEvent());
    await waitReceipts(harness, 3);
    expect(target.received.map((message) => message.connection)).toEqual([1, 1, 2]);
  });

  it('rateLimit.perSecond across lanes: never more than N in any second at the receiver, over 5 seconds, each patient in order', async () => {
    const perSecond = 10;
    const target = await receiver();
    const harness = await startDelivery({ prefix: 'rate', port: target.port, cleanups, entry: { lanes: 4, rateLimit: { perSecond } } });
    // 6 patients x 9 events: 54 events, at 10/s at least 5 seconds.
    const events = Array.from({ length: 54 }, (_, i) => patientEvent({ patientId: `RATE-${i % 6}` }));
    await harness.broker.publishAll(events);
    await waitReceipts(harness, events.length, 30_000);
    const times = target.received.map((message) => message.at);
    expect(times.length).toBe(events.length);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(4900);
    for (let i = perSecond; i < times.length; i++) {
      // Message i and the one perSecond before it are never within the same second.
      expect(times[i]! - times[i - perSecond]!).toBeGreaterThanOrEqual(1000);
    }
    // Each patient's events arrived in the order they were published.
    for (let patient = 0; patient < 6; patient++) {
      const published = events.filter((_, i) => i % 6 === patient).map((event) => event.id);
      const receipts = harness.receipts.map((receipt) => receipt.json()).filter((receipt) => published.includes(receipt.eventId as string));
      expect(receipts.map((receipt) => receipt.eventId)).toEqual(published);
    }
    const metrics = (await scrape(harness.daemon.daemon.port!)).body;
    expect(metricValue(metrics, 'mllp_rate_limit_wait_seconds_total', { subscription: harness.name })).toBeGreaterThan(1);
  });
});
