import type { ConnectionHabits } from '../transport/connection-habits.js';
import type { Framing } from '../transport/mllp-framing.js';
import type { ObjectReader } from './object-reader.js';

/** A receiver profile's transport keys (README "Fitting a receiver"): framing, connection habits, rate limit. */
export interface ReceiverTransport {
  framing?: Framing;
  connection?: ConnectionHabits;
  /** `rateLimit.perSecond`. */
  perSecond?: number;
}

const HEX_BYTES = /^(?:[0-9a-fA-F]{2}){1,4}$/;

/**
 * Reads `framing` (`{"start": "0b", "end": "1c0d"}`: hex, 1 to 4 bytes each, different),
 * `connection` (`mode` `persistent` or `per-message`, `idleCloseMs` >= 0) and
 * `rateLimit.perSecond` (>= 1). `enhancedAck`: per-message connections cannot wait for an
 * application ACK that comes after the commit ACK, so that combination is refused.
 */
export function readReceiverTransport(sub: ObjectReader, enhancedAck: boolean): ReceiverTransport {
  const transport: ReceiverTransport = {};
  const framing = sub.child('framing');
  if (framing) {
    const start = hexBytes(framing, 'start', '0b');
    const end = hexBytes(framing, 'end', '1c0d');
    if (start && end) {
      if (Buffer.from(start).equals(Buffer.from(end))) framing.problem('end', 'must differ from start');
      else transport.framing = { start, end };
    }
    framing.rejectUnknownKeys();
  }
  const connection = sub.child('connection');
  if (connection) {
    const mode = connection.oneOf('mode', ['persistent', 'per-message'] as const, 'persistent');
    const idleCloseMs = connection.integer('idleCloseMs', 0, 0);
    if (mode === 'per-message' && idleCloseMs > 0) connection.problem('idleCloseMs', 'applies to persistent connections only');
    if (mode === 'per-message' && enhancedAck) connection.problem('mode', 'per-message cannot be combined with settings.AcceptAck/ApplicationAck (the application ACK comes after the commit ACK)');
    transport.connection = { mode, idleCloseMs };
    connection.rejectUnknownKeys();
  }
  const rateLimit = sub.child('rateLimit');
  if (rateLimit) {
    if (!rateLimit.has('perSecond')) rateLimit.problem('perSecond', 'is required');
    else transport.perSecond = rateLimit.integer('perSecond', 1, 1, 100_000);
    rateLimit.rejectUnknownKeys();
  }
  return transport;
}

function hexBytes(reader: ObjectReader, key: string, fallback: string): number[] | undefined {
  const text = reader.string(key) ?? fallback;
  if (!HEX_BYTES.test(text)) {
    reader.problem(key, 'must be 1 to 4 bytes in hex, e.g. "0b" or "1c0d"');
    return undefined;
  }
  return Array.from(Buffer.from(text, 'hex'));
}
