import { afterEach, describe, expect, it } from 'vitest';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { buildAck, readHeader } from '../../../src/hl7/build-ack.js';
import { patientEvent } from '../../helpers/events.js';
import { ACK_AA, ScriptedReceiver, type Behaviour } from '../../helpers/scripted-receiver.js';
import {
  Cleanups,
  duplicates,
  firstDeliveries,
  freePort,
  logsOf,
  receiptOf,
  sequence,
  settleLineOf,
  startDelivery,
  unackedAfterStop,
  waitReceipts,
} from '../../helpers/delivery.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * The receiver misbehaves at the transport level: down at start, killed mid-stream, never
 * answering, answering late. Nothing may be lost, reordered or needlessly duplicated, and
 * every resend carries the same MSH-10 on a fresh connection.
 */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('receiver faults', () => {
  it('receiver down at start, up later: the stream waits, then delivers in order (attempts > 1 for the first)', async () => {
    const port = await freePort();
    const harness = await startDelivery({ prefix: 'down', port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const events = [patientEvent(), patientEvent(), patientEvent()];
    await harness.broker.publishAll(events);

    const first = String(events[0]!.id);
    await waitFor(() => logsOf(harness.daemon, first).filter((line) => line.outcome === 'unreachable').length >= 3, { message: '3 unreachable attempts' });
    const failure = logsOf(harness.daemon, first).find((line) => line.outcome === 'unreachable')!;
    expect(failure).toMatchObject({ level: 'warn', msg: 'receiver unreachable', controlId: cid(events[0]!) });
    expect(String(failure.reason)).toMatch(/ECONNREFUSED/);
    // The stream waits: nothing later was tried, nothing settled.
    for (const event of events.slice(1)) expect(logsOf(harness.daemon, String(event.id)).filter((line) => line.attempt !== undefined)).toEqual([]);
    expect(harness.receipts).toEqual([]);

    const receiver = await ScriptedReceiver.start(ACK_AA, undefined, port);
    cleanups.add(() => receiver.close());
    await waitReceipts(harness, 3);
    expect(receiver.controlIds()).toEqual(events.map(cid));
    expect(harness.receipts.map((receipt) => receipt.json().eventId)).toEqual(events.map((event) => event.id));
    const receipt = receiptOf(harness, first)!;
    expect(receipt).toMatchObject({ outcome: 'accepted', ackCode: 'AA' });
    expect(receipt.attempts).toBeGreaterThan(3);
    for (const event of events.slice(1)) expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    // The recovery is logged once, with how long the outage lasted.
    expect(harness.daemon.logs.find((line) => line.msg === 'receiver accepting messages again')).toMatchObject({ lastOutcome: 'unreachable', eventId: first });
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('receiver killed with an ACK pending: all delivered in publish order, only the in-flight one twice, same MSH-10', async () => {
    let receiver!: ScriptedReceiver;
    const behaviour: Behaviour = (message) => {
      if (message.index === 4) {
        // The receiver crashes after reading message 5, before answering it.
        setImmediate(() => receiver.dropConnections());
        return { kind: 'none' };
      }
      return { kind: 'ack', code: 'AA' };
    };
    receiver = await ScriptedReceiver.start(behaviour);
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'killed', port: receiver.port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const events = Array.from({ length: 10 }, () => patientEvent());
    await harness.broker.publishAll(events);
    await waitReceipts(harness, 10);

    expect(firstDeliveries(receiver.received)).toEqual(events.map(cid));
    expect(duplicates(receiver.received)).toEqual({ [cid(events[4]!)]: 2 });
    expect(receiver.received).toHaveLength(11);
    // The resend is the very next thing the receiver got, on a new connection.
    expect(receiver.received[5]).toMatchObject({ controlId: cid(events[4]!), connection: 2 });
    expect(receiver.received[5]!.text).toBe(receiver.received[4]!.text);
    const inFlight = String(events[4]!.id);
    expect(receiptOf(harness, inFlight)).toMatchObject({ outcome: 'accepted', attempts: 2 });
    expect(logsOf(harness.daemon, inFlight).find((line) => line.outcome === 'uncertain')).toMatchObject({
      reason: 'receiver closed the connection before the ACK',
      attempt: 1,
    });
    expect(settleLineOf(harness.daemon, inFlight)).toMatchObject({ outcome: 'accepted', attempts: 2, possibleDuplicates: 1 });
    for (const event of events.filter((_, i) => i !== 4)) {
      expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
      expect(settleLineOf(harness.daemon, String(event.id))!.possibleDuplicates).toBeUndefined();
    }
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('receiver killed between messages: the next send reconnects, no duplicates, no extra attempts', async () => {
    const receiver = await ScriptedReceiver.start();
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'between', port: receiver.port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const batch1 = [patientEvent(), patientEvent(), patientEvent()];
    const batch2 = [patientEvent(), patientEvent(), patientEvent()];
    await harness.broker.publishAll(batch1);
    await waitReceipts(harness, 3);

    receiver.dropConnections();
    await waitFor(() => harness.daemon.logs.some((line) => line.msg === 'receiver connection closed'), { message: 'the daemon saw the connection go' });
    await harness.broker.publishAll(batch2);
    await waitReceipts(harness, 6);

    expect(receiver.controlIds()).toEqual([...batch1, ...batch2].map(cid));
    expect(receiver.received.map((message) => message.connection)).toEqual([1, 1, 1, 2, 2, 2]);
    for (const receipt of harness.receipts) expect(receipt.json()).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(harness.daemon.logs.filter((line) => line.outcome === 'uncertain')).toEqual([]);
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('never ACKs, then ACKs: every resend has the same MSH-10 on a new connection, the old one closed first; possible duplicates logged', async () => {
    let receiver!: ScriptedReceiver;
    const openAtArrival: number[] = [];
    receiver = await ScriptedReceiver.start((message) => {
      openAtArrival.push(receiver.openConnections);
      return message.index < 3 ? { kind: 'none' } : { kind: 'ack', code: 'AA' };
    });
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'noack', port: receiver.port, cleanups, entry: { timeouts: { connectMs: 1000, ackMs: 300 } } });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const event = patientEvent();
    const next = patientEvent();
    await harness.broker.publishAll([event, next]);
    await waitReceipts(harness, 2);

    expect(receiver.controlIds()).toEqual([cid(event), cid(event), cid(event), cid(event), cid(next)]);
    expect(new Set(receiver.received.slice(0, 4).map((message) => message.text)).size).toBe(1);
    expect(receiver.received.map((message) => message.connection)).toEqual([1, 2, 3, 4, 4]);
    // When each resend arrived, the connection it replaced was already gone.
    expect(openAtArrival).toEqual([1, 1, 1, 1, 1]);
    // The daemon's side: closed (ACK timeout) before it connected again, every time.
    const lifecycle = sequence(harness.daemon, ['connected to the receiver', 'receiver connection closed']).map((line) =>
      line.msg === 'connected to the receiver' ? 'connect' : `close: ${String(line.reason)}`,
    );
    expect(lifecycle.slice(0, 7)).toEqual([
      'connect',
      'close: no ACK within 300 ms',
      'connect',
      'close: no ACK within 300 ms',
      'connect',
      'close: no ACK within 300 ms',
      'connect',
    ]);
    const uncertain = logsOf(harness.daemon, String(event.id)).filter((line) => line.outcome === 'uncertain');
    expect(uncertain.map((line) => line.attempt)).toEqual([1, 2, 3]);
    expect(uncertain[0]).toMatchObject({
      level: 'warn',
      reason: 'no ACK within 300 ms',
      msg: 'no ACK from the receiver; the message will be resent with the same MSH-10 and the receiver may get it twice',
    });
    expect(settleLineOf(harness.daemon, String(event.id))).toMatchObject({ outcome: 'accepted', attempts: 4, possibleDuplicates: 3 });
    expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA', attempts: 4, controlId: cid(event) });
    expect(receiptOf(harness, String(next.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('a late ACK for message 1 (past ackMs, on connection 1) never settles message 2: each is settled by its own ACK', async () => {
    let receiver!: ScriptedReceiver;
    const openAtArrival: number[] = [];
    let lateAckReleased = false;
    receiver = await ScriptedReceiver.start((message) => {
      openAtArrival.push(receiver.openConnections);
      // Message 1 on connection 1: answered AA, but only after the daemon gave up waiting.
      if (message.connection === 1) {
        return new Promise((resolve) =>
          setTimeout(() => {
            lateAckReleased = true;
            resolve({ kind: 'ack', code: 'AA' });
          }, 900),
        );
      }
      // Message 2 gets CA (enhanced-mode accept): its receipt shows which ACK settled it.
      return { kind: 'ack', code: message.index === 2 ? 'CA' : 'AA' };
    });
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'late', port: receiver.port, cleanups, entry: { timeouts: { connectMs: 1000, ackMs: 300 } } });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const [one, two] = [patientEvent(), patientEvent()];
    await harness.broker.publishAll([one!, two!]);
    await waitReceipts(harness, 2);
    // Let the late ACK's time come and go before checking that nothing changed.
    await waitFor(() => lateAckReleased, { message: 'the late ACK of message 1' });
    await waitFor(() => harness.broker.messageCount(harness.deadQueue).then((count) => count === 0), { message: 'a broker round trip' });
    expect(harness.receipts).toHaveLength(2);

    expect(receiver.received.map((message) => [message.controlId, message.connection])).toEqual([
      [cid(one!), 1],
      [cid(one!), 2],
      [cid(two!), 2],
    ]);
    expect(openAtArrival).toEqual([1, 1, 1]);
    expect(receiptOf(harness, String(one!.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA', attempts: 2 });
    expect(receiptOf(harness, String(two!.id))).toMatchObject({ outcome: 'accepted', ackCode: 'CA', attempts: 1, controlId: cid(two!) });
    expect(settleLineOf(harness.daemon, String(one!.id))).toMatchObject({ possibleDuplicates: 1 });
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('a stale repeat of message 1\'s ACK in front of message 2\'s own ACK is ignored: message 2 is settled by its own (AE)', async () => {
    let receiver!: ScriptedReceiver;
    receiver = await ScriptedReceiver.start((message) => {
      if (message.index === 0) return { kind: 'ack', code: 'AA' };
      // Some receivers repeat old ACKs: re-send message 1's AA right before message 2's real answer.
      const first = readHeader(receiver.received[0]!.text)!;
      return { kind: 'ack', code: 'AE', framesBefore: [buildAck(first, { code: 'AA' })] };
    });
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'stale', port: receiver.port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const [one, two] = [patientEvent(), patientEvent()];
    await harness.broker.publishAll([one!, two!]);
    await waitReceipts(harness, 2);
    expect(receiptOf(harness, String(one!.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(receiptOf(harness, String(two!.id))).toMatchObject({ outcome: 'application-error', ackCode: 'AE', attempts: 1, controlId: cid(two!) });
    expect(harness.daemon.logs.some((line) => line.msg === 'ignored a frame that answers nothing in flight' && line.reason === 'duplicate-ack')).toBe(true);
    expect(receiver.controlIds()).toEqual([cid(one!), cid(two!)]);
  });

  it('peer closes after reading (FIN, no ACK): uncertain, resent once with the same MSH-10, then accepted', async () => {
    const receiver = await ScriptedReceiver.start((message) => (message.index === 0 ? { kind: 'close' } : { kind: 'ack', code: 'AA' }));
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'fin', port: receiver.port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const [one, two] = [patientEvent(), patientEvent()];
    await harness.broker.publishAll([one!, two!]);
    await waitReceipts(harness, 2);
    expect(receiver.received.map((message) => [message.controlId, message.connection])).toEqual([
      [cid(one!), 1],
      [cid(one!), 2],
      [cid(two!), 2],
    ]);
    expect(logsOf(harness.daemon, String(one!.id)).find((line) => line.outcome === 'uncertain')).toMatchObject({ reason: 'receiver closed the connection before the ACK' });
    expect(receiptOf(harness, String(one!.id))).toMatchObject({ outcome: 'accepted', attempts: 2 });
    expect(settleLineOf(harness.daemon, String(one!.id))).toMatchObject({ possibleDuplicates: 1 });
  });

  it('ACKs split into 5-byte writes: each assembled and accepted on the first attempt, one connection', async () => {
    const receiver = await ScriptedReceiver.start(() => ({ kind: 'ack', code: 'AA', chunkBytes: 5 }));
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'split', port: receiver.port, cleanups });
    const events = [patientEvent(), patientEvent(), patientEvent()];
    await harness.broker.publishAll(events);
    await waitReceipts(harness, 3);
    for (const receipt of harness.receipts) expect(receipt.json()).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(receiver.connections).toBe(1);
    expect(receiver.received).toHaveLength(3);
  });

  it('an outage longer than retry.maxAttempts does not use up the retries of a later AR', async () => {
    const port = await freePort();
    const harness = await startDelivery({ prefix: 'outage-ar', port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const event = patientEvent();
    await harness.broker.publish(event);
    // maxAttempts is 3: wait for more unreachable attempts than that.
    await waitFor(() => logsOf(harness.daemon, String(event.id)).filter((line) => line.outcome === 'unreachable').length >= 5, { message: '5 unreachable attempts' });
    const seen = new Set<string>();
    const receiver = await ScriptedReceiver.start(
      (message) => {
        const again = seen.has(message.controlId);
        seen.add(message.controlId);
        return { kind: 'ack', code: again ? 'AA' : 'AR' };
      },
      undefined,
      port,
    );
    cleanups.add(() => receiver.close());
    await waitReceipts(harness, 1);
    expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA' });
    expect(receiver.controlIds()).toEqual([cid(event), cid(event)]);
    expect(await harness.broker.messageCount(harness.deadQueue)).toBe(0);
  });
});
