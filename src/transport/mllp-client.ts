import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { ParsedAck } from '../hl7/ack.js';
import { applicationAckOnSuccess, commitAckOnSuccess } from '../hl7/ack-mode.js';
import { decodeText } from '../hl7/charset.js';
import { MllpFrameDecoder } from './mllp-framing.js';
import { TlsRotationWatch, loadTlsMaterial } from './tls-files.js';
import { ApplicationWaits, ConnectionLedger, MAX_SENT_PER_CONNECTION, type SendContext } from './answers.js';
import { routeFrame } from './route-frame.js';
import { describeSocketError, isTlsFailure } from './socket-errors.js';
import { lostSendResult, openSocket, type PeerEvidence } from './open-socket.js';
import { ConnectionKeeper } from './connection-habits.js';
import { AckDeadline } from './ack-deadline.js';
import type { ConnectionInfo, MllpClientOptions, MllpSender, SendResult } from './sender.js';

export type { ApplicationAnswer, IgnoredReason, LateAnswer, SendContext } from './answers.js';
export type { ConnectionInfo, MllpClientListener, MllpClientOptions, MllpSender, SendResult } from './sender.js';

interface InFlight {
  controlId: string;
  startedAt: number;
  /** After startedAt + timeoutMs the send is `uncertain` (checked by AckDeadline). */
  timeoutMs: number;
  resolve: (result: SendResult) => void;
}

/**
 * An MLLP client with one persistent connection and one message in flight.
 *
 * The connection is opened by the first send and kept open; when it drops while idle the
 * next send opens a new one. There is no retry loop here: a failed connect returns
 * `unreachable` and the caller's backoff decides when to try again.
 *
 * ACK correlation (see route-frame.ts): a frame counts as the answer only if it parses as
 * an ACK whose MSA-2 equals the control id in flight. A frame answering another message
 * written on this connection (a repeated ACK, a late application ACK, an error after an
 * AA) is matched to that message: an application ACK ends its wait, an error after an AA
 * or CA is reported as a late answer, anything else is ignored with a count. A frame whose
 * MSA-2 matches nothing written on the connection fails the send in flight as
 * `invalid-ack` and closes the connection. Resending a control id that was already written
 * on the connection opens a new connection first, so an old answer can never be taken for
 * the answer to the resend.
 */
export class MllpClient implements MllpSender {
  private socket: net.Socket | undefined;
  private readonly decoder: MllpFrameDecoder;
  private readonly keeper: ConnectionKeeper;
  private inFlight: InFlight | undefined;
  private readonly ledger = new ConnectionLedger();
  private readonly applicationWaits = new ApplicationWaits();
  /** What the current connection has shown of the receiver (see `onGone`). */
  private peer: PeerEvidence = { bytesReceived: false, sessionTicket: false, tls13: false };
  /** True from the start of a send until it settles, connecting included. */
  private busy = false;
  private readonly tlsWatch: TlsRotationWatch;
  /** Aborts the connection attempt under way, if any. */
  private abortConnect: ((reason: string) => void) | undefined;
  private closed = false;
  private readonly ackDeadline = new AckDeadline(() => this.ackOverdue());

