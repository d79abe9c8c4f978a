import net from 'node:net';
import type tls from 'node:tls';
import type { MllpEndpoint } from './endpoint.js';

/** SNI must be a host name: never an IP address (RFC 6066). */
export function sniName(options: tls.ConnectionOptions, endpoint: MllpEndpoint): string | undefined {
  if (options.servername) return options.servername;
  return net.isIP(endpoint.host) ? undefined : endpoint.host;
}

/**
 * TLS-layer failures (alerts, verification) mean "not connected", never "maybe delivered".
 * Told by Node's error codes, and by `library`, which Node sets on every error raised by
 * OpenSSL (an alert from the peer included), never by the message text.
 */
export function isTlsFailure(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || typeof (error as { library?: unknown }).library === 'string';
}

/** A socket error as a log-safe sentence: the system or TLS code and Node's text, no data. */
export function describeSocketError(error: Error, secure: boolean): string {
  const code = (error as NodeJS.ErrnoException).code;
  const layer = secure && (isTlsFailure(error) || isCertificateError(code)) ? 'TLS' : 'socket';
  return `${layer} error ${code ?? ''}: ${error.message}`.replace(/\s+/g, ' ').trim();
}

function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /CERT|SIGNATURE|ISSUER|SELF_SIGNED|UNABLE_TO/.test(code);
}

/**
 * Quotes a value read from the receiver's reply only when it looks like a code or a control
 * id; anything else could carry patient data and is described, not shown.
 */
export function safeToken(value: string): string {
  return /^[A-Za-z0-9_.-]{1,32}$/.test(value) ? `"${value}"` : `(${value.length} characters, not shown)`;
}
