import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { parseAck, type ParsedAck } from '../hl7/ack.js';
import { decodeText, type Charset } from '../hl7/charset.js';
import { MllpFrameDecoder } from './mllp-framing.js';
import type { MllpEndpoint } from './endpoint.js';
import { loadTlsMaterial, tlsFilesStamp, type TlsFileSettings } from './tls-files.js';

/**
 * What happened to one send. The transport only reports facts; what to do about them
 * (retry, dead-letter) is decided by the delivery policy.
 *
 * - `ack`: an ACK whose MSA-2 equals the MSH-10 sent (any MSA-1 code).
 * - `unreachable`: no connection could be made (TCP connect, TLS handshake, or the TLS
 *   layer failing right after it, e.g. the receiver refusing our client certificate).
 *   The receiver cannot have processed the message.
 * - `uncertain`: the message was written, then no ACK came within the ACK timeout or the
 *   receiver closed the connection. The receiver may or may not have it.
 * - `invalid-ack`: the reply was not MLLP, not HL7, not an ACK, or acknowledged a control
 *   id that is not the one sent.
 *
 * After `uncertain` and `invalid-ack` the socket is already destroyed, so a late ACK can
 * never be read as the answer to a later message.
 */
export type SendResult =
  | { kind: 'ack'; ack: ParsedAck; latencyMs: number }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'uncertain'; reason: string }
  | { kind: 'invalid-ack'; reason: string };

/** The seam the delivery layer depends on; tests may put a fake behind it. */
export interface MllpSender {
  /** Sends one framed message and waits for its ACK. Only one send may be in flight. */
  send(frame: Buffer, controlId: string): Promise<SendResult>;
  /** Drops the connection; a send in flight resolves as `uncertain`. Idempotent. */
  close(): Promise<void>;
  readonly connected: boolean;
}

export interface ConnectionInfo {
  protocol?: string;
  /** notAfter of the receiver's certificate (sllp only). */
  serverCertificateExpiresAt?: Date;
  /** notAfter of our client certificate (mutual TLS only). */
  clientCertificateExpiresAt?: Date;
}

export interface MllpClientListener {
  connected?(info: ConnectionInfo): void;
  disconnected?(reason: string): void;
  /** A frame arrived that answers nothing in flight (e.g. a duplicate ACK); it was ignored. */
  ignoredFrame?(reason: 'duplicate-ack' | 'unsolicited'): void;
}

export interface MllpClientOptions {
  endpoint: MllpEndpoint;
  /** Required when `endpoint.secure`. */
  tls?: TlsFileSettings;
  /**
   * How often (at most) a send checks whether the TLS files changed on disk; when they did,
   * the connection is replaced before the message goes out, so a rotated certificate is in
   * use within this long without a restart. Default 30 s.
   */
  tlsCheckIntervalMs?: number;
  connectTimeoutMs: number;
  ackTimeoutMs: number;
  /** The subscription's charset (`settings.Charset`): ACKs are read in it. Default UTF-8. */
  charset?: Charset;
  listener?: MllpClientListener;
}

/** How many control ids acknowledged on the current connection are remembered. */
const RECENT_ACKS_KEPT = 64;

/** What the receiver has shown on the current connection, for classifying its loss. */
interface PeerEvidence {
  /** Any byte read from the receiver (an ACK, a duplicate, garbage). */
  bytesReceived: boolean;
  /** A TLS session ticket arrived: the receiver's TLS stack accepted the handshake. */
  sessionTicket: boolean;
  tls13: boolean;
}

interface InFlight {
  controlId: string;
  startedAt: number;
  timer: NodeJS.Timeout;
  resolve: (result: SendResult) => void;
}

