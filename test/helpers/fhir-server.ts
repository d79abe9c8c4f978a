import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real FHIR R4 REST server for tests, built with @asymmetrik/node-fhir-server-core
 * (its Express routes, controllers and error handling): Patient read
 * (`GET <base>Patient/<id>`, 410 once deleted, 404 when unknown) and vread
 * (`GET <base>Patient/<id>/_history/<v>`) from versions the test writes. Listens on HTTP,
 * or on HTTPS with a client certificate required. Faults the framework cannot make (a
 * status for every request, a bearer token check, no answer at all, down then up) are
 * applied in front of it, on the same socket.
 */
const require = createRequire(import.meta.url);
const fhirServerCore = require('@asymmetrik/node-fhir-server-core') as {
  initialize(config: Record<string, unknown>): { app: http.RequestListener };
  constants: { VERSIONS: Record<string, string> };
  ServerError: new (message: string, options: Record<string, unknown>) => Error;
};

export interface FhirRequest {
  path: string;
  accept: string | undefined;
  authorization: string | undefined;
}

export type FhirPatient = Record<string, unknown> & { id: string };

export class TestFhirServer {
  readonly requests: FhirRequest[] = [];
  /** Requests being answered now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Versions of each Patient, oldest first; meta.versionId is the 1-based index. */
  readonly versions = new Map<string, FhirPatient[]>();
  readonly deleted = new Set<string>();
  /** When set, every request is answered with this status (no body) before the framework sees it. */
  status: number | undefined;
  /** When set, requests are held and never answered (a hung server). */
  hang = false;
  /** Milliseconds to hold the answer to a read of this Patient id (answers then arrive out of request order). */
  delayMs: (id: string) => number = () => 0;
  /** When set, requests must carry `Authorization: Bearer <token>`, else 401. */
  token: string | undefined;
  private readonly sockets = new Set<Socket>();
  private server: http.Server;
  port = 0;

  private constructor(private readonly tls: https.ServerOptions | undefined) {
    const service = {
      searchById: async (args: { id: string }) => {
        if (this.deleted.has(args.id)) throw new fhirServerCore.ServerError('deleted', { statusCode: 410, issue: [{ severity: 'error', code: 'deleted' }] });
        return this.versions.get(args.id)?.at(-1) ?? null;
      },
      searchByVersionId: async (args: { id: string; version_id: string }) => this.versions.get(args.id)?.[Number(args.version_id) - 1] ?? null,
    };
    const fhir = fhirServerCore.initialize({
      profiles: { patient: { service, versions: [fhirServerCore.constants.VERSIONS['4_0_0']] } },
      server: {},
      logging: { level: 'error' },
    });
    const handler: http.RequestListener = (request, response) => {
      this.requests.push({ path: request.url ?? '', accept: request.headers.accept, authorization: request.headers.authorization });
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      response.on('close', () => this.inFlight--);
      if (this.hang) return;
      if (this.token !== undefined && request.headers.authorization !== `Bearer ${this.token}`) {
        response.writeHead(401, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"OperationOutcome"}');
      } else if (this.status !== undefined) {
        response.writeHead(this.status, { 'content-type': 'application/fhir+json' }).end('{"resourceType":"OperationOutcome"}');
      } else {
        const id = /\/Patient\/([^/]+)/.exec(request.url ?? '')?.[1] ?? '';
        const delay = this.delayMs(id);
        if (delay > 0) setTimeout(() => fhir.app(request, response), delay);
        else fhir.app(request, response);
      }
    };
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    this.track();
  }

  static async start(tls?: https.ServerOptions): Promise<TestFhirServer> {
    const server = new TestFhirServer(tls);
    await server.listen(0);
    return server;
  }

  /** `http(s)://127.0.0.1:<port>/4_0_0/` (or `localhost` for TLS, the name in the test certificate). */
  get baseUrl(): string {
    return `${this.tls ? 'https://localhost' : 'http://127.0.0.1'}:${this.port}/4_0_0/`;
  }

  reference(id: string): string {
    return `${this.baseUrl}Patient/${id}`;
  }

  /** Stores a new version of a Patient; returns its version id. */
  put(patient: FhirPatient): string {
    const versions = this.versions.get(patient.id) ?? [];
    const versionId = String(versions.length + 1);
    versions.push({ ...patient, resourceType: 'Patient', meta: { versionId, lastUpdated: new Date(Date.UTC(2026, 2, 15, 13, versions.length)).toISOString() } });
    this.versions.set(patient.id, versions);
    this.deleted.delete(patient.id);
    return versionId;
  }

  /** Patient reads that reached the server (paths after the base). */
  reads(): string[] {
    const base = new URL(this.baseUrl).pathname;
    return this.requests.map((request) => request.path.slice(base.length));
  }

  /** Stops listening and drops every connection (the server is down). */
  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    await this.listen(this.port);
  }

  close(): Promise<void> {
    return this.server.listening ? this.down() : Promise.resolve();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private track(): void {
    this.server.on(this.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // TLS sockets that never finish the handshake are tracked too.
    if (this.tls) {
      this.server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
    }
  }
}

/** A test Patient whose name carries its version, so a message shows which version it was built from. */
export function fhirPatient(id: string, family: string, overrides: Record<string, unknown> = {}): FhirPatient {
  return {
    id,
    identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: `MRN-${id}`, assigner: { display: 'ACME_MPI' } }],
    name: [{ use: 'official', family, given: ['Anne'] }],
    gender: 'female',
    birthDate: '1984-03-12',
    ...overrides,
  };
}

/** An EHealthSimpleEvent body as the eHealth Event Model describes it. */
export function simpleEvent(eventType: 'created' | 'updated' | 'deleted', reference: string, resourceVersion?: string): Record<string, unknown> {
  return { messageType: 'EHealthSimpleEvent', messageVersion: '1.0', eventType, resourceReference: reference, ...(resourceVersion ? { resourceVersion } : {}) };
}

/** The eHealth message properties of a simple event, as AMQP headers. */
export function simpleEventHeaders(eventType: string, reference: string): Record<string, unknown> {
  return {
    messagetype: 'EHealthSimpleEvent',
    messageversion: '1.0',
    eventtype: eventType,
    resourcereference: reference,
    resourceprofile: 'ehealth-patient',
    patientreference: reference,
    messageclass: 'com.systematic.ehealth.event.event.EHealthSimpleEvent',
  };
}
