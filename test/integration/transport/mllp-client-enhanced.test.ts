/**
 * MllpClient in enhanced acknowledgment mode, and the matching of every answer to the
 * message it answers, against raw sockets whose every byte the test writes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildAck, readHeader } from '../../../src/hl7/build-ack.js';
import { encodeFrame } from '../../../src/transport/mllp-framing.js';
import type { ApplicationAnswer, SendResult } from '../../../src/transport/mllp-client.js';
import { waitFor } from '../../helpers/wait.js';
import { Cleanups, RawServer, adt, ackFrame, controlIdOf, frameOf, gate, makeClient, type RawConnection } from './support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const ENHANCED = { enhanced: { mode: { accept: 'AL', application: 'AL' } as const, applicationAckTimeoutMs: 10_000 } };

/** The receiver's answer to message `id` with MSA-1 `code`; `msh15` set: it asks for a commit ACK back. */
function answerFrame(id: string, code: 'AA' | 'AE' | 'AR' | 'CA', msh15 = ''): Buffer {
  const text = buildAck(readHeader(adt(id))!, { code, controlId: `R${code}-${id}` });
  if (!msh15) return encodeFrame(text);
  const [msh, ...rest] = text.split('\r');
  return encodeFrame([`${msh}|||${msh15}`, ...rest].join('\r'));
}

async function start(handler: (text: string, connection: RawConnection) => void, options: Parameters<typeof makeClient>[1] = ENHANCED) {
  const server = await RawServer.start(handler);
  cleanups.add(() => server.close());
  const made = makeClient(server.port, options);
  cleanups.add(() => made.client.close());
  return { server, ...made };
}

function application(result: SendResult): Promise<ApplicationAnswer> {
  if (result.kind !== 'ack' || !result.application) throw new Error(`expected a CA with an application ACK due, got ${JSON.stringify(result)}`);
  return result.application;
}