/**
 * An MLLP client with one persistent connection and one message in flight.
 *
 * The connection is opened by the first send and kept open; when it drops while idle the
 * next send opens a new one. There is no retry loop here: a failed connect returns
 * `unreachable` and the caller's backoff decides when to try again.
 *
 * ACK correlation: a frame counts as the answer only if it parses as an ACK whose MSA-2
 * equals the control id in flight. A frame repeating the ACK of a message already
 * acknowledged on this connection (some receivers re-send old ACKs) is ignored; any other
 * mismatch fails the send as `invalid-ack` and closes the connection. Resending a control id
 * that was already acknowledged on the connection opens a new connection first, so such a
 * repeated old ACK can never be taken for the answer to the resend.
 */
export class MllpClient implements MllpSender {
  private socket: net.Socket | undefined;
  private readonly decoder = new MllpFrameDecoder();
  private inFlight: InFlight | undefined;
  private recentAcks: string[] = [];
  /** What the current connection has shown of the receiver (see `onGone`). */
  private peer: PeerEvidence = { bytesReceived: false, sessionTicket: false, tls13: false };
  /** True from the start of a send until it settles, connecting included. */
  private busy = false;
  private tlsStamp: string | undefined;
  private tlsCheckedAt = 0;
  /** Aborts the connection attempt under way, if any. */
  private abortConnect: ((reason: string) => void) | undefined;
  private closed = false;

  constructor(private readonly options: MllpClientOptions) {}

  get connected(): boolean {
    return this.socket !== undefined;
  }

  async send(frame: Buffer, controlId: string): Promise<SendResult> {
    if (this.closed) return { kind: 'unreachable', reason: 'client is closed' };
    // Checked before connecting, so a second send cannot slip in while the first one waits
    // for its connection.
    if (this.busy) throw new Error('MllpClient.send called while a message is in flight');
    this.busy = true;
    try {
      // A resend of a control id this connection already acknowledged (a retry after AR or
      // AE) goes out on a fresh connection: here a replayed copy of the old ACK would carry
      // the very MSA-2 in flight and answer the resend in place of the receiver's new verdict.
      if (this.socket !== undefined && this.recentAcks.includes(controlId)) {
        this.dropSocket('resending a control id already acknowledged on this connection');
      }
      // Certificate rotation: replaced TLS files are used from the next message on. The
      // connection is idle here (nothing in flight), so closing it disturbs nothing.
      if (this.socket !== undefined && this.options.endpoint.secure && (await this.tlsFilesChanged())) {
        this.dropSocket('TLS files changed on disk: reconnecting with the new certificate');
      }
      if (this.socket === undefined) {
        const failure = await this.connect();
        if (failure !== undefined) return { kind: 'unreachable', reason: failure };
      }
      const socket = this.socket;
      // The receiver may hang up between the handshake and this line; nothing was written.
      if (socket === undefined) {
        return { kind: 'unreachable', reason: this.closed ? 'client is closed' : 'connection closed by the receiver before the message was written' };
      }
      return await new Promise<SendResult>((resolve) => {
        const timer = setTimeout(() => {
          this.finish({ kind: 'uncertain', reason: `no ACK within ${this.options.ackTimeoutMs} ms` }, true);
        }, this.options.ackTimeoutMs);
        this.inFlight = { controlId, startedAt: performance.now(), timer, resolve };
        socket.write(frame);
      });
    } finally {
      this.busy = false;
    }
  }

  /** Rate-limited (tlsCheckIntervalMs) check of the TLS files against the connection's. */
  private async tlsFilesChanged(): Promise<boolean> {
    const now = Date.now();
    if (now - this.tlsCheckedAt < (this.options.tlsCheckIntervalMs ?? 30_000)) return false;
    this.tlsCheckedAt = now;
    const stamp = await tlsFilesStamp(this.options.tls ?? { minVersion: 'TLSv1.2' });
    return stamp !== this.tlsStamp;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abortConnect?.('client is closed');
    this.finish({ kind: 'uncertain', reason: 'connection closed by the dispatcher' }, true);
    this.dropSocket('closed by the dispatcher');
  }

