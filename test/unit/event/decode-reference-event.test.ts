import { describe, expect, it } from 'vitest';
import { decodeReferenceEvent } from '../../../src/event/decode-reference-event.js';

const REF = 'https://fhir.example.org/fhir/Patient/10907';

function decode(body: unknown, properties: { headers?: Record<string, unknown>; messageId?: string; timestamp?: number } = {}) {
  return decodeReferenceEvent(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), properties);
}

describe('decodeReferenceEvent', () => {
  it('reads an EHealthSimpleEvent for a Patient: created/updated/deleted -> create/update/delete', () => {
    for (const [eventType, type] of [['created', 'create'], ['updated', 'update'], ['deleted', 'delete']] as const) {
      const result = decode({ messageType: 'EHealthSimpleEvent', messageVersion: '1.0', eventType, resourceReference: REF, resourceVersion: '3' }, { messageId: `m-${eventType}`, timestamp: 1_700_000_000 });
      expect(result).toEqual({ kind: 'reference', event: { id: `m-${eventType}`, messageType: 'EHealthSimpleEvent', type, reference: REF, version: '3', publishedAt: 1_700_000_000_000 } });
    }
  });

  it('derives a stable event id from the facts when there is no message_id', () => {
    const body = { messageType: 'EHealthSimpleEvent', eventType: 'updated', resourceReference: REF, resourceVersion: '3' };
    const first = decode(body);
    const again = decode(body);
    const other = decode({ ...body, resourceVersion: '4' });
    expect(first.kind === 'reference' && first.event.id).toMatch(/^ref-[0-9a-f]{24}$/);
    expect(again).toEqual(first);
    expect(other.kind === 'reference' && other.event.id).not.toBe(first.kind === 'reference' && first.event.id);
  });

  it('takes the eHealth message properties (AMQP headers) where the body leaves a fact out; the body wins', () => {
    const headers = { messagetype: 'EHealthSimpleEvent', eventtype: 'created', resourcereference: REF, resourceversion: Buffer.from('2') };
    expect(decode({}, { headers })).toMatchObject({ kind: 'reference', event: { type: 'create', reference: REF, version: '2' } });
    expect(decode({ eventType: 'updated' }, { headers })).toMatchObject({ kind: 'reference', event: { type: 'update' } });
  });

  it('leaves envelope events (no messageType in body or headers) to the envelope decoder', () => {
    expect(decode({ id: 'e1', type: 'create', patient: {} })).toEqual({ kind: 'not-reference' });
    expect(decode('not json')).toEqual({ kind: 'not-reference' });
    // A patient whose data happens to hold the word is still an envelope event.
    expect(decode({ id: 'e1', type: 'create', patient: { name: [{ text: '"messageType"' }] } })).toEqual({ kind: 'not-reference' });
  });

  it('refuses with reasons that name fields, never values', () => {
    const cases: Array<[unknown, string]> = [
      [{ messageType: 'EHealthSimpleEvent', resourceReference: REF }, 'eventType is required'],
      [{ messageType: 'EHealthSimpleEvent', eventType: 'merged', resourceReference: REF }, 'eventType is not one of created, updated, deleted'],
      [{ messageType: 'EHealthSimpleEvent', eventType: 'created' }, 'resourceReference is required'],
      [{ messageType: 'EHealthSimpleEvent', eventType: 'created', resourceReference: 'Patient/10907' }, 'resourceReference must be an absolute URL ending in <type>/<id>'],
      [{ messageType: 'EHealthSimpleEvent', eventType: 'created', resourceReference: REF, resourceVersion: '3 4' }, 'resourceVersion must be a FHIR version id ([A-Za-z0-9.-], at most 64)'],
      [{ messageType: 'EHealthSimpleEvent', messageVersion: '2.0', eventType: 'created', resourceReference: REF }, 'messageVersion must be 1.x'],
      [{ messageType: 'SomethingElse', eventType: 'created', resourceReference: REF }, 'messageType is not one of EHealthSimpleEvent, EHealthReferenceEvent'],
      [
        { messageType: 'EHealthSimpleEvent', eventType: 'created', resourceReference: 'http://careplan.inttest.ehealth.sundhed.dk/fhir/ServiceRequest/68', resourceVersion: '1' },
        'resourceReference names a ServiceRequest, not a Patient; only Patient events are taken',
      ],
    ];
    for (const [body, reason] of cases) {
      const result = decode(body);
      expect(result).toMatchObject({ kind: 'invalid', reason });
      expect(JSON.stringify(result)).not.toContain('10907');
    }
    expect(decode('not json', { headers: { messagetype: 'EHealthSimpleEvent' } })).toMatchObject({ kind: 'invalid', reason: 'EHealthSimpleEvent body is not a JSON object' });
    const huge = JSON.stringify({ messageType: 'EHealthSimpleEvent', eventType: 'created', resourceReference: REF, padding: 'x'.repeat(70_000) });
    expect(decode(huge, { headers: { messagetype: 'EHealthSimpleEvent' } })).toMatchObject({ kind: 'invalid', reason: `reference event body is ${huge.length} bytes, over 65536` });
    // Without the header a large body goes to the envelope decoder (and its amqp.maxMessageBytes).
    expect(decode(huge)).toEqual({ kind: 'not-reference' });
  });

  it('EHealthReferenceEvent: reference_added on Patient.link is a merge; reference_removed is refused; other elements are no patient change', () => {
    const other = REF.replace('10907', '2');
    const link = { messageType: 'EHealthReferenceEvent', eventType: 'reference_added', resourceReference: REF, resourceVersion: '4', resourceElement: 'link', references: [other] };
    expect(decode(link, { messageId: 'm-link' })).toEqual({
      kind: 'reference',
      event: { id: 'm-link', messageType: 'EHealthReferenceEvent', type: 'merge', reference: REF, version: '4', linked: [other] },
    });
    expect(decode({ ...link, resourceElement: 'Patient.link' })).toMatchObject({ kind: 'reference', event: { type: 'merge' } });
    expect(decode({ ...link, eventType: 'reference_removed' })).toMatchObject({
      kind: 'invalid',
      reason: 'EHealthReferenceEvent reference_removed on Patient.link is not turned into an unmerge; publish unmerges as envelope events',
    });
    expect(decode({ ...link, eventType: 'linked' })).toMatchObject({ kind: 'invalid', reason: 'eventType is not one of reference_added, reference_removed' });
    for (const references of [[], undefined, ['https://fhir.example.org/fhir/Organization/1'], [7]]) {
      expect(decode({ ...link, references })).toMatchObject({ kind: 'invalid', reason: 'references must list at least one absolute Patient reference' });
    }
    expect(decode({ ...link, resourceElement: 'generalPractitioner' })).toMatchObject({ kind: 'ignored' });
    // Different linked records, different events.
    const first = decode(link);
    const second = decode({ ...link, references: [REF.replace('10907', '3')] });
    expect(first.kind === 'reference' && second.kind === 'reference' && first.event.id !== second.event.id).toBe(true);
  });
});
