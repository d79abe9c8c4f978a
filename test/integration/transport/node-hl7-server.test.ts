/**
 * Interop with a real third-party receiver: node-hl7-server 2.5.0 (dev dependency).
 *
 * What it does on a persistent connection (observed here, and its issue #102): it never
 * clears its read buffer, so each new message is parsed together with every earlier one on
 * that connection, as a batch. The handler runs again for every earlier message and the
 * server answers each of them again, in order, before the new message's ACK, all in one
 * write: message n gets n-1 duplicate ACKs followed by its own — n(n+1)/2 handler calls for
 * n messages. Its ACKs carry MSH-9 `ACK^A01^ACK_A01` (structure ACK_A01, non-standard) and
 * MSH-10 literally `ACK` every time; MSA-2 echoes the right MSH-10, which is all the client
 * correlates on.
 *
 * MllpClient must settle each send with the ACK of its own control id, in order, on one
 * connection, ignoring the duplicates (ACKs of control ids already acknowledged on that
 * connection). It cannot stop the receiver processing the earlier messages again: that is
 * the receiver's bug, and the reason each subscription should know its receiver.
 */
import type { AddressInfo, Server as NetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server, type Inbound } from 'node-hl7-server';
import { makePki } from '../../helpers/certs.js';
import type { TlsFileSettings } from '../../../src/transport/tls-files.js';
import { Cleanups, frameOf, makeClient } from './support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

interface Started {
  port: number;
  /** MSH-10 of every message the handler was called with, in call order. */
  handled: string[];
  connections: number;
  inbound: Inbound;
}

async function startNodeHl7Server(tls?: { key: Buffer; cert: Buffer; ca: Buffer }): Promise<Started> {
  const server = new Server({ bindAddress: '127.0.0.1', ...(tls ? { tls: { ...tls, requestCert: true } } : {}) });
  const handled: string[] = [];
  const started = { port: 0, handled, connections: 0 } as Started;
  const inbound = server.createInbound({ port: 0 }, async (request, response) => {
    handled.push(request.getMessage().get('MSH.10').toString());
    await response.sendResponse('AA');
  });
  started.inbound = inbound;
  cleanups.add(() => inbound.close());
  inbound.on('client.connect', () => started.connections++);
  await new Promise<void>((resolve, reject) => {
    inbound.once('listen', resolve);
    inbound.once('error', reject);
  });
  // node-hl7-server has no API for the bound port; with port 0 the listening net.Server
  // (a private field in 2.5.0, the pinned version) is the only place to read it.
  const listening = (inbound as unknown as { _socket?: NetServer })._socket;
  const address = listening?.address() as AddressInfo | null | undefined;
  if (!address?.port) throw new Error('cannot find the port node-hl7-server listens on (has its internal layout changed?)');
  started.port = address.port;
  return started;
}

const IDS = ['NHS000000000000001', 'NHS000000000000002', 'NHS000000000000003', 'NHS000000000000004', 'NHS000000000000005'];

/** Handler calls node-hl7-server makes for IDS: every earlier message again, then the new one. */
const EXPECTED_HANDLER_CALLS = IDS.flatMap((_id, n) => IDS.slice(0, n + 1));

describe('interop: node-hl7-server 2.5.0', () => {
  it('llp: five sends on one connection each resolve with the ACK of their own control id, duplicates ignored', async () => {
    const receiver = await startNodeHl7Server();
    const { client, log } = makeClient(receiver.port, { ackTimeoutMs: 10_000 });
    cleanups.add(() => client.close());

    const acked: string[] = [];
    for (const id of IDS) {
      const result = await client.send(frameOf(id), id);
      expect(result.kind, JSON.stringify(result)).toBe('ack');
      if (result.kind !== 'ack') return;
      expect(result.ack).toEqual({ messageType: 'ACK', ackCode: 'AA', controlId: id });
      acked.push(result.ack.controlId);
    }
    expect(acked).toEqual(IDS);
    expect(receiver.connections).toBe(1);
    expect(log.connects).toHaveLength(1);
    expect(client.connected).toBe(true);
    // The re-delivery (issue #102), and the duplicate ACKs it produced: 0 + 1 + 2 + 3 + 4.
    expect(receiver.handled).toEqual(EXPECTED_HANDLER_CALLS);
    expect(log.ignored).toEqual(Array(10).fill('duplicate-ack'));
    // Repeated AAs: counted by code, never a late error.
    expect(log.ignoredCodes).toEqual(Array(10).fill('AA'));
    expect(log.late).toEqual([]);
  });

  it('sllp with mutual TLS: the same, over TLS', async () => {
    const pki = makePki({ CN_PREFIX: 'node-hl7-server' });
    const receiver = await startNodeHl7Server({ key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert), ca: pki.read(pki.ca) });
    const tls: TlsFileSettings = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost', minVersion: 'TLSv1.2' };
    const { client, log } = makeClient(receiver.port, { secure: true, tls, ackTimeoutMs: 10_000 });
    cleanups.add(() => client.close());

    for (const id of IDS) {
      const result = await client.send(frameOf(id), id);
      expect(result.kind === 'ack' ? result.ack.controlId : JSON.stringify(result)).toBe(id);
    }
    expect(receiver.connections).toBe(1);
    expect(log.connects.map((info) => info.protocol)).toEqual(['TLSv1.3']);
    expect(receiver.handled).toEqual(EXPECTED_HANDLER_CALLS);
    expect(log.ignored).toHaveLength(10);
  });
});