  constructor(private readonly options: MllpClientOptions) {
    this.decoder = new MllpFrameDecoder(undefined, options.framing);
    this.tlsWatch = new TlsRotationWatch(options.tls ?? { minVersion: 'TLSv1.2' }, options.tlsCheckIntervalMs ?? 30_000);
    this.keeper = new ConnectionKeeper(options.connection, (reason) => this.dropSocket(reason), () => this.inFlight !== undefined || this.applicationWaits.size > 0);
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  async send(frame: Buffer, controlId: string, context?: SendContext): Promise<SendResult> {
    if (this.closed) return { kind: 'unreachable', reason: 'client is closed' };
    // Checked before connecting, so a second send cannot slip in while the first one waits
    // for its connection.
    if (this.busy) throw new Error('MllpClient.send called while a message is in flight');
    this.busy = true;
    this.keeper.sending();
    try {
      // A resend of a control id this connection already carried (a retry after AR or AE)
      // goes out on a fresh connection: here a replayed copy of the old ACK would carry the
      // very MSA-2 in flight and answer the resend in place of the receiver's new verdict.
      // A connection that carried its maximum of messages is replaced too. Either
      // waits for the application ACKs still due on the connection, which closing would lose.
      const resend = this.ledger.has(controlId);
      if (this.socket !== undefined && (resend || this.ledger.size >= (this.options.maxMessagesPerConnection ?? MAX_SENT_PER_CONNECTION))) {
        await this.applicationWaits.drained();
        this.dropSocket(resend ? 'resending a control id already sent on this connection' : 'connection carried its maximum of messages; replacing it');
      }
      // Certificate rotation: replaced TLS files are used from the next message on. The
      // connection is idle here (nothing in flight, no application ACK due), so closing it
      // disturbs nothing.
      if (this.socket !== undefined && this.options.endpoint.secure && this.applicationWaits.size === 0 && (await this.tlsWatch.changed())) {
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
      const { enhanced } = this.options;
      // Without a commit ACK on success (MSH-15 NE or ER) the first answer is the application ACK.
      const timeoutMs = enhanced && !commitAckOnSuccess(enhanced.mode) ? enhanced.applicationAckTimeoutMs : this.options.ackTimeoutMs;
      const result = await new Promise<SendResult>((resolve) => {
        const startedAt = performance.now();
        this.inFlight = { controlId, startedAt, timeoutMs, resolve };
        this.ackDeadline.watch(startedAt + timeoutMs);
        this.ledger.record(controlId, context);
        socket.write(frame);
      });
      this.keeper.settled();
      return result;
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ackDeadline.stop();
    this.keeper.stop();
    this.abortConnect?.('client is closed');
    this.applicationWaits.closeAll('connection closed by the dispatcher');
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
        this.tlsWatch.connectedWith(material.stamp);
        clientCertificateExpiresAt = material.clientCertificateExpiresAt;
      } catch (error) {
        return (error as Error).message;
      }
    }
    if (this.closed) return 'client is closed';
    const opened = await openSocket(endpoint, tlsOptions, connectTimeoutMs, (abort) => (this.abortConnect = abort), (socket, bytes) => this.onData(socket, bytes));
    this.abortConnect = undefined;
    if (typeof opened === 'string') return opened;
    const { socket, evidence } = opened;
    if (this.closed) {
      socket.destroy();
      return 'client is closed';
    }
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
    return undefined;
  }

  private adopt(socket: net.Socket, peer: PeerEvidence): void {
    this.socket = socket;
    this.peer = peer;
    this.decoder.reset();
    this.ledger.clear();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
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
    const route = routeFrame(text, this.inFlight?.controlId, this.ledger, this.applicationWaits, this.options.charset, this.options.framing);
    const listener = this.options.listener;
    if (route.replyWith !== undefined) this.writeOwnAck(route.replyWith);
    switch (route.kind) {
      case 'answer':
        this.answerInFlight(route.ack);
        return;
      case 'application':
        this.applicationWaits.answer(route.ack);
        return;
      case 'late':
        // Reported after the settlement of the message it answers, which runs in the
        // microtasks that follow this read: its receipt comes first.
        if (listener?.lateAnswer) setImmediate(() => listener.lateAnswer?.(route.late));
        return;
      case 'ignored':
        listener?.ignoredFrame?.(route.reason, route.code);
        return;
      case 'invalid':
        this.finish({ kind: 'invalid-ack', reason: route.reason }, true);
        return;
    }
  }

  private answerInFlight(ack: ParsedAck): void {
    const inFlight = this.inFlight!;
    const latencyMs = performance.now() - inFlight.startedAt;
    const enhanced = this.options.enhanced;
    if (enhanced && ack.ackCode === 'CA' && applicationAckOnSuccess(enhanced.mode)) {
      const application = this.applicationWaits.start(ack.controlId, enhanced.applicationAckTimeoutMs, inFlight.startedAt);
      this.finish({ kind: 'ack', ack, latencyMs, application }, false);
      return;
    }
    this.finish({ kind: 'ack', ack, latencyMs }, false);
  }

  /** Called by the deadline timer: the send in flight is `uncertain` if its time is up; else it returns the time left. */
  private ackOverdue(): number | undefined {
    const inFlight = this.inFlight;
    if (!inFlight) return undefined;
    const left = inFlight.startedAt + inFlight.timeoutMs - performance.now();
    if (left > 0) return left;
    this.finish({ kind: 'uncertain', reason: `no ACK within ${inFlight.timeoutMs} ms` }, true);
    return undefined;
  }

  /** Writes our commit ACK (CA) for a receiver's application ACK that asked for one. */
  private writeOwnAck(reply: { controlId: string; frame: Buffer }): void {
    if (!this.socket) return;
    this.ledger.recordOwnAck(reply.controlId);
    this.socket.write(reply.frame);
  }

  /** The connection ended (peer close, reset, TLS alert); a send in flight is settled as lostSendResult says. */
  private onGone(socket: net.Socket, reason: string, tlsFailure: boolean): void {
    if (socket !== this.socket) return;
    if (this.inFlight) this.finish(lostSendResult(reason, tlsFailure, this.peer), true);
    else this.dropSocket(reason);
  }

  /** Settles the send in flight; `dropConnection` closes the socket so nothing late is read. */
  private finish(result: SendResult, dropConnection: boolean): void {
    const inFlight = this.inFlight;
    if (dropConnection) this.dropSocket(result.kind === 'ack' ? 'closed' : result.reason);
    if (!inFlight) return;
    this.inFlight = undefined;
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
