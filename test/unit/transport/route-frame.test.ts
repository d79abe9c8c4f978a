import { describe, expect, it } from 'vitest';
import { buildAck, readHeader } from '../../../src/hl7/build-ack.js';
import { ApplicationWaits, ConnectionLedger } from '../../../src/transport/answers.js';
import { routeFrame } from '../../../src/transport/route-frame.js';
import { MllpFrameDecoder } from '../../../src/transport/mllp-framing.js';

/** An ADT as we send it, with MSH-10 = id. */
const adt = (id: string) => `MSH|^~\\&|APP|FAC|RECV|RFAC|20260315143022||ADT^A01^ADT_A01|${id}|P|2.5|||AL|AL\rEVN||20260315143022\r`;
/** The receiver's answer to it; `msh15` is the ACK's own MSH-15 (asks for a commit ACK back). */
function answer(id: string, code: 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR', msh15 = ''): string {
  const text = buildAck(readHeader(adt(id))!, { code, controlId: `R-${id}`, ...(code === 'AA' || code === 'CA' ? {} : { errorCode: '204' }) });
  if (!msh15) return text;
  const [msh, ...rest] = text.split('\r');
  return [`${msh}|||${msh15}`, ...rest].join('\r');
}

function setup() {
  const ledger = new ConnectionLedger();
  const waits = new ApplicationWaits();
  return { ledger, waits, route: (text: string, inFlight?: string) => routeFrame(text, inFlight, ledger, waits) };
}

describe('routeFrame: every frame is matched to what it answers', () => {
  it('the answer to the message in flight', () => {
    const { ledger, route } = setup();
    ledger.record('A', { eventId: 'e-A', trigger: 'A01' });
    expect(route(answer('A', 'AA'), 'A')).toMatchObject({ kind: 'answer', ack: { ackCode: 'AA', controlId: 'A' } });
    expect(ledger.get('A')).toMatchObject({ code: 'AA' });
  });

  it('an application ACK ends its wait, whichever message is in flight', async () => {
    const { ledger, waits, route } = setup();
    ledger.record('A', undefined);
    ledger.record('B', undefined);
    const application = waits.start('A', 10_000, 0);
    ledger.answered('A', 'CA');
    expect(route(answer('A', 'CA'), 'B')).toEqual({ kind: 'ignored', reason: 'duplicate-ack', code: 'CA' });
    const routed = route(answer('A', 'AE'), 'B');
    expect(routed).toMatchObject({ kind: 'application', ack: { ackCode: 'AE', controlId: 'A', errorCode: '204' } });
    if (routed.kind === 'application') waits.answer(routed.ack);
    expect(await application).toMatchObject({ kind: 'ack', ack: { ackCode: 'AE' } });
    expect(waits.size).toBe(0);
  });

  it('an error after an AA or CA on this connection is a late answer, with the event it belongs to; a repeated AA is ignored with its code', () => {
    const { ledger, route } = setup();
    ledger.record('A', { eventId: 'e-A', trigger: 'A08' });
    ledger.answered('A', 'CA');
    ledger.record('B', undefined);
    expect(route(answer('A', 'AA'), 'B')).toEqual({ kind: 'ignored', reason: 'duplicate-ack', code: 'AA' });
    expect(route(answer('A', 'AE'), 'B')).toEqual({ kind: 'late', late: { controlId: 'A', firstCode: 'CA', lateCode: 'AE', errorCode: '204', context: { eventId: 'e-A', trigger: 'A08' } } });
    // The same error again is a repeat, not a second late error.
    expect(route(answer('A', 'AE'))).toEqual({ kind: 'ignored', reason: 'duplicate-ack', code: 'AE' });
  });

  it('however many messages the connection carried (no window)', () => {
    const { ledger, route } = setup();
    for (let i = 0; i < 5_000; i++) {
      ledger.record(`M${i}`, undefined);
      ledger.answered(`M${i}`, 'CA');
    }
    ledger.record('LAST', undefined);
    expect(route(answer('M0', 'AA'), 'LAST')).toEqual({ kind: 'ignored', reason: 'duplicate-ack', code: 'AA' });
    expect(route(answer('M1', 'AR'), 'LAST')).toMatchObject({ kind: 'late', late: { controlId: 'M1', firstCode: 'CA', lateCode: 'AR' } });
  });

  it('a frame whose MSA-2 matches nothing sent on the connection is invalid while a message is in flight, unsolicited otherwise', () => {
    const { ledger, route } = setup();
    ledger.record('A', undefined);
    expect(route(answer('ELSEWHERE', 'AA'), 'A')).toEqual({ kind: 'invalid', reason: 'ACK MSA-2 "ELSEWHERE" does not match MSH-10 A' });
    expect(route(answer('ELSEWHERE', 'AA'))).toEqual({ kind: 'ignored', reason: 'unsolicited', code: 'AA' });
    expect(route('garbage', 'A')).toMatchObject({ kind: 'invalid' });
    expect(route('garbage')).toEqual({ kind: 'ignored', reason: 'unsolicited', code: '' });
  });

  it('an application ACK that asks for a commit ACK (its MSH-15 AL) gets our CA, whose answer in turn is ignored', () => {
    const { ledger, waits, route } = setup();
    ledger.record('A', undefined);
    void waits.start('A', 10_000, 0);
    const routed = route(answer('A', 'AA', 'AL'));
    expect(routed.kind).toBe('application');
    const [frame] = new MllpFrameDecoder().push(routed.replyWith!.frame);
    const ours = frame?.kind === 'frame' ? frame.payload.toString('utf8') : '';
    expect(ours.split('\r')[1]).toBe('MSA|CA|R-A');
    // From us (APP) to the receiver (RECV): the ACK's sender and receiver swapped.
    expect(readHeader(ours)).toMatchObject({ controlId: 'ACKR-A', sendingApplication: 'APP', receivingApplication: 'RECV' });
    expect(routed.replyWith!.controlId).toBe('ACKR-A');
    // A receiver that answers our CA (as some enhanced-mode servers answer every message).
    ledger.recordOwnAck('ACKR-A');
    ledger.record('B', undefined);
    expect(route(buildAck(readHeader(ours)!, { code: 'CA' }), 'B')).toEqual({ kind: 'ignored', reason: 'own-ack-answered', code: 'CA' });
    // Without MSH-15 AL/SU nothing is written back.
    expect(route(answer('A', 'AA')).replyWith).toBeUndefined();
    expect(route(answer('A', 'AA', 'NE')).replyWith).toBeUndefined();
  });
});

describe('ApplicationWaits', () => {
  it('ends each wait once: answer, timeout or close; drained() resolves when none is left', async () => {
    const waits = new ApplicationWaits();
    const timedOut = waits.start('T', 5, 0);
    const closed = waits.start('C', 10_000, 0);
    const drained = waits.drained();
    expect(await timedOut).toEqual({ kind: 'timeout', reason: 'committed (CA), then no application ACK within 5 ms' });
    waits.closeAll('connection closed by the dispatcher');
    expect(await closed).toEqual({ kind: 'closed', reason: 'connection closed by the dispatcher' });
    await drained;
    expect(waits.size).toBe(0);
  });
});
