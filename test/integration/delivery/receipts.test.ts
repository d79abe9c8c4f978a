import { afterEach, describe, expect, it } from 'vitest';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { Cleanups, receiptOf, startDelivery, takeDeadLetters, unackedAfterStop, waitReceipts } from '../../helpers/delivery.js';
import { waitFor } from '../../helpers/wait.js';

/** Receipts (ACK tracking, README "Delivery and outcomes"): one per event on `mllp.receipts`, key `<subscription>.<outcome>`. */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const RECEIPT_FIELDS = ['eventId', 'subscription', 'controlId', 'trigger', 'outcome', 'ackCode', 'attempts', 'latencyMs', 'at'].sort();

describe('receipts', () => {
  it('publishes one receipt per event, whatever its outcome, with the contract\'s fields', async () => {
    let rejectId = '';
    let errorId = '';
    const receiver = await ScriptedReceiver.start((message) => ({
      kind: 'ack',
      code: message.controlId === rejectId ? 'AR' : message.controlId === errorId ? 'AE' : 'AA',
    }));
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({
      prefix: 'receipts',
      port: receiver.port,
      cleanups,
      // SendAs Client: a delete is skipped. Only women are sent: a man is filtered.
      entry: { settings: { MSH34: 'TEST_APP|TEST_FAC', SendAs: 'Client' }, when: ['patient.gender=female'] },
    });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const accepted = patientEvent();
    const rejected = patientEvent();
    const error = patientEvent();
    const skipped = patientEvent({ type: 'delete' });
    const filtered = patientEvent();
    (filtered.patient as Record<string, unknown>).gender = 'male';
    rejectId = cid(rejected);
    errorId = cid(error);
    const started = Date.now();
    await harness.broker.publishAll([accepted, rejected, error, skipped, filtered]);
    await harness.broker.publish(Buffer.from('not json'), { messageId: 'evt-not-json' });
    await waitReceipts(harness, 6);
    await takeDeadLetters(harness, 3);

    for (const receipt of harness.receipts) {
      const body = receipt.json();
      expect(Object.keys(body).sort()).toEqual(RECEIPT_FIELDS);
      expect(receipt.routingKey).toBe(`${harness.name}.${String(body.outcome)}`);
      expect(receipt.properties.contentType).toBe('application/json');
      expect(receipt.properties.correlationId).toBe(body.eventId);
      expect(body.subscription).toBe(harness.name);
      expect(typeof body.at).toBe('string');
      const at = Date.parse(String(body.at));
      expect(at).toBeGreaterThanOrEqual(started - 1000);
      expect(at).toBeLessThanOrEqual(Date.now());
    }
    expect(receiptOf(harness, String(accepted.id))).toMatchObject({ controlId: cid(accepted), trigger: 'A01', outcome: 'accepted', ackCode: 'AA', attempts: 1 });
    expect(receiptOf(harness, String(accepted.id))!.latencyMs).toEqual(expect.any(Number));
    expect(receiptOf(harness, String(rejected.id))).toMatchObject({ controlId: cid(rejected), outcome: 'rejected', ackCode: 'AR', attempts: 3, latencyMs: null });
    expect(receiptOf(harness, String(error.id))).toMatchObject({ controlId: cid(error), outcome: 'application-error', ackCode: 'AE', attempts: 1 });
    for (const [event, outcome] of [
      [skipped, 'skipped'],
      [filtered, 'filtered'],
    ] as const) {
      expect(receiptOf(harness, String(event.id))).toEqual(
        expect.objectContaining({ outcome, controlId: null, trigger: null, ackCode: null, attempts: 0, latencyMs: null }),
      );
    }
    expect(receiptOf(harness, 'evt-not-json')).toMatchObject({ outcome: 'invalid-event', attempts: 0 });
    expect(receiver.controlIds()).toEqual([cid(accepted), cid(rejected), cid(rejected), cid(rejected), cid(error)]);
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('amqp.receipts false: publishes none, and still acknowledges every event', async () => {
    const receiver = await ScriptedReceiver.start();
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'noreceipts', port: receiver.port, cleanups, extra: { amqp: { receipts: false } } });
    const events = [patientEvent(), patientEvent(), patientEvent()];
    await harness.broker.publishAll(events);
    await harness.broker.publish(Buffer.from('not json'), { messageId: 'evt-not-json' });
    await waitFor(() => harness.daemon.settled().length === 4, { message: '4 events settled' });
    await takeDeadLetters(harness, 1);
    expect(receiver.received).toHaveLength(3);

    // A sentinel published after everything settled: any receipt the daemon published
    // (confirmed before its ack) would be in the capture queue ahead of it.
    await new Promise<void>((resolve, reject) =>
      (harness.broker.channel as import('amqplib').ConfirmChannel).publish(harness.broker.topology.receiptsExchange, `${harness.name}.sentinel`, Buffer.from('{}'), {}, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    await waitFor(() => harness.receipts.length >= 1, { message: 'the sentinel' });
    expect(harness.receipts.map((receipt) => receipt.routingKey)).toEqual([`${harness.name}.sentinel`]);
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});
