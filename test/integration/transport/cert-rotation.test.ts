/**
 * Certificate rotation: MllpClient re-reads its TLS files for every new connection
 * (tls-files.ts), and before a send (at most every tlsCheckIntervalMs) replaces an idle
 * connection whose files changed on disk; so rotated files are used without a restart,
 * while a message in flight is never disturbed.
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { makePki } from '../../helpers/certs.js';
import { waitFor } from '../../helpers/wait.js';
import type { SendResult } from '../../../src/transport/mllp-client.js';
import { Cleanups, RawServer, ackFrame, controlIdOf, frameOf, issueClientCertificate, makeClient, replaceFile } from './support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const DAY_MS = 24 * 60 * 60 * 1000;

function ackedId(result: SendResult): string | undefined {
  return result.kind === 'ack' ? result.ack.controlId : `${result.kind}: ${result.reason}`;
}

/** The client's TLS files in a directory of their own, as an operator would deploy them. */
function deployClientFiles(files: { ca: string; cert: string; key: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'mllp-client-tls-'));
  const deployed = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
  copyFileSync(files.ca, deployed.ca);
  copyFileSync(files.cert, deployed.cert);
  copyFileSync(files.key, deployed.key);
  return deployed;
}

/**
 * A receiver that requires a client certificate from `pki`'s CA and ACKs everything, and a
 * client whose TLS files are deployed in a directory of their own (returned, to rotate).
 */
