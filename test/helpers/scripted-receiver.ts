import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MLLP_FRAMING, MllpFrameDecoder, encodeFrame, type Framing } from '../../src/transport/mllp-framing.js';
import { buildAck, readHeader } from '../../src/hl7/build-ack.js';

/** One message as the receiver got it. */
export interface Received {
  text: string;
  controlId: string;
  trigger: string;
  /** 1-based number of the connection it came on. */
  connection: number;
  /** 0-based index over everything this receiver got. */
  index: number;
  /** When the frame was read (performance.now()). */
  at: number;
}

/** What the receiver does with a message. */
export type Action =
  | {
      kind: 'ack';
      code?: 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR' | 'ZZ';
      /** MSA-2 to send instead of the received MSH-10. */
      controlId?: string;
      /** Wait this long before answering (a slow receiver). */
      delayMs?: number;
      /** Write the framed ACK in pieces of this many bytes, one write each (split over reads). */
      chunkBytes?: number;
      /** Raw frames (unframed HL7) written before the ACK, in the same write as the ACK. */
      framesBefore?: string[];
      /** Raw bytes appended after the ACK in the same write (e.g. the start of another frame). */
      trailing?: Buffer;
      /** ERR-3 code for AE/AR. */
      errorCode?: string;
      text?: string;
    }
  | { kind: 'none' }
  | { kind: 'close' }
  | { kind: 'raw'; data: Buffer };

export type Behaviour = (message: Received) => Action | Promise<Action>;

export const ACK_AA: Behaviour = () => ({ kind: 'ack', code: 'AA' });

/**
 * A programmable MLLP receiver on a real socket (plain or TLS) for integration tests:
 * records every message and answers as the test's behaviour says, including the ways real
 * receivers misbehave. Answers one message at a time per connection, in order.
 */
export class ScriptedReceiver {
  readonly received: Received[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private connectionCount = 0;
  port = 0;

  constructor(
    private behaviour: Behaviour = ACK_AA,
    tlsOptions?: tls.TlsOptions,
    /** Start and end bytes this receiver speaks, both ways (standard MLLP unless given). */
    private readonly framing: Framing = MLLP_FRAMING,
  ) {
    const onConnection = (socket: net.Socket) => this.accept(socket);
    this.server = tlsOptions ? tls.createServer(tlsOptions, onConnection) : net.createServer(onConnection);
    this.server.on('tlsClientError', () => {});
  }

  static async start(behaviour: Behaviour = ACK_AA, tlsOptions?: tls.TlsOptions, port = 0, framing?: Framing): Promise<ScriptedReceiver> {
    const receiver = new ScriptedReceiver(behaviour, tlsOptions, framing);
    await receiver.listen(port);
    return receiver;
  }

  get connections(): number {
    return this.connectionCount;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  setBehaviour(behaviour: Behaviour): void {
    this.behaviour = behaviour;
  }

  /** Control ids in arrival order (duplicates included). */
  controlIds(): string[] {
    return this.received.map((message) => message.controlId);
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Drops every open connection (a receiver crash) but keeps listening. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection = ++this.connectionCount;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const decoder = new MllpFrameDecoder(undefined, this.framing);
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        const text = item.payload.toString('utf8');
        const header = readHeader(text);
        const message: Received = {
          text,
          controlId: header?.controlId ?? '',
          trigger: header?.trigger ?? '',
          connection,
          index: this.received.length,
          at: performance.now(),
        };
        this.received.push(message);
        chain = chain.then(() => this.answer(socket, message)).catch(() => {});
      }
    });
  }

  private async answer(socket: net.Socket, message: Received): Promise<void> {
    const action = await this.behaviour(message);
    if (socket.destroyed) return;
    switch (action.kind) {
      case 'none':
        return;
      case 'close':
        socket.end();
        return;
      case 'raw':
        socket.write(action.data);
        return;
      case 'ack': {
        if (action.delayMs) await new Promise((resolve) => setTimeout(resolve, action.delayMs));
        if (socket.destroyed) return;
        const header = readHeader(message.text)!;
        const ack = buildAck(
          { ...header, controlId: action.controlId ?? header.controlId },
          {
            code: (action.code ?? 'AA') as 'AA',
            ...(action.errorCode ? { errorCode: action.errorCode } : {}),
            ...(action.text ? { text: action.text } : {}),
          },
        );
        const parts = [...(action.framesBefore ?? []).map((frame) => encodeFrame(frame, 'UTF-8', this.framing)), encodeFrame(ack, 'UTF-8', this.framing)];
        if (action.trailing) parts.push(action.trailing);
        const bytes = Buffer.concat(parts);
        if (!action.chunkBytes) {
          socket.write(bytes);
          return;
        }
        for (let offset = 0; offset < bytes.length; offset += action.chunkBytes) {
          socket.write(bytes.subarray(offset, offset + action.chunkBytes));
          // Let each piece leave as its own TCP segment so the client reads it separately.
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    }
  }
}
