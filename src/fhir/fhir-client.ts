import http from 'node:http';
import https from 'node:https';
import { readFile, stat } from 'node:fs/promises';
import { loadTlsMaterial, tlsFilesStamp } from '../transport/tls-files.js';
import type { FhirSourceConfig } from './fhir-sources-config.js';

/**
 * What one read of a FHIR resource came to. `outcome` is also the label of
 * `mllp_fhir_fetches_total` (a fixed vocabulary, never a URL or an id):
 * - `found`: 200 with a JSON resource of the expected type;
 * - `not-found`: 404 or 410 (deleted or never there);
 * - `unauthorized`: 401 or 403 (a credential problem, the operator's);
 * - `server-error`: any other status (5xx, 429, a redirect, which is never followed);
 * - `timeout`, `connection-error`: no answer within `timeoutMs`, or no connection / TLS;
 * - `invalid-response`: 200, but not a JSON resource of the expected type.
 * Reasons name the status or the error code, never the URL (it holds the patient's id).
 */
export type FetchResult =
  | { outcome: 'found'; resource: Record<string, unknown> }
  | { outcome: Exclude<FetchOutcome, 'found'>; status?: number; reason: string };

export const FETCH_OUTCOMES = ['found', 'not-found', 'unauthorized', 'server-error', 'timeout', 'connection-error', 'invalid-response'] as const;
export type FetchOutcome = (typeof FETCH_OUTCOMES)[number];

/** A FHIR resource body larger than this is refused (a Patient is a few KiB). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** How often the TLS files are checked for rotation (as for receivers, README "Container"). */
const TLS_CHECK_MS = 30_000;

/**
 * Reads resources from one configured FHIR server: `GET` with `Accept: application/fhir+json`,
 * the bearer token from `bearerTokenFile` (re-read whenever the file changes), and the
 * source's TLS files (re-read within 30 s of a rotation). Keeps connections alive.
 * Never follows redirects: the daemon reads no URL it was not configured for.
 */
export class FhirSourceClient {
  private agent: http.Agent | undefined;
  private tlsStamp: string | undefined;
  private tlsCheckedAt = 0;
  private token: { stamp: string; value: string } | undefined;

  constructor(readonly config: FhirSourceConfig) {}

