/**
 * MllpReceiver (the `listen` command's receiver) on real sockets.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { makePki } from '../../helpers/certs.js';
import { waitFor } from '../../helpers/wait.js';
import { buildAck, readHeader } from '../../../src/hl7/build-ack.js';
import { parseAck } from '../../../src/hl7/ack.js';
import { MllpFrameDecoder } from '../../../src/transport/mllp-framing.js';
import { MllpReceiver, type ReceivedMessage } from '../../../src/receiver/mllp-receiver.js';
import { Cleanups, controlIdOf, frameOf, makeClient } from './support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

function answerAa(message: ReceivedMessage): string {
  return buildAck(readHeader(message.text)!, { code: 'AA' });
}

/** A plain socket to the receiver, collecting the payloads of the frames it answers with. */
function rawClient(port: number): { socket: net.Socket; replies: string[] } {
  const socket = net.connect({ host: '127.0.0.1', port });
  cleanups.add(() => socket.destroy());
  const decoder = new MllpFrameDecoder();
  const replies: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const item of decoder.push(chunk)) if (item.kind === 'frame') replies.push(item.payload.toString('utf8'));
  });
  return { socket, replies };
}

describe('MllpReceiver', () => {
  it('answers each message on a connection in order, even when several arrive in one read', async () => {
    const receiver = new MllpReceiver({ port: 0, onMessage: answerAa });
    const port = await receiver.listen();
    cleanups.add(() => receiver.close());
    const { socket, replies } = rawClient(port);
    socket.write(Buffer.concat([frameOf('RCV1'), frameOf('RCV2'), frameOf('RCV3')]));
    await waitFor(() => replies.length === 3, { message: 'three ACKs' });
    expect(replies.map((reply) => parseAck(reply)).map((parsed) => parsed.ok && parsed.ack.controlId)).toEqual(['RCV1', 'RCV2', 'RCV3']);
  });

  it('a handler that fails answers nothing for that message, reports the error, and the connection keeps serving', async () => {
    const errors: Error[] = [];
    const receiver = new MllpReceiver({
      port: 0,
      onMessage: async (message) => {
        if (controlIdOf(message.text) === 'BOOM') throw new Error('handler failed');
        return answerAa(message);
      },
      onError: (error) => errors.push(error),
    });
    const port = await receiver.listen();
    cleanups.add(() => receiver.close());
    const { socket, replies } = rawClient(port);
    // Both in one write: the failing message first, on the same connection.
    socket.write(Buffer.concat([frameOf('BOOM'), frameOf('AFTER')]));
    await waitFor(() => replies.length === 1, { message: 'the ACK of the message after the failing one' });
    const parsed = parseAck(replies[0]!);
    expect(parsed.ok && parsed.ack.controlId).toBe('AFTER');
    expect(errors.map((error) => error.message)).toEqual(['handler failed']);
  });

  it('over TLS with client certificates: reports the client certificate subject to the handler', async () => {
    const pki = makePki({ CN_PREFIX: 'receiver-test' });
    const seen: ReceivedMessage[] = [];
    const receiver = new MllpReceiver({
      port: 0,
      tls: { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), ca: pki.read(pki.ca), requestCert: true, rejectUnauthorized: true },
      onMessage: (message) => {
        seen.push(message);
        return answerAa(message);
      },
    });
    const port = await receiver.listen();
    cleanups.add(() => receiver.close());
    const { client } = makeClient(port, {
      secure: true,
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost', minVersion: 'TLSv1.2' },
    });
    cleanups.add(() => client.close());
    const result = await client.send(frameOf('RCVTLS1'), 'RCVTLS1');
    expect(result.kind === 'ack' && result.ack.controlId).toBe('RCVTLS1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ connection: 1, remoteAddress: '127.0.0.1', clientCertificateSubject: 'receiver-test client' });
  });
});