  private async connect(): Promise<string | undefined> {
    const { endpoint, connectTimeoutMs } = this.options;
    let clientCertificateExpiresAt: Date | undefined;
    let tlsOptions: tls.ConnectionOptions | undefined;
    if (endpoint.secure) {
      try {
        const material = await loadTlsMaterial(this.options.tls ?? { minVersion: 'TLSv1.2' });
        tlsOptions = material.options;
        this.tlsStamp = material.stamp;
        this.tlsCheckedAt = Date.now();
        clientCertificateExpiresAt = material.clientCertificateExpiresAt;
      } catch (error) {
        return (error as Error).message;
      }
    }
    if (this.closed) return 'client is closed';
    return new Promise<string | undefined>((resolve) => {
      const socket = tlsOptions
        ? tls.connect({ ...tlsOptions, host: endpoint.host, port: endpoint.port, servername: sniName(tlsOptions, endpoint) })
        : net.connect({ host: endpoint.host, port: endpoint.port });
      const evidence: PeerEvidence = { bytesReceived: false, sessionTicket: false, tls13: false };
      // A TLS 1.3 server sends its session tickets once it has accepted the handshake
      // (client certificate included); see `onGone`.
      if (tlsOptions) socket.on('session', () => (evidence.sessionTicket = true));
      const fail = (reason: string) => {
        clearTimeout(timer);
        this.abortConnect = undefined;
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.destroy();
        resolve(reason);
      };
      this.abortConnect = fail;
      const timer = setTimeout(
        () => fail(`${tlsOptions ? 'connect or TLS handshake' : 'connect'} timed out after ${connectTimeoutMs} ms`),
        connectTimeoutMs,
      );
      socket.once('error', (error) => fail(describeSocketError(error, Boolean(tlsOptions))));
      socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        this.abortConnect = undefined;
        socket.removeAllListeners('error');
        if (socket instanceof tls.TLSSocket) evidence.tls13 = socket.getProtocol() === 'TLSv1.3';
        this.adopt(socket, evidence);
        const info: ConnectionInfo = {};
        if (socket instanceof tls.TLSSocket) {
          const protocol = socket.getProtocol();
          if (protocol) info.protocol = protocol;
          const peer = socket.getPeerX509Certificate();
          if (peer) info.serverCertificateExpiresAt = new Date(peer.validTo);
          if (clientCertificateExpiresAt) info.clientCertificateExpiresAt = clientCertificateExpiresAt;
        }
        this.options.listener?.connected?.(info);
        resolve(undefined);
      });
    });
  }

  private adopt(socket: net.Socket, peer: PeerEvidence): void {
    this.socket = socket;
    this.peer = peer;
    this.decoder.reset();
    this.recentAcks = [];
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('end', () => this.onGone(socket, 'receiver closed the connection', false));
    socket.on('error', (error) => this.onGone(socket, describeSocketError(error, socket instanceof tls.TLSSocket), isTlsFailure(error)));
    socket.on('close', () => this.onGone(socket, 'connection closed', false));
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.peer.bytesReceived = true;
    for (const item of this.decoder.push(chunk)) {
      if (item.kind === 'garbage') {
        if (this.inFlight) {
          this.finish({ kind: 'invalid-ack', reason: `receiver sent ${item.bytes} bytes outside an MLLP frame` }, true);
        } else {
          this.dropSocket('receiver sent bytes outside an MLLP frame');
        }
        return;
      }
      this.onFrame(decodeText(item.payload, this.options.charset ?? 'UTF-8'));
      if (socket !== this.socket) return;
    }
  }

  private onFrame(text: string): void {
    const parsed = parseAck(text);
    const inFlight = this.inFlight;
    if (parsed.ok && this.recentAcks.includes(parsed.ack.controlId) && parsed.ack.controlId !== inFlight?.controlId) {
      this.options.listener?.ignoredFrame?.('duplicate-ack');
      return;
    }
    if (!inFlight) {
      this.options.listener?.ignoredFrame?.('unsolicited');
      return;
    }
    if (!parsed.ok) {
      this.finish({ kind: 'invalid-ack', reason: `reply is not a readable ACK: ${parsed.reason}` }, true);
      return;
    }
    const { ack } = parsed;
    if (ack.messageType !== 'ACK') {
      this.finish({ kind: 'invalid-ack', reason: `reply is not an ACK (MSH-9.1 ${safeToken(ack.messageType)})` }, true);
      return;
    }
    if (ack.controlId !== inFlight.controlId) {
      this.finish(
        { kind: 'invalid-ack', reason: `ACK MSA-2 ${safeToken(ack.controlId)} does not match MSH-10 ${inFlight.controlId}` },
        true,
      );
      return;
    }
    this.recentAcks.push(ack.controlId);
    if (this.recentAcks.length > RECENT_ACKS_KEPT) this.recentAcks.shift();
    this.finish({ kind: 'ack', ack, latencyMs: performance.now() - inFlight.startedAt }, false);
  }

  /**
   * The connection ended (peer close, reset, TLS alert). With a message in flight this is
   * `uncertain` — the receiver may have processed it — except when the TLS session was
   * never really open on the receiver's side, which makes it `unreachable`:
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
  private onGone(socket: net.Socket, reason: string, tlsFailure: boolean): void {
    if (socket !== this.socket) return;
    if (this.inFlight) {
      const { bytesReceived, sessionTicket, tls13 } = this.peer;
      let result: SendResult;
      if (tlsFailure && !bytesReceived) {
        result = { kind: 'unreachable', reason };
      } else if (tls13 && !bytesReceived && !sessionTicket) {
        result = {
          kind: 'unreachable',
          reason: `${reason} right after the TLS 1.3 handshake without sending anything (it most likely refused the TLS session, e.g. our client certificate)`,
        };
      } else {
        result = { kind: 'uncertain', reason: `${reason} before the ACK` };
      }
      this.finish(result, true);
    } else {
      this.dropSocket(reason);
    }
  }

  /** Settles the send in flight; `dropConnection` closes the socket so nothing late is read. */
  private finish(result: SendResult, dropConnection: boolean): void {
    const inFlight = this.inFlight;
    if (dropConnection) this.dropSocket(result.kind === 'ack' ? 'closed' : result.reason);
    if (!inFlight) return;
    this.inFlight = undefined;
    clearTimeout(inFlight.timer);
    inFlight.resolve(result);
  }

  private dropSocket(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    this.decoder.reset();
    socket.removeAllListeners('data');
    socket.on('error', () => {});
    socket.destroy();
    this.options.listener?.disconnected?.(reason);
  }
}

