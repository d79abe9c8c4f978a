/**
 * Interop of the acknowledgment modes with real third-party receivers from npm (dev
 * dependencies): @medplum/hl7 4.5.2's Hl7Server in enhanced mode (a CA at once, the
 * application ACK later as a message of its own) and simple-hl7 3.3.0 (original mode).
 * Real broker, real sockets, the daemon in this process (README "Delivery and outcomes").
 *
 * Set MLLP_TEST_SHOW_RESULTS=1 to print the receipts and counts these tests assert on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { patientEvent } from '../../helpers/events.js';
import { metricValue, scrape } from '../../helpers/metrics.js';
import { Cleanups, startDelivery, takeDeadLetters, unackedAfterStop, waitReceipts, type DeliveryHarness } from '../../helpers/delivery.js';
import { startMedplumReceiver, startSimpleHl7Receiver, type MedplumAnswer } from '../../helpers/third-party-receivers.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const SETTINGS = { MSH34: 'TEST_APP|TEST_FAC', MSH56: 'RECV_APP|RECV_FAC', SendAs: 'Server' };
const ENHANCED = { settings: { ...SETTINGS, AcceptAck: 'AL', ApplicationAck: 'AL' }, timeouts: { connectMs: 1000, ackMs: 1000, applicationAckMs: 10_000 } };

function show(label: string, value: unknown): void {
  if (process.env.MLLP_TEST_SHOW_RESULTS) console.info(`${label}:\n${JSON.stringify(value, null, 2)}`);
}

async function metrics(harness: DeliveryHarness): Promise<string> {
  return (await scrape(harness.daemon.daemon.port!)).body;
}

/** A promise that resolves after `ms`: the receiver's own processing time, not a wait of the test. */
function receiverDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withMedplum(enhancedReceiver: boolean, answer: (index: number) => MedplumAnswer, entry: Record<string, unknown>, prefix: string) {
  const receiver = await startMedplumReceiver({ enhanced: enhancedReceiver, answer: (_message, index) => answer(index) });
  cleanups.add(() => receiver.close());
  const harness = await startDelivery({ prefix, port: receiver.port, entry, cleanups });
  const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
  return { receiver, harness, cid };
}

