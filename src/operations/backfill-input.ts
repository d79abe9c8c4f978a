import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { EventDecoder } from '../event/decode-event.js';

/**
 * One input record of `backfill`: where it is (`FILE:LINE`, with `entry[N]` for a Bundle
 * entry) and the event body to publish, or why it cannot be (a reason that names a path and
 * a rule, never a value: it is printed).
 */
export type BackfillItem = { location: string } & ({ ok: true; body: Buffer; eventId: string; type: string } | { ok: false; reason: string });

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads backfill input files in order. Each file is either NDJSON (one JSON value per line)
 * or, when its first line is not a JSON value by itself, one JSON document (a
 * pretty-printed FHIR Bundle). A value is a patient event (published as it is), a FHIR
 * Patient, or a FHIR Bundle whose Patient entries are taken in order (other resources are
 * ignored). A Patient becomes a `create` event whose id is derived from its content
 * (`bf-` + SHA-256), so the same input always gives the same event ids and MSH-10s.
 * `occurredAt` is the Patient's `meta.lastUpdated`, or `fallbackOccurredAt`.
 */
export async function* readBackfillInput(files: readonly string[], decode: EventDecoder, fallbackOccurredAt: string): AsyncGenerator<BackfillItem> {
  for (const file of files) {
    if (await firstLineIsJson(file)) {
      const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      let number = 0;
      for await (const line of lines) {
        number++;
        if (line.trim() === '') continue;
        yield* itemsOf(line, `${file}:${number}`, decode, fallbackOccurredAt);
      }
    } else {
      yield* itemsOf(readFileSync(file, 'utf8'), file, decode, fallbackOccurredAt);
    }
  }
}

async function firstLineIsJson(file: string): Promise<boolean> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    lines.close();
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  }
  return true;
}

function* itemsOf(text: string, location: string, decode: EventDecoder, fallbackOccurredAt: string): Generator<BackfillItem> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    yield { location, ok: false, reason: 'not JSON' };
    return;
  }
  const resourceType = value !== null && typeof value === 'object' ? (value as { resourceType?: unknown }).resourceType : undefined;
  if (resourceType === 'Bundle') {
    const entries = (value as { entry?: unknown }).entry;
    if (!Array.isArray(entries)) {
      yield { location, ok: false, reason: 'Bundle.entry is not a list' };
      return;
    }
    for (const [index, entry] of entries.entries()) {
      const resource = entry !== null && typeof entry === 'object' ? (entry as { resource?: unknown }).resource : undefined;
      const type = resource !== null && typeof resource === 'object' ? (resource as { resourceType?: unknown }).resourceType : undefined;
      if (type !== 'Patient') continue;
      yield checked(patientEvent(resource as Record<string, unknown>, fallbackOccurredAt), `${location} entry[${index}]`, decode);
    }
    return;
  }
  if (resourceType === 'Patient') {
    yield checked(patientEvent(value as Record<string, unknown>, fallbackOccurredAt), location, decode);
    return;
  }
  yield checked(Buffer.from(text, 'utf8'), location, decode);
}

function checked(body: Buffer, location: string, decode: EventDecoder): BackfillItem {
  const decoded = decode(body);
  return decoded.ok ? { location, ok: true, body, eventId: decoded.event.id, type: decoded.event.type } : { location, ok: false, reason: decoded.reason };
}

function patientEvent(patient: Record<string, unknown>, fallbackOccurredAt: string): Buffer {
  const lastUpdated = (patient.meta as { lastUpdated?: unknown } | undefined)?.lastUpdated;
  const id = `bf-${createHash('sha256').update(JSON.stringify(patient)).digest('hex').slice(0, 32)}`;
  const occurredAt = typeof lastUpdated === 'string' && RFC3339.test(lastUpdated) ? lastUpdated : fallbackOccurredAt;
  return Buffer.from(JSON.stringify({ id, type: 'create', occurredAt, source: { application: 'mllp-dispatcher-backfill' }, patient }));
}
