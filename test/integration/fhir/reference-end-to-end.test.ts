import { afterEach, describe, expect, it } from 'vitest';
import { TestFhirServer, fhirPatient, simpleEvent, simpleEventHeaders } from '../../helpers/fhir-server.js';
import { metricValue, scrape } from '../../helpers/metrics.js';
import { waitFor } from '../../helpers/wait.js';
import { familyOf, sourceFor, startReferenceFeed, type Cleanups } from './support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const PATIENTS = 50;

describe('reference events end to end: 50 patients', () => {
  it('created, updated and deleted events for 50 patients reach the receiver as A01, A08, A38 in order, built from the fetched versions', async () => {
    const fhir = await TestFhirServer.start();
    cleanups.push(() => fhir.close());
    const ids = Array.from({ length: PATIENTS }, (_, index) => `pat-${String(index).padStart(3, '0')}`);
    for (const id of ids) {
      fhir.put(fhirPatient(id, `Created-${id}`));
      fhir.put(fhirPatient(id, `Updated-${id}`, { gender: 'male' }));
    }
    const deletedIds = ids.filter((_, index) => index % 5 === 0);
    for (const id of deletedIds) fhir.deleted.add(id);
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)]);

    const expected: string[] = [];
    for (const [eventType, version, trigger, prefix, subset] of [
      ['created', '1', 'A01', 'Created', ids],
      ['updated', '2', 'A08', 'Updated', ids],
      ['deleted', '2', 'A38', 'Updated', deletedIds],
    ] as const) {
      for (const id of subset) {
        await feed.publish(simpleEvent(eventType, fhir.reference(id), version), { headers: simpleEventHeaders(eventType, fhir.reference(id)) });
        expected.push(`${trigger} MRN-${id} ${prefix}-${id}`);
      }
    }
    await waitFor(() => feed.receipts.length === expected.length, { message: `${expected.length} receipts`, timeoutMs: 30_000 });

    const got = feed.receiver.received.map((message) => `${message.trigger} ${message.text.split('\r').find((s) => s.startsWith('PID|'))!.split('|')[3]!.split('^')[0]} ${familyOf(message.text)}`);
    expect(got).toEqual(expected);
    expect(feed.receipts.every((receipt) => receipt.json().outcome === 'accepted')).toBe(true);
    expect(feed.receipts.map((receipt) => receipt.json().reference)).toEqual(
      expected.map((line, index) => `${fhir.reference(line.split(' ')[1]!.slice(4))}/_history/${index < PATIENTS ? 1 : 2}`),
    );
    // Every event read exactly once, as vread of the version it names.
    expect(fhir.requests).toHaveLength(expected.length);
    await waitFor(async () => (await feed.broker.messageCount(`mllp.${feed.name}`)) === 0, { message: 'queue empty' });

    const metrics = await scrape(feed.daemon.daemon.port!);
    const labels = { subscription: feed.name };
    expect(metricValue(metrics.body, 'mllp_fhir_fetches_total', { ...labels, outcome: 'found' })).toBe(expected.length);
    expect(metricValue(metrics.body, 'mllp_fhir_fetch_seconds_count', labels)).toBe(expected.length);
    expect(metricValue(metrics.body, 'mllp_events_total', { ...labels, outcome: 'accepted' })).toBe(expected.length);
    const fetchLines = metrics.body.split('\n').filter((line) => line.startsWith('mllp_fhir_') && line.includes(feed.name));
    expect(fetchLines.join('\n')).not.toMatch(/Patient|pat-/);
    // For the note: one receipt and the fetch metrics of this run.
    console.log(`receipt: ${feed.receipts[PATIENTS]!.body.toString('utf8')}\n${fetchLines.join('\n')}`);
  });
});
