import { afterEach, describe, expect, it } from 'vitest';
import { TestFhirServer, fhirPatient, simpleEvent } from '../../helpers/fhir-server.js';
import { segmentField } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';
import { familyOf, sourceFor, startReferenceFeed, type Cleanups } from './support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function linkEvent(resource: string, version: string, references: string[]): Record<string, unknown> {
  return { messageType: 'EHealthReferenceEvent', messageVersion: '1.0', eventType: 'reference_added', resourceReference: resource, resourceVersion: version, resourceElement: 'link', references };
}

describe('EHealthReferenceEvent on Patient.link: a merge', () => {
  it('replaced-by on the old record and replaces on the survivor both send an A40 for the survivor with the old record in MRG', async () => {
    const fhir = await TestFhirServer.start();
    cleanups.push(() => fhir.close());
    fhir.put(fhirPatient('keep', 'Survivor'));
    fhir.put(fhirPatient('old', 'Retired'));
    // The old record's version 2 points at the survivor; the survivor's version 2 names the old record.
    const oldV2 = fhir.put(fhirPatient('old', 'Retired', { active: false, link: [{ other: { reference: 'Patient/keep' }, type: 'replaced-by' }] }));
    const keepV2 = fhir.put(fhirPatient('keep', 'Survivor', { link: [{ other: { reference: fhir.reference('old') }, type: 'replaces' }] }));
    fhir.put(fhirPatient('twin', 'Twin', { link: [{ other: { reference: 'Patient/keep' }, type: 'seealso' }] }));
    fhir.put(fhirPatient('after', 'After-Merge'));
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)], { lanes: 4 });
    await feed.publish(linkEvent(fhir.reference('old'), oldV2, [fhir.reference('keep')]), { routingKey: 'patient.merge' });
    await feed.publish(linkEvent(fhir.reference('keep'), keepV2, [fhir.reference('old')]), { routingKey: 'patient.merge' });
    await feed.publish(linkEvent(fhir.reference('twin'), '1', [fhir.reference('keep')]), { routingKey: 'patient.merge' });
    await feed.publish(simpleEvent('created', fhir.reference('after'), '1'));

    await waitFor(() => feed.receipts.length === 4, { message: '4 receipts' });
    // Receipts of events settled without sending (filtered) may come before the ACKs of earlier ones.
    const byReference = Object.fromEntries(feed.receipts.map((receipt) => [receipt.json().reference, [receipt.json().outcome, receipt.json().trigger]]));
    expect(byReference).toEqual({
      [`${fhir.reference('old')}/_history/2`]: ['accepted', 'A40'],
      [`${fhir.reference('keep')}/_history/2`]: ['accepted', 'A40'],
      [`${fhir.reference('twin')}/_history/1`]: ['filtered', null],
      [`${fhir.reference('after')}/_history/1`]: ['accepted', 'A01'],
    });
    const [first, second, third] = feed.receiver.received;
    for (const message of [first!, second!]) {
      expect(message.trigger).toBe('A40');
      expect(familyOf(message.text)).toBe('Survivor');
      expect(segmentField(message.text, 'PID', 3)).toMatch(/^MRN-keep\^/);
      expect(segmentField(message.text, 'MRG', 1)).toMatch(/^MRN-old\^/);
    }
    // The merge is a barrier: the event after it goes out after it, whatever the lanes.
    expect(familyOf(third!.text)).toBe('After-Merge');
    // The named version of the resource, the current version of the linked records (read ahead, in any order).
    expect(fhir.reads().sort()).toEqual(['Patient/after/_history/1', 'Patient/keep', 'Patient/keep/_history/2', 'Patient/old', 'Patient/old/_history/2', 'Patient/twin/_history/1']);
  });

  it('dead-letters a link event whose Patient version has no such link, and one whose linked Patient is outside the sources', async () => {
    const fhir = await TestFhirServer.start();
    cleanups.push(() => fhir.close());
    fhir.put(fhirPatient('lonely', 'Lonely'));
    const feed = await startReferenceFeed(cleanups, [sourceFor(fhir)]);
    await feed.publish(linkEvent(fhir.reference('lonely'), '1', [fhir.reference('nobody')]), { routingKey: 'patient.merge' });
    await feed.publish(linkEvent(fhir.reference('lonely'), '1', ['https://elsewhere.example.org/fhir/Patient/1']), { routingKey: 'patient.merge' });
    await waitFor(() => feed.receipts.length === 2, { message: '2 receipts' });
    const letters = await waitFor(async () => {
      const drained = await feed.deadLetters();
      return drained.length === 2 ? drained : undefined;
    });
    expect(letters.map((letter) => letter.headers['x-mllp-reason'])).toEqual([
      'the Patient version read has no link to a Patient the event names',
      'references: a linked Patient matches no configured fhirSources baseUrl (the daemon reads no other URL)',
    ]);
    expect(fhir.reads()).toEqual(['Patient/lonely/_history/1']);
  });
});
