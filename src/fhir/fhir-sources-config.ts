import { accessSync, constants } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ObjectReader } from '../config/object-reader.js';
import { readTls } from '../config/subscription.js';
import type { TlsFileSettings } from '../transport/tls-files.js';

/**
 * One entry of the top-level `fhirSources` list (README, "Reference events"): a FHIR
 * server that reference events may point at. The daemon reads only URLs that start with a
 * configured `baseUrl` (no server-side request forgery).
 */
export interface FhirSourceConfig {
  name: string;
  /** Absolute http(s) URL, normalised (`new URL().href`), always ending with `/`. */
  baseUrl: string;
  /** Absolute path of a file holding the bearer token; re-read when it changes. */
  bearerTokenFile?: string;
  /** Same options as a subscription's `tls` (CA, client certificate and key, servername, minVersion). */
  tls?: TlsFileSettings;
  /** Limit for one request, connect to the end of the body. */
  timeoutMs: number;
}

const NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;

/**
 * Validates `fhirSources` in the style of subscription.ts: every problem at once, each
 * naming its key (`fhirSources[0] (ehealth).baseUrl: ...`), values never echoed.
 */
export function resolveFhirSources(value: unknown, baseDir: string): { sources: FhirSourceConfig[]; problems: string[] } {
  const problems: string[] = [];
  const sources: FhirSourceConfig[] = [];
  if (value === undefined || value === null) return { sources, problems };
  if (!Array.isArray(value)) return { sources, problems: ['fhirSources: must be a list (JSON array) of FHIR sources'] };
  const names = new Set<string>();
  const bases = new Set<string>();
  value.forEach((entry, index) => {
    const label = typeof (entry as { name?: unknown } | null)?.name === 'string' ? ` (${(entry as { name: string }).name})` : '';
    const source = ObjectReader.of(entry, `fhirSources[${index}]${label}`, problems);
    if (!source) return;
    const name = source.string('name', { required: true, pattern: NAME_PATTERN, patternText: '[a-zA-Z0-9_-]+' });
    if (name !== undefined) {
      if (names.has(name)) source.problem('name', 'is used by another FHIR source');
      names.add(name);
    }
    const baseUrl = readBaseUrl(source);
    if (baseUrl !== undefined) {
      if (bases.has(baseUrl)) source.problem('baseUrl', 'is used by another FHIR source');
      bases.add(baseUrl);
    }
    const tokenFile = source.string('bearerTokenFile', { required: false });
    let bearerTokenFile: string | undefined;
    if (tokenFile) {
      bearerTokenFile = resolvePath(baseDir, tokenFile);
      try {
        accessSync(bearerTokenFile, constants.R_OK);
      } catch (error) {
        source.problem('bearerTokenFile', `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    const tls = readTls(source, baseDir);
    if (tls && baseUrl?.startsWith('http:')) source.problem('tls', 'is set but baseUrl is plain http; use https://');
    const timeoutMs = source.integer('timeoutMs', 5_000, 1, 600_000);
    source.rejectUnknownKeys();
    if (name === undefined || baseUrl === undefined) return;
    const resolved: FhirSourceConfig = { name, baseUrl, timeoutMs };
    if (bearerTokenFile) resolved.bearerTokenFile = bearerTokenFile;
    if (tls) resolved.tls = tls;
    sources.push(resolved);
  });
  return { sources, problems };
}

function readBaseUrl(source: ObjectReader): string | undefined {
  const text = source.string('baseUrl', { required: true });
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    source.problem('baseUrl', 'must be an absolute http:// or https:// URL');
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') source.problem('baseUrl', 'must be an absolute http:// or https:// URL');
  else if (url.username || url.password) source.problem('baseUrl', 'must not hold credentials (use bearerTokenFile)');
  else if (url.search || url.hash) source.problem('baseUrl', 'must not have a query or fragment');
  else return url.href.endsWith('/') ? url.href : `${url.href}/`;
  return undefined;
}
