/**
 * Shared pieces of the transport integration tests: messages, a recording listener, a raw
 * net/tls server whose every byte the test controls, and a cleanup list.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { buildAck, readHeader } from '../../../src/hl7/build-ack.js';
import { MllpFrameDecoder, encodeFrame } from '../../../src/transport/mllp-framing.js';
import { MllpClient, type ConnectionInfo, type IgnoredReason, type LateAnswer, type MllpClientListener, type MllpClientOptions } from '../../../src/transport/mllp-client.js';
import type { TlsFileSettings } from '../../../src/transport/tls-files.js';

/** An ADT^A01 as the mapper would build it, with MSH-10 = `controlId`. */
export function adt(controlId: string, trigger = 'A01'): string {
  return [
    `MSH|^~\\&|ACME_EHR|ACME_HOSP|PIX_MGR|REGION_HIE|20260315143022+0100||ADT^${trigger}^ADT_A01|${controlId}|P|2.5`,
    'EVN||20260315143022+0100',
    'PID|1||PAT-000123^^^ACME_MPI&1.2.3.4.5.6.1&ISO^PI||O\'Brien-Smith^Anne^Marie^^Dr^^L||19840312|F',
    'PV1|1|N',
    '',
  ].join('\r');
}

export function frameOf(controlId: string): Buffer {
  return encodeFrame(adt(controlId));
}

/** The receiver's ACK (unframed) for the message with MSH-10 = `controlId`. */
export function ackText(controlId: string, code: 'AA' | 'AE' | 'AR' = 'AA'): string {
  return buildAck(readHeader(adt(controlId))!, { code, ...(code === 'AA' ? {} : { errorCode: '204', text: 'unknown patient' }) });
}

export function ackFrame(controlId: string, code: 'AA' | 'AE' | 'AR' = 'AA'): Buffer {
  return encodeFrame(ackText(controlId, code));
}

/** Records what an MllpClient reports to its listener. */
export class ListenerLog implements MllpClientListener {
  readonly connects: ConnectionInfo[] = [];
  readonly disconnects: string[] = [];
  readonly ignored: IgnoredReason[] = [];
  /** MSA-1 of each ignored frame, in the order of `ignored`. */
  readonly ignoredCodes: string[] = [];
  readonly late: LateAnswer[] = [];
  connected(info: ConnectionInfo): void {
    this.connects.push(info);
  }
  disconnected(reason: string): void {
    this.disconnects.push(reason);
  }
  ignoredFrame(reason: IgnoredReason, code: string): void {
    this.ignored.push(reason);
    this.ignoredCodes.push(code);
  }
  lateAnswer(answer: LateAnswer): void {
    this.late.push(answer);
  }
}

export interface ClientUnderTest {
  client: MllpClient;
  log: ListenerLog;
}

export function makeClient(
  port: number,
  options: Partial<Omit<MllpClientOptions, 'endpoint' | 'listener'>> & { host?: string; secure?: boolean; tls?: TlsFileSettings } = {},
): ClientUnderTest {
  const log = new ListenerLog();
  const { host = '127.0.0.1', secure = false, ...rest } = options;
  const client = new MllpClient({
    endpoint: { host, port, secure },
    connectTimeoutMs: 5_000,
    ackTimeoutMs: 10_000,
    listener: log,
    ...rest,
  });
  return { client, log };
}

/** A port nothing listens on (it was free a moment ago: connecting to it is refused). */
export { freePort as closedPort } from '../../helpers/ports.js';

/** One accepted connection of a RawServer. */
export interface RawConnection {
  /** 1-based, in order of acceptance. */
  index: number;
  socket: net.Socket;
  /** Frames read on it (HL7 text). */
  frames: string[];
  /** Bytes read that were not frames. */
  garbageBytes: number;
  /** The socket closed (either side). */
  closed: boolean;
  /** TLS: the client certificate presented, if any. */
  peerCertificate?: { subjectCN: string; serialNumber: string };
}

export type FrameHandler = (text: string, connection: RawConnection, server: RawServer) => void | Promise<void>;

/**
 * A net or TLS server on 127.0.0.1 port 0 that hands every MLLP frame to the test, which
 * writes whatever it likes on whichever connection. `handler` undefined: read and never answer.
 */
