/**
 * sllp: TLS failures must surface as `unreachable` with the TLS error in the reason —
 * never as a silent ACK timeout — and the receiver must not have got the message.
 *
 * Observed with Node 20 / OpenSSL 3.0 servers (what these tests pin down):
 * - no client certificate when one is required: an alert, `certificate required` (TLS 1.3,
 *   after our handshake completed, so after the message was written) or `handshake
 *   failure` (TLS 1.2, during the handshake);
 * - a client certificate from another CA: Node's server sends no alert at all. TLS 1.2: the
 *   connection drops during the handshake. TLS 1.3: our handshake completes, the message
 *   is written, then the receiver closes without a word — MllpClient reports that as
 *   `unreachable` because nothing (no data, no session ticket) ever came from the receiver.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SecureVersion, TlsOptions } from 'node:tls';
import { makePki, type DevPki } from '../../helpers/certs.js';
import { waitFor } from '../../helpers/wait.js';
import type { SendResult } from '../../../src/transport/mllp-client.js';
import type { TlsFileSettings } from '../../../src/transport/tls-files.js';
import { Cleanups, RawServer, ackFrame, controlIdOf, frameOf, makeClient } from './support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

let pki: DevPki;
/** Another PKI: its CA signed nothing the receiver or the client trusts. */
let foreign: DevPki;
beforeAll(() => {
  pki = makePki({ CN_PREFIX: 'tls-tests' });
  foreign = makePki({ CN_PREFIX: 'foreign' });
});

const VERSIONS: SecureVersion[] = ['TLSv1.3', 'TLSv1.2'];
/** Long enough that a result coming from the ACK timeout could never pass for a TLS failure. */
const ACK_TIMEOUT_MS = 20_000;