  async read(url: URL, expectedType: string, signal?: AbortSignal): Promise<FetchResult> {
    let agent: http.Agent;
    let authorization: string | undefined;
    try {
      agent = await this.currentAgent();
      authorization = await this.authorization();
    } catch (error) {
      // A missing token or TLS file: the operator's to fix, like a refused credential.
      return { outcome: 'unauthorized', reason: (error as Error).message };
    }
    const result = await this.get(url, agent, authorization, signal);
    if (result.outcome !== 'found') return result;
    const type = result.resource.resourceType;
    if (type !== expectedType) return { outcome: 'invalid-response', status: 200, reason: `the FHIR server answered 200 without a ${expectedType} resource` };
    return result;
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private get(url: URL, agent: http.Agent, authorization: string | undefined, signal: AbortSignal | undefined): Promise<FetchResult> {
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: FetchResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const headers: Record<string, string> = { accept: 'application/fhir+json' };
      if (authorization) headers.authorization = authorization;
      const request = transport.get(url, { agent, headers }, (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            request.destroy();
            finish({ outcome: 'invalid-response', status, reason: `the FHIR server's answer is over ${MAX_BODY_BYTES} bytes` });
          } else chunks.push(chunk);
        });
        response.on('error', () => finish({ outcome: 'connection-error', status, reason: 'the FHIR server closed the connection during the answer' }));
        response.on('end', () => finish(classify(status, Buffer.concat(chunks))));
      });
      const timer = setTimeout(() => {
        request.destroy();
        finish({ outcome: 'timeout', reason: `no answer from the FHIR server within ${this.config.timeoutMs} ms` });
      }, this.config.timeoutMs);
      const onAbort = () => {
        request.destroy();
        finish({ outcome: 'connection-error', reason: 'aborted (stopping)' });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error: NodeJS.ErrnoException) => {
        finish({ outcome: 'connection-error', reason: `cannot read from the FHIR server: ${error.code ?? error.name}` });
      });
    });
  }

  /** The keep-alive agent; a new one (new connections) when the TLS files were rotated. */
  private async currentAgent(): Promise<http.Agent> {
    const tls = this.config.tls;
    if (!tls || !this.config.baseUrl.startsWith('https:')) {
      this.agent ??= new http.Agent({ keepAlive: true });
      return this.agent;
    }
    const now = Date.now();
    if (this.agent && now - this.tlsCheckedAt < TLS_CHECK_MS) return this.agent;
    this.tlsCheckedAt = now;
    const stamp = await tlsFilesStamp(tls);
    if (this.agent && stamp === this.tlsStamp) return this.agent;
    const material = await loadTlsMaterial(tls);
    this.agent?.destroy();
    this.agent = new https.Agent({ keepAlive: true, ...material.options });
    this.tlsStamp = material.stamp;
    return this.agent;
  }

  private async authorization(): Promise<string | undefined> {
    const file = this.config.bearerTokenFile;
    if (!file) return undefined;
    let stamp: string;
    try {
      const info = await stat(file);
      stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    } catch (error) {
      throw new Error(`cannot read bearerTokenFile of FHIR source ${this.config.name}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (this.token?.stamp !== stamp) {
      const value = (await readFile(file, 'utf8')).trim();
      this.token = { stamp, value };
    }
    return this.token.value ? `Bearer ${this.token.value}` : undefined;
  }
}

function classify(status: number, body: Buffer): FetchResult {
  if (status === 404 || status === 410) return { outcome: 'not-found', status, reason: `the FHIR server answered ${status}` };
  if (status === 401 || status === 403) return { outcome: 'unauthorized', status, reason: `the FHIR server refused the credentials (${status})` };
  if (status !== 200) return { outcome: 'server-error', status, reason: `the FHIR server answered ${status}` };
  try {
    const resource = JSON.parse(body.toString('utf8')) as unknown;
    if (resource !== null && typeof resource === 'object' && !Array.isArray(resource)) return { outcome: 'found', resource: resource as Record<string, unknown> };
  } catch {
    // reported below
  }
  return { outcome: 'invalid-response', status, reason: 'the FHIR server answered 200 without a JSON resource' };
}

/**
 * The configured sources. `locate` is the only way from a reference to a URL the daemon
 * reads: the reference, normalised by the URL parser (so `..` segments are resolved
 * first), must start with a source's `baseUrl` and continue with `<Type>/<id>` and at
 * most `/_history/<version>`. Anything else matches no source.
 */
export class FhirSources {
  private readonly clients: FhirSourceClient[];

  constructor(configs: readonly FhirSourceConfig[]) {
    // Longest base first, so a more specific source wins over a shorter prefix.
    this.clients = [...configs].sort((a, b) => b.baseUrl.length - a.baseUrl.length).map((config) => new FhirSourceClient(config));
  }

  locate(reference: string): LocatedReference | undefined {
    let url: URL;
    try {
      url = new URL(reference);
    } catch {
      return undefined;
    }
    if (url.search || url.hash || url.username || url.password) return undefined;
    for (const client of this.clients) {
      if (!url.href.startsWith(client.config.baseUrl)) continue;
      const match = RELATIVE_REFERENCE.exec(url.href.slice(client.config.baseUrl.length));
      if (!match) return undefined;
      return withVersion({ client, base: client.config.baseUrl, type: match[1]!, id: match[2]! }, match[3]);
    }
    return undefined;
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}

/** FHIR ids and versions: `[A-Za-z0-9\-\.]{1,64}`. */
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/([A-Za-z0-9.-]{1,64}))?$/;
export const FHIR_VERSION_ID = /^[A-Za-z0-9.-]{1,64}$/;

export interface LocatedReference {
  client: FhirSourceClient;
  base: string;
  type: string;
  id: string;
  version?: string;
}

function withVersion(located: LocatedReference, version: string | undefined): LocatedReference {
  return version === undefined ? located : { ...located, version };
}

/** Told the outcome and duration of every read (for the fetch metrics). */
export interface FetchObserver {
  fetched(outcome: FetchOutcome, seconds: number): void;
}

/** Reads `located` (at `version`, or the current version) and tells `observer` how it went. */
export async function observedRead(located: LocatedReference, version: string | undefined, observer: FetchObserver, signal?: AbortSignal): Promise<FetchResult> {
  const started = performance.now();
  const result = await located.client.read(resourceUrl(located, version), located.type, signal);
  observer.fetched(result.outcome, (performance.now() - started) / 1000);
  return result;
}

/** `<base><Type>/<id>` or, with a version, `<base><Type>/<id>/_history/<version>` (vread). */
export function resourceUrl(located: LocatedReference, version = located.version): URL {
  return new URL(`${located.type}/${located.id}${version === undefined ? '' : `/_history/${version}`}`, located.base);
}
