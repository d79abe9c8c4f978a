import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { MllpFrameDecoder, encodeFrame } from '../transport/mllp-framing.js';
import { decodeText, type Charset } from '../hl7/charset.js';

export interface ReceivedMessage {
  text: string;
  /** Connection number (1-based, in order of acceptance). */
  connection: number;
  remoteAddress: string;
  /** TLS: the subject CN of the client certificate when one was presented. */
  clientCertificateSubject?: string;
}

/** What the handler wants sent back: an HL7 ACK (unframed), or nothing. */
export type Reply = string | undefined;

export interface MllpReceiverOptions {
  port: number;
  host?: string;
  /** TLS server options (cert, key, ca, requestCert...); plain TCP when absent. */
  tls?: tls.TlsOptions;
  /** Messages are read and replies written in this charset (default UTF-8). */
  charset?: Charset;
  onMessage: (message: ReceivedMessage) => Reply | Promise<Reply>;
  onError?: (error: Error) => void;
}

/**
 * A well-behaved MLLP receiver: reads frames, hands each message to `onMessage`, writes
 * the reply it returns, one message at a time per connection. Used by the `listen`
 * command and the demo; tests of misbehaving receivers use raw sockets instead.
 */
export class MllpReceiver {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private connections = 0;

  constructor(private readonly options: MllpReceiverOptions) {
    const onConnection = (socket: net.Socket) => this.accept(socket);
    this.server = options.tls ? tls.createServer(options.tls, onConnection) : net.createServer(onConnection);
    this.server.on('tlsClientError', (error: Error) => options.onError?.(error));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection = ++this.connections;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (error) => this.options.onError?.(error));
    const decoder = new MllpFrameDecoder();
    const charset = this.options.charset ?? 'UTF-8';
    let chain = Promise.resolve();
    const subject = socket instanceof tls.TLSSocket ? socket.getPeerCertificate()?.subject?.CN : undefined;
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        const text = decodeText(item.payload, charset);
        // A handler that throws answers nothing for that message (the sender times out) but
        // must neither stop the messages after it nor surface as an unhandled rejection.
        chain = chain
          .then(async () => {
            const reply = await this.options.onMessage({
              text,
              connection,
              remoteAddress: socket.remoteAddress ?? '',
              ...(typeof subject === 'string' ? { clientCertificateSubject: subject } : {}),
            });
            if (reply !== undefined && !socket.destroyed) socket.write(encodeFrame(reply, charset));
          })
          .catch((error: unknown) => this.options.onError?.(error instanceof Error ? error : new Error(String(error))));
      }
    });
  }
}
