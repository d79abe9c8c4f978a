import net from 'node:net';
import tls from 'node:tls';
import type { MllpEndpoint } from './endpoint.js';
import type { SendResult } from './sender.js';
import { describeSocketError, sniName } from './socket-errors.js';

/** What the receiver has shown on a connection, for classifying its loss (see MllpClient). */
export interface PeerEvidence {
  /** Any byte read from the receiver (an ACK, a duplicate, garbage). */
  bytesReceived: boolean;
  /** A TLS session ticket arrived: the receiver's TLS stack accepted the handshake. */
  sessionTicket: boolean;
  tls13: boolean;
}

/**
 * What a plain TCP connection reads into: one buffer for every connection of the thread
 * (Node's `onread`), instead of a new 64 KB allocation per read and a trip through the
 * stream machinery. Safe to share: a read is handed to its callback, which must consume
 * or copy the bytes before returning, before the thread reads anything else.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Called with each chunk read: a view into a shared buffer, valid only during the call. */
export type OnRead = (socket: net.Socket, bytes: Buffer) => void;

function readInto(socket: net.Socket, length: number, onRead: OnRead): boolean {
  onRead(socket, READ_BUFFER.subarray(0, length));
  return true; // keep reading
}

/**
 * Opens a TCP (or, with `tlsOptions`, TLS) connection within `connectTimeoutMs`. Resolves
 * with the socket, or with a log-safe reason it failed. `onAbort` receives a function that
 * aborts the attempt (the client is closed meanwhile). The bytes the receiver sends go to
 * `onRead`: on a plain connection straight from the socket (no 'data' events), on a TLS
 * one from its 'data' events (TLS sockets cannot read into a buffer of their own).
 */
export function openSocket(
  endpoint: MllpEndpoint,
  tlsOptions: tls.ConnectionOptions | undefined,
  connectTimeoutMs: number,
  onAbort: (abort: (reason: string) => void) => void,
  onRead: OnRead,
): Promise<{ socket: net.Socket; evidence: PeerEvidence } | string> {
  return new Promise((resolve) => {
    const socket: net.Socket = tlsOptions
      ? tls.connect({ ...tlsOptions, host: endpoint.host, port: endpoint.port, servername: sniName(tlsOptions, endpoint) })
      : net.connect({ host: endpoint.host, port: endpoint.port, onread: { buffer: READ_BUFFER, callback: (length) => readInto(socket, length, onRead) } });
    if (tlsOptions) socket.on('data', (chunk: Buffer) => onRead(socket, chunk));
    const evidence: PeerEvidence = { bytesReceived: false, sessionTicket: false, tls13: false };
    // A TLS 1.3 server sends its session tickets once it has accepted the handshake
    // (client certificate included); see MllpClient's `onGone`.
    if (tlsOptions) socket.on('session', () => (evidence.sessionTicket = true));
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(reason);
    };
    onAbort(fail);
    const timer = setTimeout(() => fail(`${tlsOptions ? 'connect or TLS handshake' : 'connect'} timed out after ${connectTimeoutMs} ms`), connectTimeoutMs);
    socket.once('error', (error) => fail(describeSocketError(error, Boolean(tlsOptions))));
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('error');
      if (socket instanceof tls.TLSSocket) evidence.tls13 = socket.getProtocol() === 'TLSv1.3';
      resolve({ socket, evidence });
    });
  });
}

/**
 * What a send in flight became when its connection ended: `uncertain` (the receiver may
 * have processed it), except when the TLS session was never really open on the receiver's
 * side, which makes it `unreachable`:
 *
 * - a TLS alert before the receiver sent anything (TLS 1.3 sends the verdict on our
 *   client certificate after our handshake is complete, so it can come after the first
 *   message was written);
 * - TLS 1.3, nothing at all from the receiver (no byte of data, no session ticket) and the
 *   connection closed or reset: what a receiver that refuses the client certificate
 *   without an alert looks like (Node's TLS server does this). Receivers that accepted the
 *   handshake send their session tickets first, so a close after reading the message
 *   stays `uncertain` with them. One without session tickets that reads the first message
 *   on a TLS 1.3 connection and hangs up unanswered is reported `unreachable`: on the wire
 *   it cannot be told from a refusal. Both outcomes resend the same MSH-10.
 */
export function lostSendResult(reason: string, tlsFailure: boolean, peer: PeerEvidence): SendResult {
  const { bytesReceived, sessionTicket, tls13 } = peer;
  if (tlsFailure && !bytesReceived) return { kind: 'unreachable', reason };
  if (tls13 && !bytesReceived && !sessionTicket) {
    return {
      kind: 'unreachable',
      reason: `${reason} right after the TLS 1.3 handshake without sending anything (it most likely refused the TLS session, e.g. our client certificate)`,
    };
  }
  return { kind: 'uncertain', reason: `${reason} before the ACK` };
}