/** A receiver that answers AA, with only `version` enabled and, by default, mutual TLS. */
async function tlsReceiver(version: SecureVersion, extra: TlsOptions = {}): Promise<RawServer> {
  const server = await RawServer.start(
    (text, connection) => {
      connection.socket.write(ackFrame(controlIdOf(text)));
    },
    {
      cert: pki.read(pki.serverCert),
      key: pki.read(pki.serverKey),
      ca: pki.read(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: version,
      maxVersion: version,
      ...extra,
    },
  );
  cleanups.add(() => server.close());
  return server;
}

/** A client trusting the test CA and presenting the test client certificate, unless told otherwise. */
function tlsClient(
  port: number,
  settings: Partial<TlsFileSettings> & { noClientCertificate?: boolean },
  options: { connectTimeoutMs?: number } = {},
) {
  const { noClientCertificate, ...overrides } = settings;
  const tls: TlsFileSettings = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost', minVersion: 'TLSv1.2', ...overrides };
  if (noClientCertificate) {
    delete tls.cert;
    delete tls.key;
  }
  const made = makeClient(port, { secure: true, ackTimeoutMs: ACK_TIMEOUT_MS, tls, ...options });
  cleanups.add(() => made.client.close());
  return made;
}

async function sendTimed(client: ReturnType<typeof tlsClient>['client'], id: string): Promise<{ result: SendResult; ms: number }> {
  const started = performance.now();
  const result = await client.send(frameOf(id), id);
  return { result, ms: performance.now() - started };
}

function reasonOf(result: SendResult): string {
  return result.kind === 'ack' ? '' : result.reason;
}

describe.each(VERSIONS)('sllp with %s', (version) => {
  it('mutual TLS with servername: ACK, one connection, the receiver sees our client certificate', async () => {
    const server = await tlsReceiver(version);
    const { client, log } = tlsClient(server.port, {});
    for (const id of ['MTLS1', 'MTLS2', 'MTLS3']) {
      const { result } = await sendTimed(client, id);
      expect(result.kind === 'ack' && result.ack.controlId).toBe(id);
    }
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]!.peerCertificate?.subjectCN).toBe('tls-tests client');
    expect(log.connects).toHaveLength(1);
    const info = log.connects[0]!;
    expect(info.protocol).toBe(version);
    expect(info.serverCertificateExpiresAt).toBeInstanceOf(Date);
    expect(info.clientCertificateExpiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it('untrusted server certificate (signed by another CA) -> unreachable with the verification error; nothing delivered', async () => {
    const server = await tlsReceiver(version);
    const { client } = tlsClient(server.port, { ca: foreign.ca });
    const { result, ms } = await sendTimed(client, 'UNTRUSTED1');
    expect(result.kind).toBe('unreachable');
    // The receiver sends its CA along with its certificate, hence "in chain".
    expect(reasonOf(result)).toMatch(/^TLS error SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain$/);
    expect(ms).toBeLessThan(5_000);
    expect(server.frames).toEqual([]);
    expect(client.connected).toBe(false);
  });

  it('hostname mismatch (servername not in the certificate SANs) -> unreachable with the altname error', async () => {
    const server = await tlsReceiver(version);
    const { client } = tlsClient(server.port, { servername: 'pix.example.org' });
    const { result, ms } = await sendTimed(client, 'HOSTNAME1');
    expect(result.kind).toBe('unreachable');
    expect(reasonOf(result)).toMatch(/^TLS error ERR_TLS_CERT_ALTNAME_INVALID: .*pix\.example\.org/);
    expect(ms).toBeLessThan(5_000);
    expect(server.frames).toEqual([]);
  });

  it('no client certificate when the receiver requires one -> unreachable with the TLS alert', async () => {
    const server = await tlsReceiver(version);
    const { client } = tlsClient(server.port, { noClientCertificate: true });
    const { result, ms } = await sendTimed(client, 'NOCERT1');
    expect(result.kind).toBe('unreachable');
    const expected = version === 'TLSv1.3' ? /^TLS error ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: / : /^TLS error ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: /;
    expect(reasonOf(result)).toMatch(expected);
    expect(ms).toBeLessThan(5_000);
    expect(server.frames).toEqual([]);
    expect(client.connected).toBe(false);
  });

  it('client certificate from a CA the receiver does not trust -> unreachable naming the TLS failure; nothing delivered', async () => {
    const server = await tlsReceiver(version);
    const { client } = tlsClient(server.port, { cert: foreign.clientCert, key: foreign.clientKey });
    // Several rounds: with TLS 1.3 the refusal races the message we already wrote.
    for (let round = 1; round <= 5; round++) {
      const { result, ms } = await sendTimed(client, `FOREIGN${round}`);
      expect(result.kind, reasonOf(result)).toBe('unreachable');
      expect(reasonOf(result)).toMatch(
        version === 'TLSv1.3'
          ? /^receiver closed the connection right after the TLS 1\.3 handshake without sending anything \(it most likely refused the TLS session, e\.g\. our client certificate\)$/
          : /^socket error ECONNRESET: Client network socket disconnected before secure TLS connection was established$/,
      );
      expect(ms).toBeLessThan(5_000);
    }
    // Node's server never let those sessions through to the application.
    expect(server.connections).toEqual([]);
  });

  it('a receiver that accepted the TLS session, read the message and hung up -> uncertain, not a TLS refusal', async () => {
    const server = await RawServer.start(
      (_text, connection) => {
        connection.socket.end();
      },
      { cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), ca: pki.read(pki.ca), requestCert: true, rejectUnauthorized: true, minVersion: version, maxVersion: version },
    );
    cleanups.add(() => server.close());
    const { client } = tlsClient(server.port, {});
    const { result, ms } = await sendTimed(client, 'TLSHANGUP1');
    expect(result).toEqual({ kind: 'uncertain', reason: 'receiver closed the connection before the ACK' });
    expect(ms).toBeLessThan(5_000);
    expect(server.frames.map(controlIdOf)).toEqual(['TLSHANGUP1']);
  });
});

describe('sllp: versions, timeouts, files', () => {
  it('minVersion TLSv1.3 against a TLSv1.2-only receiver -> unreachable with the protocol version alert', async () => {
    const server = await tlsReceiver('TLSv1.2');
    const { client } = tlsClient(server.port, { minVersion: 'TLSv1.3' });
    const { result, ms } = await sendTimed(client, 'VERSION1');
    expect(result.kind).toBe('unreachable');
    expect(reasonOf(result)).toMatch(/^TLS error ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: .*alert protocol version/);
    expect(ms).toBeLessThan(5_000);
    expect(server.frames).toEqual([]);
  });

  it('a server that accepts TCP but never completes the TLS handshake -> unreachable after the connect timeout', async () => {
    const server = await RawServer.start(undefined, undefined, { silent: true });
    cleanups.add(() => server.close());
    const { client } = tlsClient(server.port, {}, { connectTimeoutMs: 500 });
    const { result, ms } = await sendTimed(client, 'HANDSHAKE1');
    expect(result).toEqual({ kind: 'unreachable', reason: 'connect or TLS handshake timed out after 500 ms' });
    expect(ms).toBeGreaterThanOrEqual(490);
    expect(ms).toBeLessThan(ACK_TIMEOUT_MS / 4);
    expect(server.connections).toHaveLength(1);
    // The half-open attempt is not left behind.
    await waitFor(() => server.connections[0]!.closed, { message: 'the stalled connection to be closed' });
    expect(client.connected).toBe(false);
  });

  it('an unreadable client certificate file -> unreachable naming the setting and the error code, no connection made', async () => {
    const server = await tlsReceiver('TLSv1.3');
    const { client } = tlsClient(server.port, { cert: `${pki.dir}/missing.pem` });
    const { result } = await sendTimed(client, 'NOFILE1');
    expect(result).toEqual({ kind: 'unreachable', reason: `cannot read tls.cert file ${pki.dir}/missing.pem: ENOENT` });
    expect(server.connections).toEqual([]);
  });
});
