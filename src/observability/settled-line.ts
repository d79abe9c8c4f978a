import { pino, type Logger } from 'pino';
import { isoNow, jsonNumberOrNull, jsonString, jsonStringOrNull } from '../util/json-text.js';

/** What the per-event line says (README "Logs"): identifiers of the event and message, never patient data. */
export interface SettledLineFields {
  eventId: string | null;
  outcome: string;
  controlId: string | null;
  trigger: string | null;
  ackCode: string | null;
  attempts: number;
  latencyMs: number | null;
  reason: string | null;
}

interface PinoInternals {
  [key: symbol]: unknown;
}

/**
 * The "event settled" line, one per event: the same JSON line pino writes for
 * `logger.info(fields, 'event settled')` (level, time, the logger's bindings, the fields,
 * msg), assembled as one string and handed to the logger's destination. pino would build
 * and redact a fields object first, several microseconds per event; every field here is
 * fixed and log-safe, so none of that is needed. `level` and the bindings are read from the
 * logger at each call, so a level changed at run time applies.
 */
export class SettledLine {
  private readonly stream: { write(line: string): unknown };
  private readonly bindings: string;

  constructor(private readonly logger: Logger) {
    const internals = logger as unknown as PinoInternals;
    this.stream = internals[pino.symbols.streamSym] as { write(line: string): unknown };
    this.bindings = String(internals[pino.symbols.chindingsSym] ?? '');
  }

  write(fields: SettledLineFields, possibleDuplicates: number): void {
    if (!this.logger.isLevelEnabled('info')) return;
    let line = `{"level":"info","time":"${isoNow()}"${this.bindings},"eventId":${jsonStringOrNull(fields.eventId)},"outcome":${jsonString(fields.outcome)}`;
    if (fields.controlId) line += `,"controlId":${jsonString(fields.controlId)},"trigger":${jsonStringOrNull(fields.trigger)}`;
    if (fields.ackCode) line += `,"ackCode":${jsonString(fields.ackCode)}`;
    if (fields.attempts) line += `,"attempts":${fields.attempts}`;
    if (fields.latencyMs !== null) line += `,"latencyMs":${jsonNumberOrNull(fields.latencyMs)}`;
    if (fields.reason) line += `,"reason":${jsonString(fields.reason)}`;
    if (possibleDuplicates > 0) line += `,"possibleDuplicates":${possibleDuplicates}`;
    this.stream.write(`${line},"msg":"event settled"}\n`);
  }
}