describe('MllpClient, enhanced mode', () => {
  it('a CA resolves the send and the next one goes out; the application ACK arriving meanwhile ends its own wait, and our CA answers it when asked', async () => {
    const { server, client, log } = await start((text, connection) => {
      const id = controlIdOf(text);
      if (id.startsWith('ACK')) return; // our commit ACK
      // A-1's application ACK (asking for a commit ACK back) comes right before A-2's CA.
      connection.socket.write(id === 'A-2' ? Buffer.concat([answerFrame('A-1', 'AE', 'AL'), answerFrame(id, 'CA')]) : answerFrame(id, 'CA'));
    });
    const first = await client.send(frameOf('A-1'), 'A-1', { eventId: 'e1', trigger: 'A01' });
    expect(first).toMatchObject({ kind: 'ack', ack: { ackCode: 'CA', controlId: 'A-1' } });
    const second = await client.send(frameOf('A-2'), 'A-2');
    expect(second).toMatchObject({ kind: 'ack', ack: { ackCode: 'CA', controlId: 'A-2' } });
    expect(await application(first)).toMatchObject({ kind: 'ack', ack: { ackCode: 'AE', controlId: 'A-1', acceptAckType: 'AL' } });
    // Our CA for the receiver's application ACK, on the same connection.
    await waitFor(() => server.frames.length === 3, { message: 'our commit ACK' });
    expect(server.frames[2]!.split('\r')[1]).toBe('MSA|CA|RAE-A-1');
    expect(server.connections).toHaveLength(1);
    expect(log.ignored).toEqual([]);
  });

  it('no application ACK in time: the wait ends as timeout; an AE after it is a late answer, an AA after it is ignored', async () => {
    const held = gate();
    const { server, client, log } = makeClientWithTimeout(await RawServer.start((text, connection) => {
      const id = controlIdOf(text);
      connection.socket.write(answerFrame(id, 'CA'));
      if (id === 'T-2') void held.promise.then(() => connection.socket.write(Buffer.concat([answerFrame('T-1', 'AA'), answerFrame('T-1', 'AE')])));
    }));
    const first = await client.send(frameOf('T-1'), 'T-1', { eventId: 'e1', trigger: 'A08' });
    expect(await application(first)).toEqual({ kind: 'timeout', reason: 'committed (CA), then no application ACK within 200 ms' });
    await client.send(frameOf('T-2'), 'T-2');
    held.open();
    await waitFor(() => log.late.length === 1, { message: 'the late AE' });
    expect(log.late).toEqual([{ controlId: 'T-1', firstCode: 'CA', lateCode: 'AE', errorCode: '207', context: { eventId: 'e1', trigger: 'A08' } }]);
    expect(log.ignored).toEqual(['duplicate-ack']);
    expect(log.ignoredCodes).toEqual(['AA']);
    expect(server.connections).toHaveLength(1);
  });

  it('the application ACK of a message may come on the next connection, after the first one dropped', async () => {
    const { server, client } = await start((text, connection) => {
      const id = controlIdOf(text);
      if (id === 'D-1') {
        connection.socket.write(answerFrame(id, 'CA'));
        connection.socket.end();
        return;
      }
      connection.socket.write(Buffer.concat([answerFrame('D-1', 'AA'), answerFrame(id, 'CA')]));
    });
    const first = await client.send(frameOf('D-1'), 'D-1');
    const wait = application(first);
    await waitFor(() => !client.connected, { message: 'the receiver closed the first connection' });
    expect((await client.send(frameOf('D-2'), 'D-2')).kind).toBe('ack');
    expect(await wait).toMatchObject({ kind: 'ack', ack: { ackCode: 'AA', controlId: 'D-1' } });
    expect(server.connections).toHaveLength(2);
  });

  it('a resend waits for the application ACKs still due on the connection before replacing it', async () => {
    const releaseB = gate();
    const { server, client } = await start((text, connection) => {
      const id = controlIdOf(text);
      connection.socket.write(answerFrame(id, 'CA'));
      if (connection.index === 1 && id === 'R-1') connection.socket.write(answerFrame(id, 'AR'));
      if (id === 'R-2') void releaseB.promise.then(() => connection.socket.write(answerFrame('R-2', 'AA')));
    });
    const first = await client.send(frameOf('R-1'), 'R-1');
    expect(await application(first)).toMatchObject({ kind: 'ack', ack: { ackCode: 'AR' } });
    const second = await client.send(frameOf('R-2'), 'R-2');
    const resend = client.send(frameOf('R-1'), 'R-1');
    // R-2's application ACK is still due on connection 1: the resend waits for it.
    await waitFor(() => server.frames.length === 2, { message: 'two messages received' });
    expect(server.connections).toHaveLength(1);
    releaseB.open();
    expect(await application(second)).toMatchObject({ kind: 'ack', ack: { ackCode: 'AA', controlId: 'R-2' } });
    expect((await resend).kind).toBe('ack');
    expect(server.connections.map((connection) => connection.frames.map(controlIdOf))).toEqual([['R-1', 'R-2'], ['R-1']]);
  });
});

describe('MllpClient: a connection is replaced after its maximum of messages, so every answer on it stays matched', () => {
  it('original mode: the fourth message goes out on a new connection', async () => {
    const { server, client } = await start((text, connection) => connection.socket.write(ackFrame(controlIdOf(text))), { maxMessagesPerConnection: 3 });
    for (const id of ['M-1', 'M-2', 'M-3', 'M-4']) expect((await client.send(frameOf(id), id)).kind).toBe('ack');
    expect(server.connections.map((connection) => connection.frames.map(controlIdOf))).toEqual([['M-1', 'M-2', 'M-3'], ['M-4']]);
  });
});

function makeClientWithTimeout(server: RawServer) {
  cleanups.add(() => server.close());
  const made = makeClient(server.port, { enhanced: { mode: { accept: 'AL', application: 'AL' }, applicationAckTimeoutMs: 200 } });
  cleanups.add(() => made.client.close());
  return { server, ...made };
}
