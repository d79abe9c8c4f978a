import { afterEach, describe, expect, it } from 'vitest';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { encodeFrame } from '../../../src/transport/mllp-framing.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver, type Behaviour } from '../../helpers/scripted-receiver.js';
import { Cleanups, logsOf, receiptOf, settleLineOf, startDelivery, takeDeadLetters, unackedAfterStop, waitReceipts, type DeliveryHarness } from '../../helpers/delivery.js';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * What the daemon does with each kind of answer (README "Delivery and outcomes"): AE, AR, garbage,
 * a wrong MSA-2, and per-subscription policy overrides. Real broker, real sockets.
 * Subscriptions use retry.maxAttempts 3 (test/helpers/daemon.ts).
 */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

// Patient data the dead letters and logs must never carry.
const FAMILY = 'Zebedeequixote';
const PATIENT_ID = 'PAT-SECRET-4711';

async function start(behaviour: Behaviour, entry: Record<string, unknown> = {}) {
  const receiver = await ScriptedReceiver.start(behaviour);
  cleanups.add(() => receiver.close());
  const harness = await startDelivery({ prefix: 'ack', port: receiver.port, entry, cleanups });
  return { receiver, harness, cid: (event: Record<string, unknown>, index = 0) => controlIdFor(String(event.id), harness.name, index) };
}

function expectNoPatientData(harness: DeliveryHarness, ...texts: unknown[]): void {
  for (const text of [...texts, JSON.stringify(harness.daemon.logs)]) {
    expect(String(text)).not.toContain(FAMILY);
    expect(String(text)).not.toContain(PATIENT_ID);
  }
}

