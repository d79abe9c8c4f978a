import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { metricValue, scrape } from '../../helpers/metrics.js';
import { makePki } from '../../helpers/certs.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

describe('/metrics after real traffic', () => {
  it('counts what the receiver saw, by subscription, outcome and trigger', async () => {
    // The receiver answers AE to the event whose family name is "Reject", AA to the rest.
    const receiver = await ScriptedReceiver.start((message) => ({ kind: 'ack', code: message.text.includes('|Reject^') ? 'AE' : 'AA' }));
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('metrics'));
    cleanups.push(() => broker.close());
    const name = uniqueName('metrics');
    broker.ownSubscription(name);
    const receipts = await broker.captureReceipts();
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [subscriptionEntry(name, receiver.port, { when: ['patient.gender=female'] })], { amqp: { queuePollMs: 100 } }),
    );
    cleanups.push(() => daemon.stop());

    const events = [
      patientEvent({ type: 'create' }),
      patientEvent({ type: 'update' }),
      patientEvent({ type: 'merge' }),
      patientEvent({ type: 'delete' }),
      patientEvent({ type: 'create', family: 'Reject' }),
      { ...patientEvent({ type: 'update' }), patient: { ...(patientEvent().patient as object), gender: 'male' } },
    ];
    await broker.publishAll(events);
    await broker.publish(Buffer.from('not json'), { messageId: 'broken-1' });
    await waitFor(() => receipts.length === events.length + 1, { message: 'a receipt per event' });

    const port = daemon.daemon.port!;
    const labels = { subscription: name };
    await waitFor(async () => metricValue((await scrape(port)).body, 'mllp_queue_messages', { ...labels, queue: 'dead' }) === 2, {
      message: 'dead-letter depth polled from the broker',
    });
    const { status, body } = await scrape(port);
    expect(status).toBe(200);
    const value = (metric: string, extra: Record<string, string> = {}) => metricValue(body, metric, { ...labels, ...extra });

    const sentBy = (trigger: string) => receiver.received.filter((message) => message.trigger === trigger).length;
    expect(value('mllp_events_total', { outcome: 'accepted' })).toBe(4);
    expect(value('mllp_events_total', { outcome: 'application-error' })).toBe(1);
    expect(value('mllp_events_total', { outcome: 'filtered' })).toBe(1);
    expect(value('mllp_events_total', { outcome: 'invalid-event' })).toBe(1);
    for (const trigger of ['A01', 'A08', 'A40', 'A38']) expect(value('mllp_messages_sent_total', { trigger })).toBe(sentBy(trigger));
    expect(receiver.received).toHaveLength(5);
    expect(value('mllp_send_attempts_total', { outcome: 'accepted' })).toBe(4);
    expect(value('mllp_send_attempts_total', { outcome: 'application-error' })).toBe(1);
    expect(value('mllp_dead_letters_total', { outcome: 'application-error' })).toBe(1);
    expect(value('mllp_dead_letters_total', { outcome: 'invalid-event' })).toBe(1);
    expect(value('mllp_ack_latency_seconds_count')).toBe(4);
    expect(value('mllp_ack_latency_seconds_sum')).toBeGreaterThan(0);
    expect(value('mllp_receiver_connections')).toBe(1);
    expect(value('mllp_receiver_up')).toBe(1);
    expect(value('mllp_broker_connected')).toBe(1);
    expect(value('mllp_subscription_consuming')).toBe(1);
    expect(value('mllp_subscription_active')).toBe(1);
    expect(value('mllp_queue_messages', { queue: 'events' })).toBe(0);
    expect(value('mllp_oldest_event_age_seconds')).toBe(0);
    expect(value('mllp_stream_events')).toBe(0);
    const lastAccepted = value('mllp_last_accepted_timestamp_seconds')!;
    expect(Math.abs(lastAccepted - Date.now() / 1000)).toBeLessThan(60);
    // No label carries anything from an event.
    expect(body).not.toContain('PAT-000123');
    expect(body).not.toContain('Testperson');
  });

  it('reports the age of the oldest waiting event while a feed is stalled', async () => {
    const receiver = await ScriptedReceiver.start(() => ({ kind: 'none' }));
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('stall'));
    cleanups.push(() => broker.close());
    const name = uniqueName('stall');
    broker.ownSubscription(name);
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [subscriptionEntry(name, receiver.port, { timeouts: { connectMs: 1000, ackMs: 60_000 } })]),
    );
    cleanups.push(() => daemon.stop());
    await broker.publishAll([patientEvent(), patientEvent()]);
    await waitFor(() => receiver.received.length === 1, { message: 'first message in flight' });
    const age = await waitFor(async () => {
      const seconds = metricValue((await scrape(daemon.daemon.port!)).body, 'mllp_oldest_event_age_seconds', { subscription: name })!;
      return seconds >= 0.3 ? seconds : undefined;
    }, { message: 'age grows' });
    expect(age).toBeGreaterThanOrEqual(0.3);
    expect(metricValue((await scrape(daemon.daemon.port!)).body, 'mllp_stream_events', { subscription: name })).toBe(2);
  });

  it('exposes the expiry of the TLS certificates in use', async () => {
    const pki = makePki({ DAYS: '30' });
    const receiver = await ScriptedReceiver.start(undefined, { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), ca: pki.read(pki.ca), requestCert: true });
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('tlsexp'));
    cleanups.push(() => broker.close());
    const name = uniqueName('tlsexp');
    broker.ownSubscription(name);
    const receipts = await broker.captureReceipts();
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [
        subscriptionEntry(name, receiver.port, {
          endpoint: `sllp://localhost:${receiver.port}`,
          tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
        }),
      ]),
    );
    cleanups.push(() => daemon.stop());
    await broker.publish(patientEvent());
    await waitFor(() => receipts.length === 1, { message: 'receipt' });
    const body = (await scrape(daemon.daemon.port!)).body;
    const in30Days = Date.now() / 1000 + 30 * 86400;
    for (const certificate of ['client', 'server']) {
      const expiry = metricValue(body, 'mllp_tls_certificate_expiry_timestamp_seconds', { subscription: name, certificate })!;
      expect(Math.abs(expiry - in30Days)).toBeLessThan(86400 * 1.5);
    }
  });
});
