import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  [key: string]: unknown;
}

export interface HealthServerOptions {
  port: number;
  host: string;
  registry: Registry;
  readiness: () => Readiness;
}

/**
 * `GET /healthz`: the process is alive and its event loop turns (always 200).
 * `GET /readyz`: 200 only when ready (see Daemon.readiness); the JSON body says, per
 * subscription, what is wrong.
 * `GET /metrics`: Prometheus text format.
 */
export class HealthServer {
  private readonly server: http.Server;
  private listening: Promise<number> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: HealthServerOptions) {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens; refused once close() was called. */
  listen(): Promise<number> {
    if (this.closing) return Promise.reject(new Error('the HTTP server is closed'));
    this.listening ??= new Promise<number>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
    return this.listening;
  }

  /**
   * Closes the listener and every connection (keep-alive ones included). Memoised, safe in
   * every state: before listen() there is nothing to close; during it, it waits for it.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listening?.catch(() => {});
      this.server.closeAllConnections();
      // Called back with ERR_SERVER_NOT_RUNNING when it never listened: nothing to wait for.
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.closing;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain', 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      send(response, 200, 'application/json', '{"status":"ok"}\n');
    } else if (path === '/readyz') {
      const readiness = this.options.readiness();
      send(response, readiness.ready ? 200 : 503, 'application/json', `${JSON.stringify(readiness)}\n`);
    } else if (path === '/metrics') {
      try {
        send(response, 200, this.options.registry.contentType, await this.options.registry.metrics());
      } catch {
        send(response, 500, 'text/plain', 'metrics collection failed\n');
      }
    } else {
      send(response, 404, 'text/plain', 'not found\n');
    }
  }
}

function send(response: http.ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}
