/**
 * MllpClient over plain llp against real sockets: a ScriptedReceiver for the usual ways
 * receivers misbehave, raw `net` servers where the test must control every byte and every
 * connection. No fixed sleeps: results are awaited, other conditions polled with a deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedReceiver, type Received } from '../../helpers/scripted-receiver.js';
import { waitFor } from '../../helpers/wait.js';
import { encodeFrame } from '../../../src/transport/mllp-framing.js';
import type { SendResult } from '../../../src/transport/mllp-client.js';
import {
  Cleanups,
  RawServer,
  ackFrame,
  ackText,
  closedPort,
  controlIdOf,
  frameOf,
  gate,
  makeClient,
  type RawConnection,
} from './support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

async function receiver(behaviour?: ConstructorParameters<typeof ScriptedReceiver>[0]): Promise<ScriptedReceiver> {
  const started = await ScriptedReceiver.start(behaviour);
  cleanups.add(() => started.close());
  return started;
}

function client(port: number, options: Parameters<typeof makeClient>[1] = {}) {
  const made = makeClient(port, options);
  cleanups.add(() => made.client.close());
  return made;
}

function expectAck(result: SendResult, controlId: string, code = 'AA') {
  expect(result.kind, JSON.stringify(result)).toBe('ack');
  if (result.kind !== 'ack') return;
  expect(result.ack.controlId).toBe(controlId);
  expect(result.ack.ackCode).toBe(code);
  expect(result.ack.messageType).toBe('ACK');
}

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - started };
}

describe('MllpClient: the connection', () => {
  it('keeps one persistent connection across many sends, each settled by its own ACK, in order', async () => {
    const rx = await receiver();
    const { client: c, log } = client(rx.port);
    const ids = Array.from({ length: 25 }, (_, i) => `PERSIST${String(i).padStart(3, '0')}`);
    for (const id of ids) expectAck(await c.send(frameOf(id), id), id);
    expect(rx.controlIds()).toEqual(ids);
    expect(rx.connections).toBe(1);
    expect(rx.received.every((message) => message.connection === 1)).toBe(true);
    expect(log.connects).toHaveLength(1);
    expect(log.disconnects).toEqual([]);
    expect(c.connected).toBe(true);
  });

  it('reports AE and AR as ACKs (with ERR-3 and text) and keeps the connection', async () => {
    const rx = await receiver((message) => ({
      kind: 'ack',
      code: message.index === 0 ? 'AE' : message.index === 1 ? 'AR' : 'AA',
      errorCode: '204',
      text: 'unknown key',
    }));
    const { client: c } = client(rx.port);
    const ae = await c.send(frameOf('ERRS1'), 'ERRS1');
    expectAck(ae, 'ERRS1', 'AE');
    expect(ae.kind === 'ack' && ae.ack).toMatchObject({ errorCode: '204', severity: 'E', text: 'unknown key' });
    expectAck(await c.send(frameOf('ERRS2'), 'ERRS2'), 'ERRS2', 'AR');
    expectAck(await c.send(frameOf('ERRS3'), 'ERRS3'), 'ERRS3', 'AA');
    expect(rx.connections).toBe(1);
  });

  it('connection refused -> unreachable, naming ECONNREFUSED', async () => {
    const { client: c, log } = client(await closedPort());
    const { value: result, ms } = await timed(c.send(frameOf('REFUSED1'), 'REFUSED1'));
    expect(result.kind).toBe('unreachable');
    expect(result.kind !== 'ack' && result.reason).toMatch(/ECONNREFUSED/);
    expect(ms).toBeLessThan(5_000);
    expect(c.connected).toBe(false);
    expect(log.connects).toEqual([]);
  });

  it('opens a new connection for the next send after the receiver dropped an idle one', async () => {
    const rx = await receiver();
    const { client: c, log } = client(rx.port);
    expectAck(await c.send(frameOf('IDLE1'), 'IDLE1'), 'IDLE1');
    rx.dropConnections();
    await waitFor(() => !c.connected, { message: 'client to notice the drop' });
    expect(log.disconnects).toHaveLength(1);
    expectAck(await c.send(frameOf('IDLE2'), 'IDLE2'), 'IDLE2');
    expect(rx.received.map((message) => message.connection)).toEqual([1, 2]);
  });
});

describe('MllpClient: reading the ACK', () => {
  it('reads an ACK written one byte at a time (split over many reads, the end marker included)', async () => {
    const rx = await receiver(() => ({ kind: 'ack', chunkBytes: 1 }));
    const { client: c } = client(rx.port);
    expectAck(await c.send(frameOf('SPLIT1'), 'SPLIT1'), 'SPLIT1');
    expectAck(await c.send(frameOf('SPLIT2'), 'SPLIT2'), 'SPLIT2');
    expect(rx.connections).toBe(1);
  });

  it('reads two frames in one read: a duplicate ACK of an earlier message, then the right one', async () => {
    const rx = await receiver((message) =>
      message.index === 0 ? { kind: 'ack' } : { kind: 'ack', framesBefore: [ackText(rx.received[0]!.controlId)] },
    );
    const { client: c, log } = client(rx.port);
    expectAck(await c.send(frameOf('DUP1'), 'DUP1'), 'DUP1');
    expectAck(await c.send(frameOf('DUP2'), 'DUP2'), 'DUP2');
    expect(log.ignored).toEqual(['duplicate-ack']);
    // Still the same healthy connection.
    expectAck(await c.send(frameOf('DUP3'), 'DUP3'), 'DUP3');
    expect(log.ignored).toEqual(['duplicate-ack', 'duplicate-ack']);
    expect(rx.connections).toBe(1);
  });

  it('keeps the start of another frame that follows the ACK in the same read; the next send still works', async () => {
    // The receiver repeats the ACK of the first message, but only half of that frame goes out
    // with the first ACK; the other half arrives with the second ACK.
    const duplicate = ackFrame('TAIL1');
    const cut = 17;
    const rx = await receiver((message) =>
      message.index === 0
        ? { kind: 'ack', trailing: duplicate.subarray(0, cut) }
        : { kind: 'raw', data: Buffer.concat([duplicate.subarray(cut), ackFrame(message.controlId)]) },
    );
    const { client: c, log } = client(rx.port);
    expectAck(await c.send(frameOf('TAIL1'), 'TAIL1'), 'TAIL1');
    expect(log.ignored).toEqual([]);
    expectAck(await c.send(frameOf('TAIL2'), 'TAIL2'), 'TAIL2');
    expect(log.ignored).toEqual(['duplicate-ack']);
    expect(rx.connections).toBe(1);
  });

  it('garbage instead of an ACK -> invalid-ack, the socket is closed, the next send reconnects', async () => {
    const rx = await receiver((message) =>
      message.index === 0 ? { kind: 'raw', data: Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n') } : { kind: 'ack' },
    );
    const { client: c, log } = client(rx.port);
    const result = await c.send(frameOf('GARB1'), 'GARB1');
    expect(result).toEqual({ kind: 'invalid-ack', reason: expect.stringMatching(/outside an MLLP frame/) });
    expect(c.connected).toBe(false);
    await waitFor(() => rx.openConnections === 0, { message: 'receiver to see the connection closed' });
    expect(log.disconnects).toHaveLength(1);
    expectAck(await c.send(frameOf('GARB2'), 'GARB2'), 'GARB2');
    expect(rx.connections).toBe(2);
  });

  it('a framed reply that is not HL7 -> invalid-ack and the socket is closed', async () => {
    const rx = await receiver(() => ({ kind: 'raw', data: encodeFrame('OK') }));
    const { client: c } = client(rx.port);
    const result = await c.send(frameOf('NOTHL7'), 'NOTHL7');
    expect(result).toEqual({ kind: 'invalid-ack', reason: expect.stringMatching(/not a readable ACK: .*MSH/) });
    await waitFor(() => rx.openConnections === 0, { message: 'receiver to see the connection closed' });
  });

  it('an ACK whose MSA-2 is another control id -> invalid-ack, and the socket is closed', async () => {
    const rx = await receiver(() => ({ kind: 'ack', controlId: 'SOMEONE-ELSE' }));
    const { client: c } = client(rx.port);
    const result = await c.send(frameOf('MINE1'), 'MINE1');
    expect(result).toEqual({ kind: 'invalid-ack', reason: 'ACK MSA-2 "SOMEONE-ELSE" does not match MSH-10 MINE1' });
    expect(c.connected).toBe(false);
    await waitFor(() => rx.openConnections === 0, { message: 'receiver to see the connection closed' });
  });

  it('does not echo a mismatching MSA-2 that could carry patient data into the reason', async () => {
    const rx = await receiver(() => ({ kind: 'ack', controlId: 'Anne O Brien 1984' }));
    const { client: c } = client(rx.port);
    const result = await c.send(frameOf('MINE2'), 'MINE2');
    expect(result.kind).toBe('invalid-ack');
    expect(result.kind !== 'ack' && result.reason).not.toMatch(/Anne/);
  });

  it('a non-ACK message (MSH-9.1 ADT) as the reply -> invalid-ack even with a matching MSA-2', async () => {
    // The receiver echoes the message back, with an MSA that names the right control id.
    const rx = await receiver((message: Received) => ({ kind: 'raw', data: encodeFrame(`${message.text}MSA|AA|${message.controlId}\r`) }));
    const { client: c } = client(rx.port);
    const result = await c.send(frameOf('ECHO1'), 'ECHO1');
    expect(result).toEqual({ kind: 'invalid-ack', reason: 'reply is not an ACK (MSH-9.1 "ADT")' });
    expect(c.connected).toBe(false);
  });
});

describe('MllpClient: resending a control id', () => {
  it('a resend after AR goes out on a fresh connection, so a replayed old AR cannot answer it', async () => {
    // The receiver answers RETRY1 with AR; on that same connection it would answer the resend
    // by first replaying the old AR, then AA (as receivers that re-send earlier ACKs do).
    const rx = await receiver((message) => {
      if (message.index === 0) return { kind: 'ack', code: 'AR', errorCode: '207' };
      const sameConnection = message.connection === rx.received[0]!.connection;
      return { kind: 'ack', code: 'AA', ...(sameConnection ? { framesBefore: [ackText(message.controlId, 'AR')] } : {}) };
    });
    const { client: c, log } = client(rx.port);
    expectAck(await c.send(frameOf('RETRY1'), 'RETRY1'), 'RETRY1', 'AR');
    expectAck(await c.send(frameOf('RETRY1'), 'RETRY1'), 'RETRY1', 'AA');
    expect(rx.received.map((message) => message.connection)).toEqual([1, 2]);
    expect(log.disconnects).toEqual(['resending a control id already sent on this connection']);
    // A different control id keeps using the connection.
    expectAck(await c.send(frameOf('RETRY2'), 'RETRY2'), 'RETRY2');
    expect(rx.connections).toBe(2);
  });
});

describe('MllpClient: no ACK, late ACKs, closed connections', () => {
  it('no ACK -> uncertain after the ACK timeout; the socket is closed and the next send opens a new connection', async () => {
    const rx = await receiver((message) => (message.index === 0 ? { kind: 'none' } : { kind: 'ack' }));
    const { client: c } = client(rx.port, { ackTimeoutMs: 400 });
    const { value: result, ms } = await timed(c.send(frameOf('SILENT1'), 'SILENT1'));
    expect(result).toEqual({ kind: 'uncertain', reason: 'no ACK within 400 ms' });
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(5_000);
    expect(c.connected).toBe(false);
    await waitFor(() => rx.openConnections === 0, { message: 'receiver to see the connection closed' });
    expectAck(await c.send(frameOf('SILENT1'), 'SILENT1'), 'SILENT1');
    expect(rx.received.map((message) => [message.controlId, message.connection])).toEqual([
      ['SILENT1', 1],
      ['SILENT1', 2],
    ]);
  });

  it('a late ACK of a timed-out message can never settle the next message', async () => {
    // The receiver sits on LATE-A. When LATE-B arrives it finally writes "AA for LATE-A" on
    // the connection LATE-A came on, then answers LATE-B with AE. A client that kept that
    // connection after the timeout would read the AA first (B would come out AA, or
    // invalid-ack); a correct client has closed it and sees only B's AE.
    let heldFor: RawConnection | undefined;
    const server = await RawServer.start((text, connection) => {
      const id = controlIdOf(text);
      if (id === 'LATE-A') {
        heldFor = connection;
        return;
      }
      if (!heldFor!.socket.destroyed) heldFor!.socket.write(ackFrame('LATE-A'));
      connection.socket.write(ackFrame(id, 'AE'));
    });
    cleanups.add(() => server.close());
    const { client: c } = client(server.port, { ackTimeoutMs: 400 });

    const first = await c.send(frameOf('LATE-A'), 'LATE-A');
    expect(first).toEqual({ kind: 'uncertain', reason: 'no ACK within 400 ms' });
    await waitFor(() => server.connections[0]?.closed, { message: 'LATE-A connection closed' });

    expectAck(await c.send(frameOf('LATE-B'), 'LATE-B'), 'LATE-B', 'AE');
    expect(server.connections.map((connection) => connection.frames.map(controlIdOf))).toEqual([['LATE-A'], ['LATE-B']]);
  });

  it('after a resend is acknowledged, the first attempt\'s late ACK arriving on the same connection does not settle the next message', async () => {
    // Attempt 1 of LATE2-A times out; the resend on a new connection gets AA. Then, with
    // LATE2-B in flight, the receiver delivers the delayed answer to attempt 1 (an AR) and
    // nothing for LATE2-B: LATE2-B must end uncertain, never settled by that AR. The AR
    // after the AA is reported as a late answer (it answers LATE2-A, already accepted).
    const deliveries = new Map<string, number>();
    const server = await RawServer.start((text, connection) => {
      const id = controlIdOf(text);
      const n = (deliveries.get(id) ?? 0) + 1;
      deliveries.set(id, n);
      if (id === 'LATE2-A' && n === 2) connection.socket.write(ackFrame('LATE2-A'));
      if (id === 'LATE2-B') connection.socket.write(ackFrame('LATE2-A', 'AR'));
    });
    cleanups.add(() => server.close());
    const { client: c, log } = client(server.port, { ackTimeoutMs: 400 });

    expect((await c.send(frameOf('LATE2-A'), 'LATE2-A')).kind).toBe('uncertain');
    expectAck(await c.send(frameOf('LATE2-A'), 'LATE2-A'), 'LATE2-A');
    const last = await c.send(frameOf('LATE2-B'), 'LATE2-B');
    expect(last).toEqual({ kind: 'uncertain', reason: 'no ACK within 400 ms' });
    expect(log.ignored).toEqual([]);
    expect(log.late).toEqual([{ controlId: 'LATE2-A', firstCode: 'AA', lateCode: 'AR', errorCode: '204' }]);
    expect(server.connections.map((connection) => connection.frames.map(controlIdOf))).toEqual([['LATE2-A'], ['LATE2-A', 'LATE2-B']]);
  });

  it('an ACK for a control id never acknowledged on this connection fails the send in flight (invalid-ack), never settles it', async () => {
    // The timed-out message's ACK arrives on the new connection before the next message's.
    const deliveries: string[] = [];
    const server = await RawServer.start((text, connection) => {
      const id = controlIdOf(text);
      deliveries.push(id);
      if (id === 'STRAY-B') connection.socket.write(Buffer.concat([ackFrame('STRAY-A'), ackFrame('STRAY-B')]));
    });
    cleanups.add(() => server.close());
    const { client: c } = client(server.port, { ackTimeoutMs: 400 });
    expect((await c.send(frameOf('STRAY-A'), 'STRAY-A')).kind).toBe('uncertain');
    const result = await c.send(frameOf('STRAY-B'), 'STRAY-B');
    expect(result).toEqual({ kind: 'invalid-ack', reason: 'ACK MSA-2 "STRAY-A" does not match MSH-10 STRAY-B' });
    await waitFor(() => server.openConnections === 0, { message: 'connections closed' });
  });

  it('peer closes after reading the message -> uncertain "receiver closed", well before the ACK timeout', async () => {
    const rx = await receiver(() => ({ kind: 'close' }));
    const { client: c } = client(rx.port, { ackTimeoutMs: 20_000 });
    const { value: result, ms } = await timed(c.send(frameOf('HANGUP1'), 'HANGUP1'));
    expect(result).toEqual({ kind: 'uncertain', reason: 'receiver closed the connection before the ACK' });
    expect(ms).toBeLessThan(5_000);
    expect(rx.controlIds()).toEqual(['HANGUP1']);
    expect(c.connected).toBe(false);
  });

  it('peer resets the connection after reading -> uncertain naming the reset, well before the ACK timeout', async () => {
    const server = await RawServer.start((_text, connection) => {
      connection.socket.resetAndDestroy();
    });
    cleanups.add(() => server.close());
    const { client: c } = client(server.port, { ackTimeoutMs: 20_000 });
    const { value: result, ms } = await timed(c.send(frameOf('RESET1'), 'RESET1'));
    expect(result.kind).toBe('uncertain');
    expect(result.kind !== 'ack' && result.reason).toMatch(/ECONNRESET|receiver closed/);
    expect(ms).toBeLessThan(5_000);
  });

  it('peer closes in the middle of the ACK -> uncertain, not ack and not invalid-ack', async () => {
    const server = await RawServer.start((text, connection) => {
      const ack = ackFrame(controlIdOf(text));
      connection.socket.end(ack.subarray(0, ack.length - 10));
    });
    cleanups.add(() => server.close());
    const { client: c } = client(server.port, { ackTimeoutMs: 20_000 });
    const { value: result, ms } = await timed(c.send(frameOf('MIDACK1'), 'MIDACK1'));
    expect(result).toEqual({ kind: 'uncertain', reason: 'receiver closed the connection before the ACK' });
    expect(ms).toBeLessThan(5_000);
  });
});

describe('MllpClient: one message in flight', () => {
  it('send while a message is in flight throws, and does not disturb the one in flight', async () => {
    const answer = gate();
    const rx = await receiver(async () => {
      await answer.promise;
      return { kind: 'ack' };
    });
    const { client: c } = client(rx.port);
    const first = c.send(frameOf('INFLIGHT1'), 'INFLIGHT1');
    await waitFor(() => rx.received.length === 1, { message: 'first message received' });
    await expect(c.send(frameOf('INFLIGHT2'), 'INFLIGHT2')).rejects.toThrow(/in flight/);
    answer.open();
    expectAck(await first, 'INFLIGHT1');
    expect(rx.controlIds()).toEqual(['INFLIGHT1']);
    // Free again once settled.
    expectAck(await c.send(frameOf('INFLIGHT3'), 'INFLIGHT3'), 'INFLIGHT3');
  });

  it('a second send while the first is still connecting throws too (one connection, no lost promise)', async () => {
    const rx = await receiver();
    const { client: c } = client(rx.port);
    const first = c.send(frameOf('CONN1'), 'CONN1');
    const second = c.send(frameOf('CONN2'), 'CONN2');
    await expect(second).rejects.toThrow(/in flight/);
    expectAck(await first, 'CONN1');
    expect(rx.connections).toBe(1);
    expect(rx.controlIds()).toEqual(['CONN1']);
  });

  it('close() while a message is in flight resolves it as uncertain and closes the socket; later sends are unreachable', async () => {
    const rx = await receiver(() => ({ kind: 'none' }));
    const { client: c, log } = client(rx.port, { ackTimeoutMs: 20_000 });
    const pending = c.send(frameOf('CLOSING1'), 'CLOSING1');
    await waitFor(() => rx.received.length === 1, { message: 'message received' });
    const { value: result, ms } = await timed((async () => {
      await c.close();
      return pending;
    })());
    expect(result).toEqual({ kind: 'uncertain', reason: 'connection closed by the dispatcher' });
    expect(ms).toBeLessThan(5_000);
    await waitFor(() => rx.openConnections === 0, { message: 'receiver to see the connection closed' });
    expect(log.disconnects).toHaveLength(1);
    expect(await c.send(frameOf('CLOSING2'), 'CLOSING2')).toEqual({ kind: 'unreachable', reason: 'client is closed' });
    await c.close(); // idempotent
    expect(rx.controlIds()).toEqual(['CLOSING1']);
  });

  it('close() while the send is still connecting: the send is unreachable and nothing is written', async () => {
    const rx = await receiver();
    const { client: c } = client(rx.port);
    const pending = c.send(frameOf('EARLY1'), 'EARLY1');
    await c.close();
    expect(await pending).toEqual({ kind: 'unreachable', reason: 'client is closed' });
    expect(c.connected).toBe(false);
    // Prove the receiver is reachable and idle: a fresh client's message is the first it sees.
    const { client: other } = client(rx.port);
    expectAck(await other.send(frameOf('EARLY2'), 'EARLY2'), 'EARLY2');
    expect(rx.controlIds()).toEqual(['EARLY2']);
  });
});