export class RawServer {
  readonly connections: RawConnection[] = [];
  readonly tlsErrors: Error[] = [];
  private readonly server: net.Server;
  port = 0;

  private constructor(
    private readonly handler: FrameHandler | undefined,
    tlsOptions: tls.TlsOptions | undefined,
    /** Plain TCP server that a TLS client talks to: reads the ClientHello and never answers. */
    private readonly silent: boolean,
  ) {
    const onConnection = (socket: net.Socket) => this.accept(socket);
    this.server = tlsOptions ? tls.createServer(tlsOptions, onConnection) : net.createServer(onConnection);
    this.server.on('tlsClientError', (error: Error) => this.tlsErrors.push(error));
  }

  static async start(handler?: FrameHandler, tlsOptions?: tls.TlsOptions, options: { silent?: boolean } = {}): Promise<RawServer> {
    const server = new RawServer(handler, tlsOptions, options.silent ?? false);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(0, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    server.port = (server.server.address() as AddressInfo).port;
    return server;
  }

  /** Replaces the TLS server's certificate/key/CA for connections made from now on. */
  setSecureContext(options: tls.SecureContextOptions): void {
    (this.server as tls.Server).setSecureContext(options);
  }

  get frames(): string[] {
    return this.connections.flatMap((connection) => connection.frames);
  }

  get openConnections(): number {
    return this.connections.filter((connection) => !connection.closed).length;
  }

  dropConnections(): void {
    for (const connection of this.connections) connection.socket.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection: RawConnection = { index: this.connections.length + 1, socket, frames: [], garbageBytes: 0, closed: false };
    if (socket instanceof tls.TLSSocket) {
      const certificate = socket.getPeerCertificate();
      if (certificate && typeof certificate.subject?.CN === 'string') {
        connection.peerCertificate = { subjectCN: certificate.subject.CN, serialNumber: certificate.serialNumber };
      }
    }
    this.connections.push(connection);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => (connection.closed = true));
    if (this.silent) {
      // Read and discard (a ClientHello), so the peer's FIN is seen and the socket closes.
      socket.resume();
      return;
    }
    const decoder = new MllpFrameDecoder();
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (item.kind === 'garbage') {
          connection.garbageBytes += item.bytes;
          continue;
        }
        const text = item.payload.toString('utf8');
        connection.frames.push(text);
        const handler = this.handler;
        if (handler) chain = chain.then(() => handler(text, connection, this)).catch(() => {});
      }
    });
  }
}

/** MSH-10 of a received message. */
export function controlIdOf(text: string): string {
  return readHeader(text)?.controlId ?? '';
}

/** Runs the cleanups registered by a test, last first, continuing past failures. */
export class Cleanups {
  private readonly items: Array<() => unknown> = [];
  add(cleanup: () => unknown): void {
    this.items.push(cleanup);
  }
  async run(): Promise<void> {
    while (this.items.length) {
      try {
        await this.items.pop()!();
      } catch {
        // keep going: the next cleanup may still free a port or a socket
      }
    }
  }
}

/** A promise the test resolves by hand (holding a receiver's answer, for example). */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Issues a new client certificate signed by an existing CA (`ca.pem` / `ca.key` in
 * `caDir`), written to a temporary directory. Returns the paths.
 */
export function issueClientCertificate(caDir: string, commonName: string, days: number): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mllp-client-cert-'));
  const key = join(dir, 'client.key');
  const csr = join(dir, 'client.csr');
  const ext = join(dir, 'client.ext');
  const cert = join(dir, 'client.pem');
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  run(['req', '-new', '-key', key, '-subj', `/CN=${commonName}`, '-out', csr]);
  writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
  run(['x509', '-req', '-in', csr, '-CA', join(caDir, 'ca.pem'), '-CAkey', join(caDir, 'ca.key'), '-set_serial', serial, '-days', String(days), '-sha256', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

/** Replaces `target` with the content of `source` atomically (write beside, then rename). */
export function replaceFile(source: Buffer, target: string): void {
  const temporary = `${target}.new`;
  writeFileSync(temporary, source);
  renameSync(temporary, target);
}
