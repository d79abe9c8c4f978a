import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../helpers/daemon.js';
import { patientEvent } from '../helpers/events.js';
import { ScriptedReceiver } from '../helpers/scripted-receiver.js';
import { makePki } from '../helpers/certs.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function setup(entry: (name: string, port: number) => Record<string, unknown>, receiver: ScriptedReceiver) {
  const broker = await TestBroker.open(testTopology('e2e'));
  cleanups.push(() => broker.close());
  cleanups.push(() => receiver.close());
  const name = uniqueName('e2e');
  broker.ownSubscription(name);
  const receipts = await broker.captureReceipts();
  const daemon = await InProcessDaemon.start(configFor(broker.topology, [entry(name, receiver.port)]));
  cleanups.push(() => daemon.stop());
  return { broker, daemon, name, receipts };
}

describe('end to end: RabbitMQ -> ADT -> MLLP -> ACK -> settle', () => {
  it('delivers create, update, merge and delete over llp in queue order and acks each event after its AA', async () => {
    const receiver = await ScriptedReceiver.start();
    const { broker, daemon, name, receipts } = await setup((n, port) => subscriptionEntry(n, port), receiver);
    const events = [
      patientEvent({ type: 'create' }),
      patientEvent({ type: 'update' }),
      patientEvent({ type: 'merge' }),
      patientEvent({ type: 'delete' }),
    ];
    await broker.publishAll(events);

    await waitFor(() => receipts.length === 4, { message: '4 receipts' });
    expect(receiver.received.map((message) => message.trigger)).toEqual(['A01', 'A08', 'A40', 'A38']);
    expect(receipts.map((receipt) => receipt.json().eventId)).toEqual(events.map((event) => event.id));
    for (const receipt of receipts) {
      expect(receipt.routingKey).toBe(`${name}.accepted`);
      expect(receipt.json()).toMatchObject({ subscription: name, outcome: 'accepted', ackCode: 'AA', attempts: 1 });
    }
    // Each receipt names the MSH-10 the receiver got.
    expect(receipts.map((receipt) => receipt.json().controlId)).toEqual(receiver.controlIds());
    // Everything was acknowledged: nothing left in the queue, nothing unacked.
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: 'queue empty' });
    expect(daemon.daemon.readiness().ready).toBe(true);
    // One persistent connection for the whole stream.
    expect(receiver.connections).toBe(1);
  });

  it('delivers over sllp with mutual TLS, verifying the receiver and presenting the client certificate', async () => {
    const pki = makePki();
    const receiver = await ScriptedReceiver.start(undefined, {
      cert: pki.read(pki.serverCert),
      key: pki.read(pki.serverKey),
      ca: pki.read(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    const { broker, receipts } = await setup(
      (n, port) =>
        subscriptionEntry(n, port, {
          endpoint: `sllp://localhost:${port}`,
          settings: { MSH34: 'TEST_APP|TEST_FAC', Transport: 'sllp' },
          tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, minVersion: 'TLSv1.2' },
        }),
      receiver,
    );
    const event = patientEvent({ type: 'create' });
    await broker.publish(event);
    await waitFor(() => receipts.length === 1, { message: 'receipt' });
    expect(receipts[0]!.json()).toMatchObject({ eventId: event.id, outcome: 'accepted', ackCode: 'AA' });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.text).toMatch(/^MSH\|\^~\\&\|TEST_APP\|TEST_FAC\|/);
  });
});