async function mutualTlsPair(pki: ReturnType<typeof makePki>, clientOptions: { tlsCheckIntervalMs?: number } = {}) {
  const server = await RawServer.start((text, connection) => {
    connection.socket.write(ackFrame(controlIdOf(text)));
  }, {
    cert: pki.read(pki.serverCert),
    key: pki.read(pki.serverKey),
    ca: pki.read(pki.ca),
    requestCert: true,
    rejectUnauthorized: true,
  });
  cleanups.add(() => server.close());
  const files = deployClientFiles({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
  const { client, log } = makeClient(server.port, {
    secure: true,
    tls: { ...files, servername: 'localhost', minVersion: 'TLSv1.2' },
    ...clientOptions,
  });
  cleanups.add(() => client.close());
  return { server, files, client, log };
}

describe('TLS certificate rotation', () => {
  it('a client certificate replaced on disk: the open connection keeps working, the next connection presents the new one', async () => {
    const pki = makePki({ CN_PREFIX: 'rotation' });
    const { server, files, client, log } = await mutualTlsPair(pki);

    expect(ackedId(await client.send(frameOf('ROT1'), 'ROT1'))).toBe('ROT1');
    const oldSerial = new X509Certificate(readFileSync(files.cert)).serialNumber;
    expect(server.connections[0]!.peerCertificate).toEqual({ subjectCN: 'rotation client', serialNumber: oldSerial });

    // Rotate: a new key and certificate from the same CA, valid 30 days instead of 365.
    const issued = issueClientCertificate(pki.dir, 'rotation client 2', 30);
    replaceFile(readFileSync(issued.key), files.key);
    replaceFile(readFileSync(issued.cert), files.cert);
    const newSerial = new X509Certificate(readFileSync(files.cert)).serialNumber;
    expect(newSerial).not.toBe(oldSerial);

    // The open connection is untouched by the files changing under it.
    expect(ackedId(await client.send(frameOf('ROT2'), 'ROT2'))).toBe('ROT2');
    expect(server.connections).toHaveLength(1);

    // The receiver drops the connection; the next send connects again with the new files.
    server.dropConnections();
    await waitFor(() => !client.connected, { message: 'client to notice the dropped connection' });
    expect(ackedId(await client.send(frameOf('ROT3'), 'ROT3'))).toBe('ROT3');
    expect(server.connections).toHaveLength(2);
    expect(server.connections[1]!.peerCertificate).toEqual({ subjectCN: 'rotation client 2', serialNumber: newSerial });
    expect(server.connections.map((connection) => connection.frames.map(controlIdOf))).toEqual([['ROT1', 'ROT2'], ['ROT3']]);

    // The reported client certificate expiry follows the file too (metrics warn on it).
    expect(log.connects).toHaveLength(2);
    const [before, after] = log.connects.map((info) => info.clientCertificateExpiresAt!.getTime());
    expect(Math.round((before! - Date.now()) / DAY_MS)).toBe(365);
    expect(Math.round((after! - Date.now()) / DAY_MS)).toBe(30);
  });

  it('files replaced on disk are picked up by the next send without waiting for a disconnect', async () => {
    const pki = makePki({ CN_PREFIX: 'live-rotation' });
    // Check the files before every send (the default is at most every 30 s).
    const { server, files, client } = await mutualTlsPair(pki, { tlsCheckIntervalMs: 0 });
    expect(ackedId(await client.send(frameOf('LIVE1'), 'LIVE1'))).toBe('LIVE1');
    expect(ackedId(await client.send(frameOf('LIVE2'), 'LIVE2'))).toBe('LIVE2');
    // Unchanged files: the connection stays.
    expect(server.connections).toHaveLength(1);

    const issued = issueClientCertificate(pki.dir, 'live-rotation client 2', 30);
    replaceFile(readFileSync(issued.key), files.key);
    replaceFile(readFileSync(issued.cert), files.cert);
    const newSerial = new X509Certificate(readFileSync(files.cert)).serialNumber;

    expect(ackedId(await client.send(frameOf('LIVE3'), 'LIVE3'))).toBe('LIVE3');
    expect(server.connections).toHaveLength(2);
    expect(server.connections[1]!.peerCertificate).toEqual({ subjectCN: 'live-rotation client 2', serialNumber: newSerial });
    expect(server.connections.map((connection) => connection.frames.map(controlIdOf))).toEqual([['LIVE1', 'LIVE2'], ['LIVE3']]);
  });

  it('the receiver moves to a new CA: the next connection fails until the CA file is updated, then succeeds without a restart', async () => {
    const oldPki = makePki({ CN_PREFIX: 'ca-old' });
    const newPki = makePki({ CN_PREFIX: 'ca-new' });
    const server = await RawServer.start((text, connection) => {
      connection.socket.write(ackFrame(controlIdOf(text)));
    }, {
      cert: oldPki.read(oldPki.serverCert),
      key: oldPki.read(oldPki.serverKey),
      ca: oldPki.read(oldPki.ca),
      requestCert: true,
      rejectUnauthorized: true,
    });
    cleanups.add(() => server.close());
    const files = deployClientFiles({ ca: oldPki.ca, cert: oldPki.clientCert, key: oldPki.clientKey });
    const { client, log } = makeClient(server.port, {
      secure: true,
      tls: { ...files, servername: 'localhost', minVersion: 'TLSv1.2' },
    });
    cleanups.add(() => client.close());
    expect(ackedId(await client.send(frameOf('CA1'), 'CA1'))).toBe('CA1');

    // The receiver's certificate is replaced by one from the new CA (it still trusts our
    // client certificate from the old one). The open connection is not affected.
    server.setSecureContext({ cert: newPki.read(newPki.serverCert), key: newPki.read(newPki.serverKey), ca: oldPki.read(oldPki.ca) });
    expect(ackedId(await client.send(frameOf('CA2'), 'CA2'))).toBe('CA2');

    server.dropConnections();
    await waitFor(() => !client.connected, { message: 'client to notice the dropped connection' });
    const refused = await client.send(frameOf('CA3'), 'CA3');
    expect(refused.kind).toBe('unreachable');
    expect(refused.kind !== 'ack' && refused.reason).toMatch(/^TLS error UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate$/);

    // The operator adds the new CA to the bundle; the next connection reads it.
    replaceFile(Buffer.concat([readFileSync(oldPki.ca), readFileSync(newPki.ca)]), files.ca);
    expect(ackedId(await client.send(frameOf('CA3'), 'CA3'))).toBe('CA3');
    expect(log.connects).toHaveLength(2);
    expect(server.frames.map(controlIdOf)).toEqual(['CA1', 'CA2', 'CA3']);
  });
});
