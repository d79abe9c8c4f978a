import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait.js';

/**
 * A TLS server that verifies client certificates the way OpenSSL-based receivers do:
 * `openssl s_server -Verify 1 -verify_return_error`, as a real process. Unlike a Node TLS
 * server (which checks the client certificate after the handshake and just closes the
 * socket), it refuses a bad client certificate with a TLS alert (unknown_ca,
 * certificate_required), which is what a client should see and report.
 * It speaks no MLLP: use it only for handshake failures.
 */
export class OpensslTlsServer {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  /** Starts `openssl s_server` on 127.0.0.1:`port` and waits until it accepts connections. */
  static async start(options: { port: number; cert: string; key: string; ca: string }): Promise<OpensslTlsServer> {
    const child = spawn(
      'openssl',
      ['s_server', '-accept', `127.0.0.1:${options.port}`, '-cert', options.cert, '-key', options.key, '-CAfile', options.ca, '-Verify', '1', '-verify_return_error'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const server = new OpensslTlsServer(child, options.port);
    await waitFor(() => server.output.includes('ACCEPT') || child.exitCode !== null, { message: 'openssl s_server accepting' });
    if (child.exitCode !== null) throw new Error(`openssl s_server exited: ${server.output}`);
    return server;
  }

  /** What the server printed (its verification errors name the refused certificate). */
  get log(): string {
    return this.output;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}
