import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { SettledLine, type SettledLineFields } from '../../../src/observability/settled-line.js';

/** A logger like the daemon's (createLogger), child-bound to a subscription, writing lines into an array. */
function capturingLogger(level = 'info') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, phi: false }, destination).child({ subscription: 'lab' });
  return { logger, lines };
}

const accepted: SettledLineFields = { eventId: 'evt-"1"\\', outcome: 'accepted', controlId: 'C1', trigger: 'A01', ackCode: 'AA', attempts: 1, latencyMs: 0.3215, reason: null };
const filtered: SettledLineFields = { eventId: null, outcome: 'filtered', controlId: null, trigger: null, ackCode: null, attempts: 0, latencyMs: null, reason: 'event type not subscribed' };

/** What pino itself writes for the same line (subscription-telemetry.ts wrote it this way before). */
function pinoLine(fields: SettledLineFields, possibleDuplicates: number): Record<string, unknown> {
  const { logger, lines } = capturingLogger();
  logger.info(
    {
      eventId: fields.eventId,
      outcome: fields.outcome,
      ...(fields.controlId ? { controlId: fields.controlId, trigger: fields.trigger } : {}),
      ...(fields.ackCode ? { ackCode: fields.ackCode } : {}),
      ...(fields.attempts ? { attempts: fields.attempts } : {}),
      ...(fields.latencyMs !== null ? { latencyMs: fields.latencyMs } : {}),
      ...(fields.reason ? { reason: fields.reason } : {}),
      ...(possibleDuplicates > 0 ? { possibleDuplicates } : {}),
    },
    'event settled',
  );
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('SettledLine', () => {
  it.each([
    ['an accepted event', accepted, 0],
    ['a filtered event without a message', filtered, 0],
    ['an event sent twice without an answer first', { ...accepted, attempts: 3 }, 2],
  ] as const)('writes the line pino writes, key for key and in the same order: %s', async (_name, fields, duplicates) => {
    const { logger, lines } = capturingLogger();
    new SettledLine(logger).write(fields, duplicates);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    const ours = JSON.parse(lines[0]!) as Record<string, unknown>;
    const theirs = pinoLine(fields, duplicates);
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect({ ...ours, time: 'T' }).toEqual({ ...theirs, time: 'T' });
    expect(Math.abs(Date.parse(String(ours.time)) - Date.now())).toBeLessThan(60_000);
  });

  it('writes nothing when the level is above info, and follows a level changed later', async () => {
    const { logger, lines } = capturingLogger('warn');
    const line = new SettledLine(logger);
    line.write(accepted, 0);
    logger.level = 'info';
    line.write(accepted, 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', subscription: 'lab', service: 'mllp-dispatcher', msg: 'event settled' });
  });
});