describe('ACK outcomes', () => {
  it('AE: dead-letters at once (attempts 1) with the contract headers and the original body; the next event is still delivered', async () => {
    let first = '';
    const { receiver, harness, cid } = await start((message) => {
      first ||= message.controlId;
      return message.controlId === first ? { kind: 'ack', code: 'AE', errorCode: '204', text: `unknown patient ${FAMILY}` } : { kind: 'ack', code: 'AA' };
    });
    const poison = patientEvent({ family: FAMILY, patientId: PATIENT_ID });
    const next = patientEvent();
    // Pretty-printed and non-ASCII: the dead letter must carry these exact bytes.
    const body = Buffer.from(JSON.stringify({ ...poison, note: 'Müller – ünïcödé' }, null, 2));
    await harness.broker.publish(body, { messageId: String(poison.id), headers: { 'x-producer': 'ehr-7' } });
    await harness.broker.publish(next);

    const [dead] = await takeDeadLetters(harness, 1);
    await waitFor(() => receiptOf(harness, String(next.id)), { message: 'receipt of the next event' });
    expect(dead!.headers).toMatchObject({
      'x-mllp-outcome': 'application-error',
      'x-mllp-ack-code': 'AE',
      'x-mllp-attempts': 1,
      'x-mllp-control-id': cid(poison),
      'x-mllp-reason': 'receiver answered AE (ERR-3 204)',
      'x-producer': 'ehr-7',
    });
    expect(dead!.headers['x-mllp-control-id']).toBe(receiver.received[0]!.controlId);
    expect(dead!.body.equals(body)).toBe(true);
    expect(dead!.properties.messageId).toBe(poison.id);
    expect(dead!.routingKey).toBe(harness.name);
    expect(receiver.controlIds()).toEqual([cid(poison), cid(next)]);
    expect(receiptOf(harness, String(next.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(receiptOf(harness, String(poison.id))).toMatchObject({ outcome: 'application-error', ackCode: 'AE', attempts: 1, controlId: cid(poison) });
    expectNoPatientData(harness, JSON.stringify(dead!.headers));
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('AR then AA: accepted with attempts 2, the same MSH-10 sent twice', async () => {
    const seen = new Set<string>();
    const { receiver, harness, cid } = await start((message) => {
      if (seen.has(message.controlId)) return { kind: 'ack', code: 'AA' };
      seen.add(message.controlId);
      return message.index === 0 ? { kind: 'ack', code: 'AR' } : { kind: 'ack', code: 'AA' };
    });
    const event = patientEvent();
    const next = patientEvent();
    await harness.broker.publishAll([event, next]);
    await waitReceipts(harness, 2);
    expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA', attempts: 2, controlId: cid(event) });
    expect(receiptOf(harness, String(next.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(receiver.controlIds()).toEqual([cid(event), cid(event), cid(next)]);
    // Identical bytes on the resend (MSH-7 included): the receiver sees the same message.
    expect(receiver.received[1]!.text).toBe(receiver.received[0]!.text);
    const failure = logsOf(harness.daemon, String(event.id)).find((line) => line.outcome === 'rejected');
    expect(failure).toMatchObject({ level: 'warn', ackCode: 'AR', attempt: 1, controlId: cid(event) });
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('AR always: dead-lettered after retry.maxAttempts (3) with x-mllp-ack-code AR; the feed continues', async () => {
    let poisonId = '';
    const { receiver, harness, cid } = await start((message) => {
      poisonId ||= message.controlId;
      return { kind: 'ack', code: message.controlId === poisonId ? 'AR' : 'AA' };
    });
    const poison = patientEvent({ family: FAMILY, patientId: PATIENT_ID });
    const after = [patientEvent(), patientEvent()];
    await harness.broker.publishAll([poison, ...after]);
    const [dead] = await takeDeadLetters(harness, 1);
    await waitReceipts(harness, 3);
    expect(dead!.headers).toMatchObject({
      'x-mllp-outcome': 'rejected',
      'x-mllp-ack-code': 'AR',
      'x-mllp-attempts': 3,
      'x-mllp-control-id': cid(poison),
      'x-mllp-reason': 'receiver answered AR (ERR-3 207)',
    });
    expect(receiver.controlIds()).toEqual([cid(poison), cid(poison), cid(poison), ...after.map((event) => cid(event))]);
    for (const event of after) expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(settleLineOf(harness.daemon, String(poison.id))).toMatchObject({ msg: 'event dead-lettered', outcome: 'rejected', attempts: 3 });
    expectNoPatientData(harness, JSON.stringify(dead!.headers));
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('garbage, then a framed non-ACK, then AA: each an invalid-ack on its own connection, then accepted', async () => {
    const { receiver, harness, cid } = await start((message) => {
      if (message.index === 0) return { kind: 'raw', data: Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n') };
      if (message.index === 1) return { kind: 'raw', data: encodeFrame(`MSH|^~\\&|R|F|S|F|20260315143022||ADT^A01^ADT_A01|X1|P|2.5\rMSA|AA|${message.controlId}\r`) };
      return { kind: 'ack', code: 'AA' };
    });
    const event = patientEvent();
    await harness.broker.publish(event);
    await waitReceipts(harness, 1);
    expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA', attempts: 3 });
    expect(receiver.controlIds()).toEqual([cid(event), cid(event), cid(event)]);
    // The socket is closed after a protocol error: every resend came on a new connection.
    expect(receiver.received.map((message) => message.connection)).toEqual([1, 2, 3]);
    const failures = logsOf(harness.daemon, String(event.id)).filter((line) => line.outcome === 'invalid-ack');
    expect(failures.map((line) => line.reason)).toEqual(['receiver sent 28 bytes outside an MLLP frame', 'reply is not an ACK (MSH-9.1 "ADT")']);
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('an ACK with the wrong MSA-2, always: dead-lettered as invalid-ack after maxAttempts; the next event is delivered', async () => {
    let poisonId = '';
    const { receiver, harness, cid } = await start((message) => {
      poisonId ||= message.controlId;
      return message.controlId === poisonId ? { kind: 'ack', code: 'AA', controlId: 'SOMEONE-ELSES-ID' } : { kind: 'ack', code: 'AA' };
    });
    const poison = patientEvent();
    const next = patientEvent();
    await harness.broker.publishAll([poison, next]);
    const [dead] = await takeDeadLetters(harness, 1);
    await waitFor(() => receiptOf(harness, String(next.id)), { message: 'receipt of the next event' });
    expect(dead!.headers).toMatchObject({
      'x-mllp-outcome': 'invalid-ack',
      'x-mllp-ack-code': '',
      'x-mllp-attempts': 3,
      'x-mllp-control-id': cid(poison),
      'x-mllp-reason': `ACK MSA-2 "SOMEONE-ELSES-ID" does not match MSH-10 ${cid(poison)}`,
    });
    expect(receiver.controlIds()).toEqual([cid(poison), cid(poison), cid(poison), cid(next)]);
    expect(receiver.received.map((message) => message.connection)).toEqual([1, 2, 3, 4]);
    expect(receiptOf(harness, String(next.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});

describe('per-subscription policy overrides', () => {
  it('application-error: retry makes AE retry; rejected: dead-letter dead-letters AR at once', async () => {
    // Two subscriptions on one daemon, each with its own receiver, both taking the same event.
    const aeOnce = new Set<string>();
    const retryingReceiver = await ScriptedReceiver.start((message) => {
      if (aeOnce.has(message.controlId)) return { kind: 'ack', code: 'AA' };
      aeOnce.add(message.controlId);
      return { kind: 'ack', code: 'AE' };
    });
    const strictReceiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AR' }));
    cleanups.add(() => retryingReceiver.close());
    cleanups.add(() => strictReceiver.close());
    const broker = await TestBroker.open(testTopology('policy'));
    cleanups.add(() => broker.close());
    const retrying = uniqueName('policy-retry');
    const strict = uniqueName('policy-strict');
    broker.ownSubscription(retrying);
    broker.ownSubscription(strict);
    const receipts = await broker.captureReceipts();
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [
        subscriptionEntry(retrying, retryingReceiver.port, { policy: { 'application-error': 'retry' } }),
        subscriptionEntry(strict, strictReceiver.port, { policy: { rejected: 'dead-letter' } }),
      ]),
    );
    cleanups.add(() => daemon.stop());

    const event = patientEvent();
    await broker.publish(event);
    await waitFor(() => receipts.length === 2, { message: 'a receipt from each subscription' });
    const bySubscription = Object.fromEntries(receipts.map((receipt) => [receipt.json().subscription, { key: receipt.routingKey, body: receipt.json() }]));
    expect(bySubscription[retrying]).toMatchObject({ key: `${retrying}.accepted`, body: { outcome: 'accepted', ackCode: 'AA', attempts: 2 } });
    expect(bySubscription[strict]).toMatchObject({ key: `${strict}.rejected`, body: { outcome: 'rejected', ackCode: 'AR', attempts: 1 } });
    expect(retryingReceiver.controlIds()).toEqual([controlIdFor(String(event.id), retrying, 0), controlIdFor(String(event.id), retrying, 0)]);
    expect(strictReceiver.received).toHaveLength(1);

    await waitFor(async () => (await broker.messageCount(`mllp.${strict}.dead`)) === 1, { message: 'dead letter of the strict subscription' });
    const [dead] = await broker.drain(`mllp.${strict}.dead`);
    expect(dead!.headers).toMatchObject({ 'x-mllp-outcome': 'rejected', 'x-mllp-ack-code': 'AR', 'x-mllp-attempts': 1 });
    expect(await broker.messageCount(`mllp.${retrying}.dead`)).toBe(0);
  });
});
