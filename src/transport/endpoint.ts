import { isIP } from 'node:net';

/**
 * A receiver address from a subscription's `endpoint`: `llp://host:port` (plain TCP) or
 * `sllp://host:port` (TLS); `mllp://` and `mllps://` are accepted as aliases.
 */
export interface MllpEndpoint {
  host: string;
  port: number;
  secure: boolean;
}

const SCHEMES: Readonly<Record<string, boolean>> = {
  'llp:': false,
  'mllp:': false,
  'sllp:': true,
  'mllps:': true,
};

export type EndpointParseResult = { ok: true; endpoint: MllpEndpoint } | { ok: false; reason: string };

export function parseEndpoint(value: string): EndpointParseResult {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'must be a URL such as llp://host:2575 or sllp://host:2575' };
  }
  const secure = SCHEMES[url.protocol];
  if (secure === undefined) {
    return { ok: false, reason: `scheme "${url.protocol.slice(0, -1)}" is not one of llp, sllp, mllp, mllps` };
  }
  if (!url.hostname) return { ok: false, reason: 'has no host' };
  if (!url.port) return { ok: false, reason: 'has no port (MLLP has no default port; 2575 is customary)' };
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash || url.username) {
    return { ok: false, reason: 'must be scheme://host:port with nothing after the port' };
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { ok: true, endpoint: { host, port: Number(url.port), secure } };
}

export function describeEndpoint(endpoint: MllpEndpoint): string {
  const host = isIP(endpoint.host) === 6 ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.secure ? 'sllp' : 'llp'}://${host}:${endpoint.port}`;
}
