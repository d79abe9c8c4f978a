import { afterEach, describe, expect, it } from 'vitest';
import { TestFhirServer, fhirPatient, simpleEvent, simpleEventHeaders } from '../../helpers/fhir-server.js';
import { subscriptionStatus } from '../../helpers/subscriptions.js';
import { metricValue, scrape } from '../../helpers/metrics.js';
import { waitFor } from '../../helpers/wait.js';
import { familyOf, sourceFor, startReferenceFeed, type Cleanups } from './support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function fhirServer(): Promise<TestFhirServer> {
  const server = await TestFhirServer.start();
  cleanups.push(() => server.close());
  return server;
}

describe('reference events: read the Patient from the FHIR server', () => {
  it('sends A01, A08 and A38 built from the versions the events name, read with vread and Accept: application/fhir+json', async () => {
    const fhir = await fhirServer();
    const v1 = fhir.put(fhirPatient('10907', 'Version-One'));
    const v2 = fhir.put(fhirPatient('10907', 'Version-Two'));
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)]);
    const reference = fhir.reference('10907');
    await feed.publish(simpleEvent('created', reference, v1), { headers: simpleEventHeaders('created', reference) });
    await feed.publish(simpleEvent('updated', reference, v2));
    fhir.deleted.add('10907');
    await feed.publish(simpleEvent('deleted', reference, v2));

    await waitFor(() => feed.receipts.length === 3, { message: '3 receipts' });
    expect(feed.receiver.received.map((message) => message.trigger)).toEqual(['A01', 'A08', 'A38']);
    expect(feed.receiver.received.map((message) => familyOf(message.text))).toEqual(['Version-One', 'Version-Two', 'Version-Two']);
    expect(feed.receiver.received[0]!.text).toContain('MRN-10907^^^ACME_MPI&1.2.3.4.5.6.1&ISO');
    // EVN-6 is the version's meta.lastUpdated.
    expect(feed.receiver.received[0]!.text).toMatch(/\rEVN\|\|\d{14}[+-]\d{4}\|\|\|\|20260315130000(\.000)?\+0000\r/);
    expect(fhir.reads()).toEqual(['Patient/10907/_history/1', 'Patient/10907/_history/2', 'Patient/10907/_history/2']);
    expect(fhir.requests.every((request) => request.accept === 'application/fhir+json')).toBe(true);
    const receipts = feed.receipts.map((receipt) => receipt.json());
    expect(receipts.map((receipt) => receipt.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    // The receipt names the reference, not the data; the event id is derived (no message_id), stable.
    expect(receipts[0]).toMatchObject({ reference: `${reference}/_history/1`, trigger: 'A01' });
    expect(String(receipts[0]!.eventId)).toMatch(/^ref-[0-9a-f]{24}$/);
    expect(JSON.stringify(receipts)).not.toContain('Version-');
    // No reference (URL with the patient's id) and no name in the logs.
    const logs = JSON.stringify(feed.daemon.logs);
    expect(logs).not.toContain('/Patient/10907');
    expect(logs).not.toContain('Version-One');
  });

  it('reads the current version when the event names none, and lets When Criteria see the fetched Patient', async () => {
    const fhir = await fhirServer();
    fhir.put(fhirPatient('m1', 'Male-Patient', { gender: 'male' }));
    fhir.put(fhirPatient('f1', 'Female-Old'));
    fhir.put(fhirPatient('f1', 'Female-Current'));
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)], { when: ['patient.gender=female'] });
    await feed.publish(simpleEvent('updated', fhir.reference('m1')), { messageId: 'evt-m1' });
    await feed.publish(simpleEvent('updated', fhir.reference('f1')), { messageId: 'evt-f1' });
    await waitFor(() => feed.receipts.length === 2, { message: '2 receipts' });
    expect(feed.receipts.map((receipt) => [receipt.json().eventId, receipt.json().outcome])).toEqual([
      ['evt-m1', 'filtered'],
      ['evt-f1', 'accepted'],
    ]);
    expect(feed.receiver.received.map((message) => familyOf(message.text))).toEqual(['Female-Current']);
    expect(fhir.reads()).toEqual(['Patient/m1', 'Patient/f1']);
  });

  it('sends an A38 from the reference alone when the server no longer has the deleted Patient', async () => {
    const fhir = await fhirServer();
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)], {}, { hl7: { assigningAuthorities: { [`${fhir.baseUrl}Patient`]: 'FHIR_SRV' } } });
    await feed.publish(simpleEvent('deleted', fhir.reference('gone-1'), '4'));
    await waitFor(() => feed.receipts.length === 1, { message: 'receipt' });
    expect(feed.receipts[0]!.json()).toMatchObject({ outcome: 'accepted', trigger: 'A38' });
    expect(feed.receiver.received[0]!.text).toMatch(/\rPID\|1\|\|gone-1\^\^\^FHIR_SRV/);
  });

  it('dead-letters a created Patient the server does not have (404) with a reason that names no URL, and goes on', async () => {
    const fhir = await fhirServer();
    fhir.put(fhirPatient('p2', 'Second'));
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)]);
    await feed.publish(simpleEvent('created', fhir.reference('missing-7'), '1'));
    await feed.publish(simpleEvent('created', fhir.reference('p2'), '1'));
    await waitFor(() => feed.receipts.length === 2, { message: '2 receipts' });
    expect(feed.receipts.map((receipt) => receipt.json().outcome)).toEqual(['invalid-event', 'accepted']);
    expect(feed.receipts[0]!.json().reference).toBe(`${fhir.reference('missing-7')}/_history/1`);
    const letters = await waitFor(async () => {
      const drained = await feed.deadLetters();
      return drained.length ? drained : undefined;
    });
    expect(letters[0]!.headers['x-mllp-outcome']).toBe('invalid-event');
    expect(letters[0]!.headers['x-mllp-reason']).toBe('the FHIR server has no such Patient version (404)');
    expect(letters[0]!.json()).toEqual(simpleEvent('created', fhir.reference('missing-7'), '1'));
    const metrics = await scrape(feed.daemon.daemon.port!);
    expect(metricValue(metrics.body, 'mllp_fhir_fetches_total', { subscription: feed.name, outcome: 'not-found' })).toBe(1);
    expect(metricValue(metrics.body, 'mllp_fhir_fetches_total', { subscription: feed.name, outcome: 'found' })).toBe(1);
    expect(metricValue(metrics.body, 'mllp_fhir_fetch_seconds_count', { subscription: feed.name })).toBe(2);
  });

  it('never reads a URL outside the configured sources: a disallowed host is dead-lettered without a request', async () => {
    const fhir = await fhirServer();
    fhir.put(fhirPatient('ok-1', 'Allowed'));
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)]);
    const elsewhere = `http://localhost:${fhir.port}/4_0_0/Patient/ok-1`; // same server, another name: not configured
    await feed.publish(simpleEvent('created', elsewhere, '1'));
    await feed.publish(simpleEvent('created', `${fhir.baseUrl}../admin/Patient/ok-1`, '1'));
    await feed.publish(simpleEvent('created', fhir.reference('ok-1'), '1'));
    await waitFor(() => feed.receipts.length === 3, { message: '3 receipts' });
    expect(feed.receipts.map((receipt) => receipt.json().outcome)).toEqual(['invalid-event', 'invalid-event', 'accepted']);
    expect(fhir.reads()).toEqual(['Patient/ok-1/_history/1']);
    const letters = await feed.deadLetters();
    expect(letters.map((letter) => letter.headers['x-mllp-reason'])).toEqual([
      'resourceReference matches no configured fhirSources baseUrl (the daemon reads no other URL)',
      'resourceReference matches no configured fhirSources baseUrl (the daemon reads no other URL)',
    ]);
  });

  it("dead-letters the eHealth Event Model's sample event (a ServiceRequest, not a Patient) and an unmerge (reference_removed on Patient.link)", async () => {
    const fhir = await fhirServer();
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)]);
    // Verbatim from shared/reference/docs/ehealth-dk-event-model.txt, with its message properties.
    const sample = {
      messageType: 'EHealthSimpleEvent',
      messageVersion: '1.0',
      eventType: 'created',
      resourceReference: 'http://careplan.inttest.ehealth.sundhed.dk/fhir/ServiceRequest/68',
      resourceVersion: '1',
    };
    await feed.publish(sample, {
      messageId: 'ID:careplan-6b7f84d69d-sdpkp-39827-1569566074696-1:2:66:3:1',
      headers: {
        messageversion: '1.0',
        messagetype: 'EHealthSimpleEvent',
        patientreference: 'http://patient.inttest.ehealth.sundhed.dk/fhir/Patient/10907',
        resourcereference: 'http://careplan.inttest.ehealth.sundhed.dk/fhir/ServiceRequest/68',
        resourceprofile: 'ehealth-servicerequest',
        eventtype: 'created',
        messageclass: 'com.systematic.ehealth.event.event.EHealthSimpleEvent',
      },
    });
    await feed.publish(
      { messageType: 'EHealthReferenceEvent', messageVersion: '1.0', eventType: 'reference_removed', resourceReference: fhir.reference('a'), resourceVersion: '2', resourceElement: 'link', references: [fhir.reference('b')] },
      { routingKey: 'patient.unmerge' },
    );
    await waitFor(() => feed.receipts.length === 2, { message: '2 receipts' });
    const receipts = feed.receipts.map((receipt) => receipt.json());
    expect(receipts.map((receipt) => [receipt.eventId, receipt.outcome])).toEqual([
      ['ID:careplan-6b7f84d69d-sdpkp-39827-1569566074696-1:2:66:3:1', 'invalid-event'],
      [expect.stringMatching(/^ref-/), 'invalid-event'],
    ]);
    const letters = await feed.deadLetters();
    expect(letters.map((letter) => letter.headers['x-mllp-reason'])).toEqual([
      'resourceReference names a ServiceRequest, not a Patient; only Patient events are taken',
      'EHealthReferenceEvent reference_removed on Patient.link is not turned into an unmerge; publish unmerges as envelope events',
    ]);
    expect(fhir.requests).toHaveLength(0);
    expect(subscriptionStatus(feed.daemon, feed.name)?.problems).toEqual([]);
  });
});