/** SNI must be a host name: never an IP address (RFC 6066). */
function sniName(options: tls.ConnectionOptions, endpoint: MllpEndpoint): string | undefined {
  if (options.servername) return options.servername;
  return net.isIP(endpoint.host) ? undefined : endpoint.host;
}

/**
 * TLS-layer failures (alerts, verification) mean "not connected", never "maybe delivered".
 * Told by Node's error codes, and by `library`, which Node sets on every error raised by
 * OpenSSL (an alert from the peer included), never by the message text.
 */
function isTlsFailure(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || typeof (error as { library?: unknown }).library === 'string';
}

/** A socket error as a log-safe sentence: the system or TLS code and Node's text, no data. */
function describeSocketError(error: Error, secure: boolean): string {
  const code = (error as NodeJS.ErrnoException).code;
  const layer = secure && (isTlsFailure(error) || isCertificateError(code)) ? 'TLS' : 'socket';
  return `${layer} error ${code ?? ''}: ${error.message}`.replace(/\s+/g, ' ').trim();
}

function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /CERT|SIGNATURE|ISSUER|SELF_SIGNED|UNABLE_TO/.test(code);
}

/**
 * Quotes a value read from the receiver's reply only when it looks like a code or a control
 * id; anything else could carry patient data and is described, not shown.
 */
function safeToken(value: string): string {
  return /^[A-Za-z0-9_.-]{1,32}$/.test(value) ? `"${value}"` : `(${value.length} characters, not shown)`;
}
