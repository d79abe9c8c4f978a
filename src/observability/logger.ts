import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

interface LineSink {
  write(text: string): unknown;
  flushSync(): void;
}

/**
 * Gathers log lines into one string and hands it to `out` (pino's asynchronous stdout
 * destination) when `maxChars` have gathered or `maxDelayMs` have passed: one write for
 * dozens of lines. (sonic-boom's own `minLength` buffering measures the UTF-8 length of its
 * whole buffer again on every line, which at a line per event cost more than the line.)
 */
export class BatchedLines {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: LineSink,
    private readonly maxChars: number,
    private readonly maxDelayMs: number,
  ) {}

  write(line: string): boolean {
    this.pending += line;
    if (this.pending.length >= this.maxChars) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.maxDelayMs);
      this.timer.unref();
    }
    return true;
  }

  /** Hands the gathered lines to the destination (written asynchronously). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.out.write(text);
  }

  /** Writes everything out now, synchronously (before the process exits). */
  flushSync(): void {
    this.flush();
    this.out.flushSync();
  }
}

/**
 * Keys that may carry patient data or secrets. Code never logs patient objects; this list is
 * the safety net under that rule. `hl7` and `ackText` are logged on purpose, but only when
 * the operator turned `log.phi` on; otherwise they are replaced by "[redacted]".
 * Explicit paths only: wildcard paths cost about 12 µs per log line, and every event logs one.
 */
const ALWAYS_REDACTED = [
  'patient',
  'replaced',
  'event',
  'body',
  'content',
  'password',
  'passphrase',
  'key',
  'msh8',
  'MSH8',
  'settings.MSH8',
  'tls.key',
  'err.patient',
];
const PHI_KEYS = ['hl7', 'ackText'];

export interface LoggerOptions {
  level: string;
  /** `log.phi`: allow HL7 bodies (debug) and receiver error texts in logs. */
  phi: boolean;
}

/**
 * Lines are buffered and written when 8 KiB have gathered or 100 ms have passed, whichever
 * comes first: one system call for dozens of event lines under load, at most 100 ms late
 * when quiet. flushLogsSync must run before the process exits (run.ts does, on every path).
 */
const LOG_BUFFER_BYTES = 8192;
const LOG_FLUSH_MS = 100;

/**
 * JSON lines on stdout, asynchronous and buffered (see LOG_BUFFER_BYTES).
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'mllp-dispatcher' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: options.phi ? ALWAYS_REDACTED : [...ALWAYS_REDACTED, ...PHI_KEYS], censor: '[redacted]' },
    },
    destination ?? new BatchedLines(pino.destination({ dest: 1, sync: false }), LOG_BUFFER_BYTES, LOG_FLUSH_MS),
  );
}

/** Writes out every buffered line now (before process.exit). */
export function flushLogsSync(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, { flushSync?: () => void }>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // Nothing more can be done about a stdout that cannot be written.
  }
}
