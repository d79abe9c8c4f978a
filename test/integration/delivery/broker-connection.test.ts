import { afterEach, describe, expect, it } from 'vitest';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver, type Action } from '../../helpers/scripted-receiver.js';
import { brokerClosesConnections } from '../../helpers/rabbitmqctl.js';
import { Cleanups, eventsInFlight, freePort, receiptOf, settleLineOf, startDelivery, unackedAfterStop, waitReceipts } from '../../helpers/delivery.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * The broker closes the daemon's connection (only this test's connection: `rabbitmqctl
 * close_connection`) while a message waits for its ACK. The deliveries of the lost
 * connection are stale: the broker redelivers them. Nothing may be lost, reordered, or
 * sent twice: the in-flight message was accepted by the receiver, so its redelivered copy
 * is acknowledged without resending it.
 */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('broker connection lost with a send in flight', () => {
  it('redelivered events are delivered once each, in order; the accepted in-flight one is not resent', async () => {
    let release!: (action: Action) => void;
    const receiver = await ScriptedReceiver.start((message) =>
      message.index === 0 ? new Promise<Action>((resolve) => (release = resolve)) : { kind: 'ack', code: 'AA' },
    );
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'brk', port: receiver.port, cleanups, entry: { timeouts: { connectMs: 1000, ackMs: 10_000 } } });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const events = [patientEvent(), patientEvent(), patientEvent()];
    await harness.broker.publishAll(events);
    await waitFor(() => receiver.received.length === 1, { message: 'message 1 in flight' });
    await waitFor(() => eventsInFlight(harness) === 3, { message: '3 events in the stream' });

    expect(await brokerClosesConnections((name) => name === `mllp-dispatcher ${harness.name}`)).toBe(1);
    await waitFor(() => harness.daemon.logs.filter((line) => line.msg === 'broker session consuming').length === 2, { message: 'reconnected' });
    // The broker redelivered all three: stale copies and fresh copies are both in the stream.
    await waitFor(() => eventsInFlight(harness) === 6, { message: 'redeliveries in the stream' });

    release({ kind: 'ack', code: 'AA' });
    await waitReceipts(harness, 3);
    expect(receiver.controlIds()).toEqual(events.map(cid));
    expect(harness.receipts.map((receipt) => receipt.json().eventId)).toEqual(events.map((event) => event.id));
    expect(receiptOf(harness, String(events[0]!.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA', attempts: 1, controlId: cid(events[0]!) });
    expect(harness.daemon.logs.some((line) => line.eventId === events[0]!.id && line.msg === 'broker connection lost before the event was acknowledged; the broker will redeliver it')).toBe(true);
    expect(settleLineOf(harness.daemon, String(events[1]!.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('broker connection lost while the receiver is down: once it is up, each event is delivered once, in order', async () => {
    const port = await freePort();
    const harness = await startDelivery({ prefix: 'brk-down', port, cleanups, entry: { lanes: 2 } });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const events = Array.from({ length: 6 }, (_, i) => patientEvent({ patientId: `PAT-${i % 3}` }));
    await harness.broker.publishAll(events);
    await waitFor(() => harness.daemon.logs.filter((line) => line.outcome === 'unreachable').length >= 3, { message: 'receiver found down' });

    expect(await brokerClosesConnections((name) => name === `mllp-dispatcher ${harness.name}`)).toBe(1);
    await waitFor(() => harness.daemon.logs.filter((line) => line.msg === 'broker session consuming').length === 2, { message: 'reconnected' });
    const receiver = await ScriptedReceiver.start(undefined, undefined, port);
    cleanups.add(() => receiver.close());
    await waitReceipts(harness, 6);

    expect(receiver.controlIds().sort()).toEqual(events.map(cid).sort());
    for (let patient = 0; patient < 3; patient++) {
      const own = events.filter((_, i) => i % 3 === patient).map(cid);
      expect(receiver.controlIds().filter((id) => own.includes(id))).toEqual(own);
    }
    for (const receipt of harness.receipts) expect(receipt.json()).toMatchObject({ outcome: 'accepted' });
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});
