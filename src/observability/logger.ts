import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Keys that may carry patient data or secrets. Code never logs patient objects; this list is
 * the safety net under that rule. `hl7` and `ackText` are logged on purpose, but only when
 * the operator turned `log.phi` on; otherwise they are replaced by "[redacted]".
 */
const ALWAYS_REDACTED = [
  'patient',
  'replaced',
  'event',
  'body',
  'content',
  'password',
  'msh8',
  'MSH8',
  'key',
  'passphrase',
  '*.patient',
  '*.replaced',
  '*.password',
  '*.MSH8',
  '*.key',
];
const PHI_KEYS = ['hl7', 'ackText', '*.hl7', '*.ackText'];

export interface LoggerOptions {
  level: string;
  /** `log.phi`: allow HL7 bodies (debug) and receiver error texts in logs. */
  phi: boolean;
}

export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'mllp-dispatcher' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: options.phi ? ALWAYS_REDACTED : [...ALWAYS_REDACTED, ...PHI_KEYS], censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
