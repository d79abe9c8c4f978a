import type { ChannelModel } from 'amqplib';
import { maskUrlPassword } from '../config/load-config.js';

/** An AMQP or socket error as a log-safe line: its code, if any, and message, URLs masked. */
export function describeAmqpError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${code !== undefined ? `${String(code)} ` : ''}${error.message}`.replace(/amqps?:\/\/[^\s]+/g, (url) => maskUrlPassword(url));
  }
  return String(error);
}

/**
 * Destroys the connection's socket without a close handshake. The broker sees a lost
 * connection and requeues every unacknowledged delivery, as it does for a close.
 * amqplib exposes the socket as `connection.stream` (not in its type definitions).
 */
export function destroyConnection(model: ChannelModel): void {
  const stream = (model.connection as unknown as { stream?: { destroy(): void } }).stream;
  stream?.destroy();
}

/** A connection attempt ended because the session was closed (not a broker failure). */
export class SessionClosedError extends Error {
  readonly code = 'SESSION_CLOSED';
  constructor() {
    super('the session was closed');
    this.name = 'SessionClosedError';
  }
}

/** True while the broker blocks the connection (amqplib tracks `connection.blocked` there). */
export function isBlocked(model: ChannelModel): boolean {
  return (model.connection as unknown as { blocked?: boolean }).blocked === true;
}