describe('interop: @medplum/hl7 4.5.2 Hl7Server, enhanced mode', () => {
  it('AcceptAck AL / ApplicationAck AL: each event is settled by its application ACK, in order; an AE dead-letters its event with the receiver\'s code', async () => {
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const { receiver, harness, cid } = await withMedplum(
      true,
      (index) => (index === 0 ? { code: 'AA', after: firstHeld } : index === 2 ? { code: 'AE' } : { code: 'AA' }),
      ENHANCED,
      'i14-enh',
    );
    const events = Array.from({ length: 5 }, () => patientEvent());
    for (const event of events) await harness.broker.publish(event);

    // Every message is committed (CA) and the next one sent while the first event's
    // application ACK is held back: a CA settles nothing, and no later event is settled
    // before the first one.
    await waitFor(() => receiver.received.length === 5 && receiver.answered.length === 4, { message: '5 messages received, 4 application ACKs sent' });
    expect(harness.receipts).toHaveLength(0);
    releaseFirst();

    const receipts = await waitReceipts(harness, 5);
    show('receipts (enhanced mode, AE on the third event)', receipts);
    expect(receipts.map((receipt) => [receipt.eventId, receipt.outcome, receipt.ackCode])).toEqual([
      [events[0]!.id, 'accepted', 'AA'],
      [events[1]!.id, 'accepted', 'AA'],
      [events[2]!.id, 'application-error', 'AE'],
      [events[3]!.id, 'accepted', 'AA'],
      [events[4]!.id, 'accepted', 'AA'],
    ]);
    expect(receipts[2]).toMatchObject({ controlId: cid(events[2]!), trigger: 'A01', attempts: 1 });
    const [dead] = await takeDeadLetters(harness, 1);
    expect(dead!.headers).toMatchObject({
      'x-mllp-outcome': 'application-error',
      'x-mllp-ack-code': 'AE',
      'x-mllp-control-id': cid(events[2]!),
      'x-mllp-reason': 'receiver answered AE',
    });
    show('dead letter headers', dead!.headers);
    expect(receiver.received.map((message) => [message.controlId, message.acceptAck, message.applicationAck])).toEqual(events.map((event) => [cid(event), 'AL', 'AL']));
    expect(receiver.connections).toBe(1);
    const body = await metrics(harness);
    expect(metricValue(body, 'mllp_late_errors_total', { subscription: harness.name })).toBeUndefined();
    expect(metricValue(body, 'mllp_events_total', { subscription: harness.name, outcome: 'application-error' })).toBe(1);
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('original mode against the same receiver: the CA settles the event, the AE that follows is a late error (warn line, metric, receipt)', async () => {
    const { receiver, harness, cid } = await withMedplum(true, (index) => (index === 2 ? { code: 'AE' } : { code: 'AA' }), {}, 'i14-orig');
    const events = Array.from({ length: 5 }, () => patientEvent());
    for (const event of events) await harness.broker.publish(event);

    const receipts = await waitReceipts(harness, 6);
    show('receipts (original mode, AE after CA on the third event)', receipts);
    const settled = receipts.filter((receipt) => receipt.outcome !== 'late-error');
    // The late error's receipt follows the receipt of the event it concerns.
    const eventReceipts = receipts.filter((receipt) => receipt.eventId === events[2]!.id).map((receipt) => receipt.outcome);
    expect(eventReceipts).toEqual(['accepted', 'late-error']);
    expect(settled.map((receipt) => [receipt.eventId, receipt.outcome, receipt.ackCode])).toEqual(events.map((event) => [event.id, 'accepted', 'CA']));
    expect(receipts.find((receipt) => receipt.outcome === 'late-error')).toMatchObject({
      eventId: events[2]!.id,
      subscription: harness.name,
      controlId: cid(events[2]!),
      trigger: 'A01',
      outcome: 'late-error',
      ackCode: 'AE',
      firstAckCode: 'CA',
    });
    // No patient data in the late-error receipt or any log line (debug level included).
    for (const text of [JSON.stringify(receipts), JSON.stringify(harness.daemon.logs)]) {
      expect(text).not.toContain('Testperson');
      expect(text).not.toContain('PAT-000123');
    }
    const warn = harness.daemon.logs.find((line) => String(line.msg).startsWith('late error'));
    expect(warn).toMatchObject({ level: 'warn', subscription: harness.name, eventId: events[2]!.id, controlId: cid(events[2]!), firstAckCode: 'CA', ackCode: 'AE' });
    // The four AAs after a CA are ignored, counted by code; no invalid-ack, nothing resent.
    await waitFor(async () => metricValue(await metrics(harness), 'mllp_ignored_frames_total', { subscription: harness.name, reason: 'duplicate-ack', code: 'AA' }) === 4, {
      message: '4 AAs after the CAs counted as ignored',
    });
    const body = await metrics(harness);
    expect(metricValue(body, 'mllp_late_errors_total', { subscription: harness.name, code: 'AE' })).toBe(1);
    expect(metricValue(body, 'mllp_send_attempts_total', { subscription: harness.name, outcome: 'invalid-ack' })).toBeUndefined();
    expect(receiver.received.map((message) => [message.controlId, message.acceptAck, message.applicationAck])).toEqual(events.map((event) => [cid(event), '', '']));
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('4 lanes (the delivery thread): every event settled by its AA, each patient\'s events in order, a merge after everything before it', async () => {
    const { receiver, harness, cid } = await withMedplum(true, () => ({ code: 'AA', after: receiverDelay(20) }), { ...ENHANCED, lanes: 4 }, 'i14-lanes');
    const events = Array.from({ length: 40 }, (_, index) => patientEvent({ patientId: `PAT-${index % 8}` }));
    events.splice(20, 0, patientEvent({ type: 'merge', patientId: 'PAT-1' }));
    for (const event of events) await harness.broker.publish(event);

    const receipts = await waitReceipts(harness, events.length);
    expect(receipts.every((receipt) => receipt.outcome === 'accepted' && receipt.ackCode === 'AA')).toBe(true);
    const arrived = receiver.received.map((message) => message.controlId);
    expect([...arrived].sort()).toEqual(events.map(cid).sort());
    for (let patient = 0; patient < 8; patient++) {
      const own = events.filter((event) => event.type !== 'merge' && (event.patient as { identifier: Array<{ value: string }> }).identifier[0]!.value === `PAT-${patient}`).map(cid);
      expect(arrived.filter((id) => own.includes(id)), `patient ${patient}`).toEqual(own);
    }
    // The merge went out after all 20 events before it were settled, and before any after it.
    const mergeAt = arrived.indexOf(cid(events[20]!));
    expect(new Set(arrived.slice(0, mergeAt))).toEqual(new Set(events.slice(0, 20).map(cid)));
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('an application AR is retried (default policy): the same MSH-10 again on a new connection, settled before the events behind it', async () => {
    const { receiver, harness, cid } = await withMedplum(true, (index) => (index === 0 ? { code: 'AR' } : { code: 'AA' }), ENHANCED, 'i14-retry');
    const events = Array.from({ length: 3 }, () => patientEvent());
    for (const event of events) await harness.broker.publish(event);

    const receipts = await waitReceipts(harness, 3);
    expect(receipts.map((receipt) => [receipt.eventId, receipt.outcome, receipt.ackCode, receipt.attempts])).toEqual([
      [events[0]!.id, 'accepted', 'AA', 2],
      [events[1]!.id, 'accepted', 'AA', 1],
      [events[2]!.id, 'accepted', 'AA', 1],
    ]);
    const arrived = receiver.received.map((message) => message.controlId);
    expect(arrived.filter((id) => id === cid(events[0]!))).toHaveLength(2);
    expect([...new Set(arrived)].sort()).toEqual(events.map(cid).sort());
    expect(receiver.connections).toBe(2);
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it('no application ACK within timeouts.applicationAckMs: application-ack-timeout, dead-lettered, not resent; the feed goes on', async () => {
    const { receiver, harness, cid } = await withMedplum(true, (index) => (index === 1 ? { code: 'none' } : { code: 'AA' }), { ...ENHANCED, timeouts: { connectMs: 1000, ackMs: 1000, applicationAckMs: 300 } }, 'i14-timeout');
    const events = Array.from({ length: 3 }, () => patientEvent());
    for (const event of events) await harness.broker.publish(event);

    const receipts = await waitReceipts(harness, 3);
    expect(receipts.map((receipt) => [receipt.eventId, receipt.outcome, receipt.ackCode])).toEqual([
      [events[0]!.id, 'accepted', 'AA'],
      [events[1]!.id, 'application-ack-timeout', 'CA'],
      [events[2]!.id, 'accepted', 'AA'],
    ]);
    const [dead] = await takeDeadLetters(harness, 1);
    expect(dead!.headers).toMatchObject({
      'x-mllp-outcome': 'application-ack-timeout',
      'x-mllp-ack-code': 'CA',
      'x-mllp-control-id': cid(events[1]!),
      'x-mllp-reason': 'committed (CA), then no application ACK within 300 ms',
    });
    expect(receiver.received.map((message) => message.controlId)).toEqual(events.map(cid));
    expect(await unackedAfterStop(harness)).toBe(0);
  });

  it.each([
    ['original', {}],
    ['enhanced', ENHANCED],
  ] as const)('600 events, application ACKs 400 ms late (%s mode): no invalid-ack, no duplicates, one connection', async (mode, entry) => {
    const { receiver, harness, cid } = await withMedplum(true, () => ({ code: 'AA', after: receiverDelay(400) }), entry, `i14-late-${mode}`);
    const events = Array.from({ length: 600 }, () => patientEvent());
    for (const event of events) await harness.broker.publish(event);

    const receipts = await waitReceipts(harness, 600, 90_000);
    expect(receipts.every((receipt) => receipt.outcome === 'accepted')).toBe(true);
    expect(receipts.map((receipt) => receipt.ackCode)).toEqual(events.map(() => (mode === 'enhanced' ? 'AA' : 'CA')));
    expect(receiver.received.map((message) => message.controlId)).toEqual(events.map(cid));
    // Every late AA is matched to the message it answers (original mode: ignored, counted).
    const ignoredAa = mode === 'enhanced' ? 0 : 600;
    await waitFor(async () => (metricValue(await metrics(harness), 'mllp_ignored_frames_total', { subscription: harness.name, reason: 'duplicate-ack', code: 'AA' }) ?? 0) === ignoredAa, {
      message: `${ignoredAa} late AAs counted`,
      timeoutMs: 10_000,
    });
    const body = await metrics(harness);
    const count = (name: string, labels: Record<string, string> = {}) => metricValue(body, name, { subscription: harness.name, ...labels }) ?? 0;
    const counts = {
      mode,
      events: events.length,
      messagesReceived: receiver.received.length,
      distinctControlIds: new Set(receiver.received.map((message) => message.controlId)).size,
      receiverConnections: receiver.connections,
      accepted: count('mllp_events_total', { outcome: 'accepted' }),
      sendAttempts: count('mllp_send_attempts_total', { outcome: 'accepted' }),
      invalidAck: count('mllp_send_attempts_total', { outcome: 'invalid-ack' }),
      retries: count('mllp_retries_total', { outcome: 'invalid-ack' }) + count('mllp_retries_total', { outcome: 'uncertain' }),
      ignoredDuplicateAa: count('mllp_ignored_frames_total', { reason: 'duplicate-ack', code: 'AA' }),
      lateErrors: count('mllp_late_errors_total', { code: 'AE' }),
    };
    show('counts (600 events, 400 ms late application ACKs)', counts);
    expect(counts).toEqual({
      mode,
      events: 600,
      messagesReceived: 600,
      distinctControlIds: 600,
      receiverConnections: 1,
      accepted: 600,
      sendAttempts: 600,
      invalidAck: 0,
      retries: 0,
      ignoredDuplicateAa: ignoredAa,
      lateErrors: 0,
    });
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});

describe('interop: simple-hl7 3.3.0 (original mode)', () => {
  it('50 events in order, one AE dead-lettered with the receiver\'s code, nothing sent twice', async () => {
    const receiver = await startSimpleHl7Receiver((_controlId, index) => (index === 10 ? 'AE' : 'AA'));
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'i14-simple', port: receiver.port, cleanups });
    const cid = (event: Record<string, unknown>) => controlIdFor(String(event.id), harness.name, 0);
    const events = Array.from({ length: 50 }, () => patientEvent());
    for (const event of events) await harness.broker.publish(event);

    const receipts = await waitReceipts(harness, 50);
    expect(receipts.map((receipt) => [receipt.eventId, receipt.outcome, receipt.ackCode])).toEqual(
      events.map((event, index) => [event.id, index === 10 ? 'application-error' : 'accepted', index === 10 ? 'AE' : 'AA']),
    );
    const [dead] = await takeDeadLetters(harness, 1);
    expect(dead!.headers).toMatchObject({ 'x-mllp-outcome': 'application-error', 'x-mllp-ack-code': 'AE', 'x-mllp-control-id': cid(events[10]!) });
    expect(receiver.received).toEqual(events.map(cid));
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});
