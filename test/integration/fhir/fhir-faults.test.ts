import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TestFhirServer, fhirPatient, simpleEvent } from '../../helpers/fhir-server.js';
import { makePki } from '../../helpers/certs.js';
import { subscriptionStatus } from '../../helpers/subscriptions.js';
import { metricValue, scrape } from '../../helpers/metrics.js';
import { waitFor } from '../../helpers/wait.js';
import { familyOf, sourceFor, startReferenceFeed, tokenFile, type Cleanups } from './support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function fhirServer(tls?: Parameters<typeof TestFhirServer.start>[0]): Promise<TestFhirServer> {
  const server = await TestFhirServer.start(tls);
  cleanups.push(() => server.close());
  return server;
}

/** Patients p0..p(n-1), one version each; returns their ids. */
function patients(fhir: TestFhirServer, n: number): string[] {
  return Array.from({ length: n }, (_, index) => {
    fhir.put(fhirPatient(`p${index}`, `Family-${index}`));
    return `p${index}`;
  });
}

const fast = { retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 } };

describe('FHIR source faults: the stream waits, nothing is lost, nothing overtakes', () => {
  it('401: waits, /readyz says why, and resumes in order once the token file is fixed (re-read without a restart)', async () => {
    const fhir = await fhirServer();
    fhir.token = 'right-token';
    const ids = patients(fhir, 3);
    const file = tokenFile('wrong-token');
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir, { bearerTokenFile: file })], fast);
    for (const id of ids) await feed.publish(simpleEvent('created', fhir.reference(id), '1'));
    const status = await waitFor(() => subscriptionStatus(feed.daemon, feed.name)?.resolutionWaiting && subscriptionStatus(feed.daemon, feed.name), { message: 'waiting' });
    expect(status.resolutionWaiting).toMatchObject({ outcome: 'unauthorized', reason: 'the FHIR server refused the credentials (401)' });
    expect(status.problems.join()).toMatch(/^reference events wait for their FHIR source since .+ \(unauthorized\): the FHIR server refused the credentials \(401\)$/);
    expect(feed.daemon.daemon.readiness().ready).toBe(false);
    // It keeps probing the first event only.
    await waitFor(() => fhir.requests.length >= 3, { message: 'retries' });
    expect(new Set(fhir.reads())).toEqual(new Set(['Patient/p0/_history/1']));
    expect(feed.receipts).toHaveLength(0);
    // Held events count as waiting events, so the stalled-feed alert sees them.
    const stalled = await scrape(feed.daemon.daemon.port!);
    expect(metricValue(stalled.body, 'mllp_stream_events', { subscription: feed.name })).toBe(3);
    expect(metricValue(stalled.body, 'mllp_oldest_event_age_seconds', { subscription: feed.name })).toBeGreaterThan(0);

    writeFileSync(file, 'right-token\n');
    await waitFor(() => feed.receipts.length === 3, { message: '3 receipts' });
    expect(feed.receiver.received.map((message) => familyOf(message.text))).toEqual(['Family-0', 'Family-1', 'Family-2']);
    expect(fhir.requests.at(-1)!.authorization).toBe('Bearer right-token');
    await waitFor(() => feed.daemon.daemon.readiness().ready, { message: 'ready again' });
    const metrics = await scrape(feed.daemon.daemon.port!);
    expect(metricValue(metrics.body, 'mllp_fhir_fetches_total', { subscription: feed.name, outcome: 'unauthorized' })).toBeGreaterThanOrEqual(3);
    expect(metrics.body).not.toContain('/Patient/');
  });

  it('a server that is down then up mid-stream: every event is delivered once, each patient in order (4 lanes fetch ahead)', async () => {
    const fhir = await fhirServer();
    const ids = patients(fhir, 10);
    for (const id of ids) fhir.put(fhirPatient(id, `Updated-${id}`));
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)], { ...fast, lanes: 4 });
    const events = ids.flatMap((id) => [simpleEvent('created', fhir.reference(id), '1'), simpleEvent('updated', fhir.reference(id), '2')]);
    for (const event of events.slice(0, 6)) await feed.publish(event);
    await waitFor(() => feed.receipts.length === 6, { message: 'first 6' });
    await fhir.down();
    for (const event of events.slice(6)) await feed.publish(event);
    const status = await waitFor(() => subscriptionStatus(feed.daemon, feed.name)?.resolutionWaiting, { message: 'waiting' });
    expect(status.outcome).toBe('connection-error');
    expect(feed.receipts).toHaveLength(6);
    await fhir.up();
    await waitFor(() => feed.receipts.length === 20, { message: 'all 20' });
    expect(feed.receipts.every((receipt) => receipt.json().outcome === 'accepted')).toBe(true);
    expect(feed.receiver.received).toHaveLength(20);
    for (const id of ids) {
      const mine = feed.receiver.received.filter((message) => message.text.includes(`MRN-${id}^`));
      expect(mine.map((message) => `${message.trigger} ${familyOf(message.text)}`)).toEqual([`A01 Family-${id.slice(1)}`, `A08 Updated-${id}`]);
    }
    await waitFor(() => subscriptionStatus(feed.daemon, feed.name)?.resolutionWaiting === undefined, { message: 'no longer waiting' });
  });

  it('5xx then a hung server (timeouts): waits and retries the same event in place, then delivers everything in order', async () => {
    const fhir = await fhirServer();
    const ids = patients(fhir, 4);
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir, { timeoutMs: 200 })], fast);
    fhir.status = 503;
    for (const id of ids) await feed.publish(simpleEvent('created', fhir.reference(id), '1'));
    await waitFor(() => subscriptionStatus(feed.daemon, feed.name)?.resolutionWaiting?.reason === 'the FHIR server answered 503', { message: '503 wait' });
    fhir.status = undefined;
    fhir.hang = true;
    await waitFor(() => subscriptionStatus(feed.daemon, feed.name)?.resolutionWaiting?.outcome === 'timeout', { message: 'timeout wait' });
    expect(feed.receipts).toHaveLength(0);
    fhir.hang = false;
    await waitFor(() => feed.receipts.length === 4, { message: '4 receipts' });
    expect(feed.receiver.received.map((message) => familyOf(message.text))).toEqual(['Family-0', 'Family-1', 'Family-2', 'Family-3']);
    const metrics = await scrape(feed.daemon.daemon.port!);
    for (const outcome of ['server-error', 'timeout', 'found']) {
      expect(metricValue(metrics.body, 'mllp_fhir_fetches_total', { subscription: feed.name, outcome })).toBeGreaterThan(0);
    }
  });

  it('reads over HTTPS with a client certificate; without one the handshake fails and the stream waits', async () => {
    const pki = makePki();
    const fhir = await fhirServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey), ca: pki.read(pki.ca), requestCert: true, rejectUnauthorized: true });
    patients(fhir, 1);
    const mutual = await startReferenceFeed(cleanups, [sourceFor(fhir, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } })], fast);
    await mutual.publish(simpleEvent('created', fhir.reference('p0'), '1'));
    await waitFor(() => mutual.receipts.length === 1, { message: 'receipt over https' });
    expect(mutual.receipts[0]!.json()).toMatchObject({ outcome: 'accepted', trigger: 'A01' });
    expect(familyOf(mutual.receiver.received[0]!.text)).toBe('Family-0');

    const anonymous = await startReferenceFeed(cleanups, [sourceFor(fhir, { tls: { ca: pki.ca } })], fast);
    await anonymous.publish(simpleEvent('created', fhir.reference('p0'), '1'));
    const waiting = await waitFor(() => subscriptionStatus(anonymous.daemon, anonymous.name)?.resolutionWaiting, { message: 'waiting without a client certificate' });
    expect(waiting.outcome).toBe('connection-error');
    expect(anonymous.receipts).toHaveLength(0);
  });

  it('403 then a stop while waiting: the stop is prompt and every held event goes back to the queue', async () => {
    const fhir = await fhirServer();
    const ids = patients(fhir, 3);
    fhir.status = 403;
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)], fast);
    for (const id of ids) await feed.publish(simpleEvent('updated', fhir.reference(id), '1'));
    const waiting = await waitFor(() => subscriptionStatus(feed.daemon, feed.name)?.resolutionWaiting, { message: 'waiting' });
    expect(waiting).toMatchObject({ outcome: 'unauthorized', reason: 'the FHIR server refused the credentials (403)' });
    const started = Date.now();
    await feed.daemon.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    await waitFor(async () => (await feed.broker.messageCount(`mllp.${feed.name}`)) === 3, { message: 'all 3 back in the queue' });
    expect(feed.receipts).toHaveLength(0);
    expect(feed.receiver.received).toHaveLength(0);
  });
});
