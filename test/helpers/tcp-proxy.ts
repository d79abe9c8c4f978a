import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a real server (the broker, a receiver). Lets a test make the
 * server "go away" for one daemon only — cut its connections, refuse new ones — without
 * disturbing the shared broker that other tests use.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly pairs = new Set<net.Socket>();
  private readonly clients = new Set<net.Socket>();
  port = 0;
  /** New connections are held this long before the proxy connects them through (a slow handshake). */
  delayMs = 0;
  private frozen = false;

  private constructor(
    private readonly targetPort: number,
    private readonly targetHost: string,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await proxy.listen(0);
    return proxy;
  }

  /** Client connections open (held or connected through). */
  get connections(): number {
    return this.clients.size;
  }

  /** Drops every proxied connection (both sides), as a broker restart or network cut would. */
  cut(): void {
    for (const socket of this.pairs) socket.destroy();
    this.pairs.clear();
  }

  /**
   * The server stops answering, as behind a network partition: connections stay open but
   * nothing is forwarded either way (new ones too) until thaw().
   */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.pairs) socket.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const socket of this.pairs) socket.resume();
  }

  /** The server goes away: connections are cut and new ones refused until resume(). */
  async pause(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async resume(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.pause();
  }

  private async listen(port: number): Promise<void> {
    const server = net.createServer((client) => {
      this.pairs.add(client);
      this.clients.add(client);
      client.on('error', () => {});
      client.once('close', () => this.clients.delete(client));
      const connectThrough = () => {
        if (client.destroyed) return;
        const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
        this.pairs.add(upstream);
        upstream.on('error', () => {});
        for (const socket of [client, upstream]) {
          socket.on('close', () => {
            this.pairs.delete(socket);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
        if (this.frozen) for (const socket of [client, upstream]) socket.pause();
      };
      if (this.delayMs > 0) {
        const timer = setTimeout(connectThrough, this.delayMs);
        client.once('close', () => {
          clearTimeout(timer);
          this.pairs.delete(client);
        });
      } else {
        connectThrough();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }
}
