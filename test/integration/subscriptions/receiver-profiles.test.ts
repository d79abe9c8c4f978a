import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, receiptOf, startDelivery, takeDeadLetters, waitReceipts } from '../../helpers/delivery.js';
import { patientEvent } from '../../helpers/events.js';
import { segmentField } from '../../helpers/subscriptions.js';
import { startMedplumReceiver } from '../../helpers/third-party-receivers.js';
import { waitFor } from '../../helpers/wait.js';
import { assertValidHl7 } from '../../helpers/hl7-validator/index.js';
import { configFor, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { loadConfig } from '../../../src/config/load-config.js';

/**
 * Receiver profiles end to end (README "Fitting a receiver"): a named profile shapes what a
 * real third-party receiver (@medplum/hl7 4.5.2's Hl7Server, original mode) gets: which
 * identifiers, in which order and fields, a constant and a template in fields, a Z-segment.
 * An event the profile leaves without a PID-3 is dead-lettered with the rule's name.
 */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const MPI = 'urn:oid:1.2.3.4.5.6.1';
const LOCAL = 'urn:oid:1.2.3.4.5.6.2';
const NATID = 'urn:oid:1.2.3.4.5.6.3';

const LEGACY_PROFILE = {
  settings: { Version: '2.3.1' },
  identifiers: {
    systems: [LOCAL, MPI],
    authorities: { [MPI]: { namespace: 'ACME_MPI', typeCode: 'MR' } },
    placement: { 'PID-2': NATID },
  },
  fields: { 'PV1-3': 'LAB_WARD', 'EVN-5': '', 'PV1-19': '{visit.number}' },
  segments: { add: [{ after: 'PID', segment: 'ZPI', fields: { '1': '{patient.id}', '2': '{source.facility}' } }] },
};

function event(identifiers: Array<{ system: string; value: string }>): Record<string, unknown> {
  const base = patientEvent({ type: 'create' });
  return {
    ...base,
    source: { application: 'ACME_EHR', facility: 'ACME|HOSP', user: 'jdoe' },
    visit: { number: 'VN-9' },
    patient: { ...(base.patient as object), id: 'p-7', identifier: identifiers.map((i) => ({ ...i, assigner: { display: 'EVENT_NS' } })) },
  };
}

describe('a receiver profile against a real receiver', () => {
  it('sends the profile-shaped message: identifiers selected, ordered and placed, fields set, a Z-segment added', async () => {
    const receiver = await startMedplumReceiver({ enhanced: false, answer: () => ({ code: 'AA' }) });
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({
      prefix: 'profile',
      port: receiver.port,
      cleanups,
      entry: { profile: 'legacy', fields: { 'PV1-3': 'LAB_2' } },
      extra: { profiles: { legacy: LEGACY_PROFILE } },
    });
    const sent = event([
      { system: MPI, value: 'PAT-1' },
      { system: NATID, value: '0101901234' },
      { system: 'urn:oid:9.9.9', value: 'OTHER' },
      { system: LOCAL, value: 'L-1' },
    ]);
    const noneLeft = event([{ system: 'urn:oid:9.9.9', value: 'OTHER' }]);
    await harness.broker.publish(sent);
    await harness.broker.publish(noneLeft);

    const [letter] = await takeDeadLetters(harness, 1);
    expect(letter!.headers).toMatchObject({ 'x-mllp-outcome': 'invalid-event', 'x-mllp-reason': 'identifiers.systems: no identifier of the patient is left for PID-3' });
    await waitReceipts(harness, 2);
    expect(receiptOf(harness, String(sent.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA' });
    await waitFor(() => receiver.received.length === 1, { message: 'one message at the receiver' });

    const text = receiver.received[0]!.text;
    assertValidHl7(text);
    expect(segmentField(text, 'MSH', 12)).toBe('2.3.1');
    // LOCAL first (the profile's order), then MPI with the profile's HD-1 and type; NATID in PID-2; the unlisted system left out.
    expect(segmentField(text, 'PID', 3)).toBe('L-1^^^EVENT_NS&1.2.3.4.5.6.2&ISO~PAT-1^^^ACME_MPI&1.2.3.4.5.6.1&ISO^MR');
    expect(segmentField(text, 'PID', 2)).toBe('0101901234^^^EVENT_NS&1.2.3.4.5.6.3&ISO');
    expect(text).not.toContain('OTHER');
    expect(segmentField(text, 'PV1', 3)).toBe('LAB_2'); // the subscription's own value wins over the profile's
    expect(segmentField(text, 'PV1', 19)).toBe('VN-9');
    expect(segmentField(text, 'EVN', 5)).toBe('');
    expect(text.split('\r').filter(Boolean).map((segment) => segment.slice(0, 3))).toEqual(['MSH', 'EVN', 'PID', 'ZPI', 'PV1']);
    expect(segmentField(text, 'ZPI', 1)).toBe('p-7');
    expect(segmentField(text, 'ZPI', 2)).toBe('ACME\\F\\HOSP'); // a template's value is escaped
  });

  it('a reload applies a changed profile to the subscriptions that use it, and leaves the others alone', async () => {
    const receiver = await startMedplumReceiver({ enhanced: false, answer: () => ({ code: 'AA' }) });
    cleanups.add(() => receiver.close());
    const profiles = (ward: string) => ({ lab: { fields: { 'PV1-3': ward } } });
    const harness = await startDelivery({ prefix: 'profile-reload', port: receiver.port, cleanups, entry: { profile: 'lab' }, extra: { profiles: profiles('WARD_A') } });
    await harness.broker.publish(patientEvent());
    await waitReceipts(harness, 1);

    const next = configFor(harness.broker.topology, [subscriptionEntry(harness.name, receiver.port, { profile: 'lab' })], { profiles: profiles('WARD_B') });
    const summary = await harness.daemon.daemon.reload(loadConfig({ configFile: writeConfig(next), env: {} }));
    expect(summary).toMatchObject({ changed: [harness.name], added: [], removed: [] });
    await harness.broker.publish(patientEvent());
    await waitReceipts(harness, 2);
    await waitFor(() => receiver.received.length === 2, { message: 'two messages at the receiver' });
    expect(receiver.received.map((message) => segmentField(message.text, 'PV1', 3))).toEqual(['WARD_A', 'WARD_B']);

    // The same profile again: nothing changed, nothing restarts.
    const same = await harness.daemon.daemon.reload(loadConfig({ configFile: writeConfig(next), env: {} }));
    expect(same).toMatchObject({ changed: [], unchanged: [harness.name] });
  });
});
