import { afterEach, describe, expect, it } from 'vitest';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver, type Action } from '../../helpers/scripted-receiver.js';
import {
  Cleanups,
  duplicates,
  firstDeliveries,
  receiptOf,
  settleLineOf,
  startDelivery,
  takeDeadLetters,
  unackedAfterStop,
  waitReceipts,
} from '../../helpers/delivery.js';
import { waitFor } from '../../helpers/wait.js';

/** Ordering (README "Delivery and outcomes"): a retry never lets a later message overtake; a merge's A40s go out in order. */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('ordering', () => {
  it('50 events, #10 rejected twice before AA: the receiver\'s first-delivery order is the publish order', async () => {
    const rejectionsLeft = new Map<string, number>();
    const receiver = await ScriptedReceiver.start((message) => {
      const left = rejectionsLeft.get(message.controlId) ?? 0;
      if (left > 0) {
        rejectionsLeft.set(message.controlId, left - 1);
        return { kind: 'ack', code: 'AR' };
      }
      return { kind: 'ack', code: 'AA' };
    });
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'order', port: receiver.port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    // Several events per patient, patients interleaved, as a real feed looks.
    const events = Array.from({ length: 50 }, (_, i) => patientEvent({ type: i % 7 === 0 ? 'update' : 'create', patientId: `PAT-${i % 5}` }));
    const tenth = events[9]!;
    rejectionsLeft.set(cid(tenth), 2);
    await harness.broker.publishAll(events);
    await waitReceipts(harness, 50);

    expect(firstDeliveries(receiver.received)).toEqual(events.map(cid));
    expect(duplicates(receiver.received)).toEqual({ [cid(tenth)]: 3 });
    // The three sends of #10 are back to back: nothing slipped in between.
    expect(receiver.controlIds().slice(9, 12)).toEqual([cid(tenth), cid(tenth), cid(tenth)]);
    expect(harness.receipts.map((receipt) => receipt.json().eventId)).toEqual(events.map((event) => event.id));
    expect(receiptOf(harness, String(tenth.id))).toMatchObject({ outcome: 'accepted', attempts: 3 });
    expect(harness.receipts.filter((receipt) => receipt.json().attempts !== 1)).toHaveLength(1);
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('with 4 lanes, each patient\'s events keep their order even when one of them is retried', async () => {
    const rejectionsLeft = new Map<string, number>();
    const receiver = await ScriptedReceiver.start((message) => {
      const left = rejectionsLeft.get(message.controlId) ?? 0;
      if (left > 0) {
        rejectionsLeft.set(message.controlId, left - 1);
        return { kind: 'ack', code: 'AR' };
      }
      return { kind: 'ack', code: 'AA', delayMs: message.index % 3 };
    });
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'lanes', port: receiver.port, cleanups, entry: { lanes: 4 } });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const events = Array.from({ length: 40 }, (_, i) => patientEvent({ patientId: `PAT-${i % 8}` }));
    rejectionsLeft.set(cid(events[10]!), 2);
    await harness.broker.publishAll(events);
    await waitReceipts(harness, 40);

    const first = firstDeliveries(receiver.received);
    for (let patient = 0; patient < 8; patient++) {
      const own = events.filter((_, i) => i % 8 === patient).map(cid);
      expect(first.filter((id) => own.includes(id))).toEqual(own);
    }
    expect(duplicates(receiver.received)).toEqual({ [cid(events[10]!)]: 3 });
    // One connection per lane, plus one for each resend after an AR: a control id already
    // answered on a connection is resent on a new one, so a replayed old ACK cannot answer it.
    expect(receiver.connections).toBe(4 + 2);
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});

describe('merge with two replaced records', () => {
  const merge = () =>
    patientEvent({
      type: 'merge',
      patientId: 'PAT-SURVIVOR',
      replaced: [
        { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: 'PAT-OLD-1' }] },
        { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: 'PAT-OLD-2' }] },
      ],
    });

  it('sends two A40s in order, each acknowledged before the event is settled', async () => {
    let releaseSecond!: (action: Action) => void;
    const receiver = await ScriptedReceiver.start((message) =>
      message.index === 1 ? new Promise<Action>((resolve) => (releaseSecond = resolve)) : { kind: 'ack', code: 'AA' },
    );
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'merge', port: receiver.port, cleanups });
    const event = merge();
    const after = patientEvent();
    await harness.broker.publishAll([event, after]);

    await waitFor(() => receiver.received.length === 2, { message: 'both A40s' });
    const [a, b] = receiver.received;
    expect([a!.trigger, b!.trigger]).toEqual(['A40', 'A40']);
    expect([a!.controlId, b!.controlId]).toEqual([controlIdFor(String(event.id), harness.name, 0), controlIdFor(String(event.id), harness.name, 1)]);
    expect(a!.text).toMatch(/\rMRG\|PAT-OLD-1\^/);
    expect(b!.text).toMatch(/\rMRG\|PAT-OLD-2\^/);
    // The second A40 is not answered yet: the event is not settled, nothing behind it was sent.
    await waitFor(() => harness.broker.messageCount(harness.deadQueue).then((count) => count === 0), { message: 'a broker round trip' });
    expect(harness.receipts).toEqual([]);
    expect(settleLineOf(harness.daemon, String(event.id))).toBeUndefined();
    expect(receiver.received).toHaveLength(2);

    releaseSecond({ kind: 'ack', code: 'AA' });
    await waitReceipts(harness, 2);
    expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', trigger: 'A40', attempts: 2, controlId: b!.controlId });
    expect(receiver.received.map((message) => message.trigger)).toEqual(['A40', 'A40', 'A01']);
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('dead-letters the event with the second A40\'s control id when the second is answered AE', async () => {
    const receiver = await ScriptedReceiver.start((message) => ({ kind: 'ack', code: message.index === 1 ? 'AE' : 'AA' }));
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'merge-ae', port: receiver.port, cleanups });
    const event = merge();
    const after = patientEvent();
    await harness.broker.publishAll([event, after]);
    const [dead] = await takeDeadLetters(harness, 1);
    await waitReceipts(harness, 2);
    const second = controlIdFor(String(event.id), harness.name, 1);
    expect(dead!.headers).toMatchObject({ 'x-mllp-outcome': 'application-error', 'x-mllp-ack-code': 'AE', 'x-mllp-attempts': 2, 'x-mllp-control-id': second });
    expect(dead!.json()).toEqual(event);
    expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'application-error', controlId: second, trigger: 'A40' });
    expect(receiptOf(harness, String(after.id))).toMatchObject({ outcome: 'accepted' });
    expect(receiver.controlIds()).toEqual([controlIdFor(String(event.id), harness.name, 0), second, controlIdFor(String(after.id), harness.name, 0)]);
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});
