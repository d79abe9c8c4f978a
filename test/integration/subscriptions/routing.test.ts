import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, uniqueName } from '../../helpers/broker.js';
import { subscriptionEntry } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { dayYearsAgo, messageType, outcomeCounts, patientIdOf, receiptsOf, subscriptionStatuses, utcDay, openBroker as openSubscriptionsBroker, startReceiver, startSubscriptions } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * Several subscriptions on one stream of events: routing by `events` (queue bindings), by
 * `when` (When Criteria, evaluated per subscription), bounce prevention, ages and array paths.
 * Real RabbitMQ, real MLLP sockets; every test has its own exchanges and subscription names.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

type Event = Record<string, unknown> & { id: string; type: string; patient: Record<string, unknown>; source?: { application?: string; facility?: string }; replaced?: unknown[] };

const openBroker = (prefix: string) => openSubscriptionsBroker(prefix, cleanups);
const receiver = () => startReceiver(cleanups);
const startDaemon = (broker: TestBroker, subscriptions: Array<Record<string, unknown>>) => startSubscriptions(broker, subscriptions, cleanups);

const TRIGGER_OF: Record<string, { Client: string | null; Server: string | null; structure: string }> = {
  create: { Client: 'A01', Server: 'A01', structure: 'ADT_A01' },
  update: { Client: 'A08', Server: 'A08', structure: 'ADT_A01' },
  merge: { Client: 'A40', Server: 'A40', structure: 'ADT_A39' },
  delete: { Client: null, Server: 'A38', structure: 'ADT_A38' },
  unmerge: { Client: null, Server: null, structure: '' },
};

/** What a receiver should get for an event: one message per replaced record for merges. */
function expectedMessages(event: Event, sendAs: 'Client' | 'Server'): Array<{ patientId: string; type: string }> {
  const trigger = TRIGGER_OF[event.type]![sendAs];
  if (!trigger) return [];
  const count = event.type === 'merge' ? (event.replaced?.length ?? 0) : 1;
  const patientId = (event.patient.identifier as Array<{ value: string }>)[0]!.value;
  return Array.from({ length: count }, () => ({ patientId, type: `ADT^${trigger}^${TRIGGER_OF[event.type]!.structure}` }));
}

function got(receiver: ScriptedReceiver): Array<{ patientId: string | undefined; type: string | undefined }> {
  return receiver.received.map((message) => ({ patientId: patientIdOf(message.text), type: messageType(message.text) }));
}

/**
 * A stream of 30 events: every type, every gender (and none), changes made by the
 * application the billing system itself is (bounce prevention), events without a `source`
 * and with a `source` without `application`. The last event is taken by every subscription.
 */
function mixedStream(): Event[] {
  const types = ['create', 'update', 'create', 'merge', 'update', 'delete', 'create', 'unmerge', 'update', 'create'];
  const genders = ['female', 'male', 'other', 'unknown', undefined, 'female', 'male'];
  const events: Event[] = [];
  for (let i = 0; i < 30; i++) {
    const type = types[i % types.length]!;
    const patientId = `PAT-R${String(i).padStart(3, '0')}`;
    const event = patientEvent({ type, patientId }) as Event;
    const gender = genders[i % genders.length];
    if (gender === undefined) delete event.patient.gender;
    else event.patient.gender = gender;
    if (i % 6 === 5) delete event.source;
    else if (i % 11 === 3) event.source = { facility: 'ACME_HOSP' };
    else if (i % 4 === 1) event.source = { application: 'APP_THAT_SENDS_STUFF', facility: 'BILLING' };
    if (i === 3) {
      // A merge of two records: one A40 per replaced record.
      event.replaced = [
        { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: `${patientId}-OLD1` }] },
        { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: `${patientId}-OLD2` }] },
      ];
    }
    events.push(event);
  }
  // The sentinel: a create every subscription delivers. Its receipt arriving last (per
  // subscription) proves every earlier receipt of that subscription has arrived too, since
  // each runner publishes its receipts on one channel in settlement order.
  events[29] = patientEvent({ type: 'create', patientId: 'PAT-R029' }) as Event;
  return events;
}

describe('subscriptions: many receivers, one stream', () => {
  it('routes one stream of 30 mixed events to pix, lab and billing by events, when and bounce prevention', async () => {
    const { broker, receipts } = await openBroker('subs-route');
    const [pixReceiver, labReceiver, billingReceiver] = await Promise.all([receiver(), receiver(), receiver()]);
    const pix = uniqueName('pix');
    const lab = uniqueName('lab');
    const billing = uniqueName('billing');
    const daemon = await startDaemon(broker, [
      subscriptionEntry(pix, pixReceiver.port, {
        description: 'PIX feed to the regional HIE',
        supportContact: 'hie-ops@example.org',
        events: ['create', 'update', 'merge'],
        settings: { MSH34: 'ACME_EHR|ACME_HOSP', MSH56: 'PIX_MGR|REGION_HIE', SendAs: 'Client' },
      }),
      subscriptionEntry(lab, labReceiver.port, {
        events: ['create', 'update'],
        when: ['patient.gender=female|other'],
        settings: { MSH34: 'ACME_EHR|ACME_HOSP', SendAs: 'Client' },
      }),
      subscriptionEntry(billing, billingReceiver.port, {
        when: ['source.application=!APP_THAT_SENDS_STUFF'],
        settings: { MSH34: 'ACME_EHR|ACME_HOSP', SendAs: 'Server' },
      }),
    ]);

    const events = mixedStream();
    await broker.publishAll(events);

    // Independent oracle of what each subscription does with each event.
    const pixTakes = (event: Event) => ['create', 'update', 'merge'].includes(event.type);
    const labTakes = (event: Event) => ['create', 'update'].includes(event.type);
    const labMatches = (event: Event) => event.patient.gender === 'female' || event.patient.gender === 'other';
    const billingMatches = (event: Event) => event.source?.application !== 'APP_THAT_SENDS_STUFF';
    const expectedOutcomes = {
      [pix]: events.filter(pixTakes).map((event) => ({ eventId: event.id, outcome: 'accepted' })),
      [lab]: events.filter(labTakes).map((event) => ({ eventId: event.id, outcome: labMatches(event) ? 'accepted' : 'filtered' })),
      [billing]: events.map((event) => ({
        eventId: event.id,
        outcome: !billingMatches(event) ? 'filtered' : event.type === 'unmerge' ? 'skipped' : 'accepted',
      })),
    };
    const sentinel = events[events.length - 1]!.id;
    for (const name of [pix, lab, billing]) {
      await waitFor(() => receiptsOf(receipts, name).some((receipt) => receipt.eventId === sentinel), { message: `${name}: sentinel receipt` });
    }

    const publishIndex = new Map(events.map((event, index) => [event.id, index]));
    const eventById = new Map(events.map((event) => [event.id, event]));
    const byPublishOrder = (list: Array<{ eventId: string | null; outcome: string }>) =>
      [...list].sort((a, b) => publishIndex.get(a.eventId!)! - publishIndex.get(b.eventId!)!).map(({ eventId, outcome }) => ({ eventId, outcome }));
    const summary: Record<string, Record<string, number>> = {};
    for (const name of [pix, lab, billing]) {
      const mine = receiptsOf(receipts, name);
      // Exactly one receipt per event that reached the queue, none for types not bound to it.
      expect(byPublishOrder(mine)).toEqual(expectedOutcomes[name]);
      for (const receipt of mine) {
        expect(receipt.routingKey).toBe(`${name}.${receipt.outcome}`);
        expect(receipt.subscription).toBe(name);
      }
      // Accepted events are settled in publish order (one lane), each after its AA.
      const accepted = mine.filter((receipt) => receipt.outcome === 'accepted');
      expect(accepted.map((receipt) => receipt.eventId)).toEqual(expectedOutcomes[name]!.filter((o) => o.outcome === 'accepted').map((o) => o.eventId));
      // `attempts` counts the sends over all of an event's messages (2 for the merge of two
      // records); controlId and trigger name the last message sent.
      const sendAs = name === billing ? 'Server' : 'Client';
      for (const receipt of accepted) {
        const sent = expectedMessages(eventById.get(receipt.eventId!)!, sendAs);
        expect(receipt).toMatchObject({ ackCode: 'AA', attempts: sent.length, trigger: sent[sent.length - 1]!.type.split('^')[1] });
      }
      for (const receipt of mine.filter((r) => r.outcome !== 'accepted')) expect(receipt).toMatchObject({ controlId: null, trigger: null, attempts: 0 });
      summary[name.replace(/-[0-9a-f]+$/, '')] = outcomeCounts(mine);
    }

    // What each receiver got, in publish order, with the right trigger.
    expect(got(pixReceiver)).toEqual(events.filter(pixTakes).flatMap((event) => expectedMessages(event, 'Client')));
    expect(got(labReceiver)).toEqual(events.filter((event) => labTakes(event) && labMatches(event)).flatMap((event) => expectedMessages(event, 'Client')));
    expect(got(billingReceiver)).toEqual(events.filter(billingMatches).flatMap((event) => expectedMessages(event, 'Server')));
    // Each accepted receipt names the MSH-10 of the last message the receiver got for that event.
    for (const [name, got, sendAs] of [[pix, pixReceiver, 'Client'], [lab, labReceiver, 'Client'], [billing, billingReceiver, 'Server']] as const) {
      let sentSoFar = 0;
      const lastControlIds = receiptsOf(receipts, name)
        .filter((receipt) => receipt.outcome === 'accepted')
        .map((receipt) => {
          sentSoFar += expectedMessages(eventById.get(receipt.eventId!)!, sendAs).length;
          return { eventId: receipt.eventId, controlId: got.received[sentSoFar - 1]?.controlId };
        });
      expect(receiptsOf(receipts, name).filter((receipt) => receipt.outcome === 'accepted').map(({ eventId, controlId }) => ({ eventId, controlId }))).toEqual(lastControlIds);
      expect(sentSoFar).toBe(got.received.length);
    }
    // Bounce prevention: nothing made by APP_THAT_SENDS_STUFF went back to billing.
    const bounced = new Set(events.filter((event) => !billingMatches(event)).map((event) => (event.patient.identifier as Array<{ value: string }>)[0]!.value));
    expect(billingReceiver.received.filter((message) => bounced.has(patientIdOf(message.text)!))).toEqual([]);
    // The merge of two records became two A40 on pix and billing.
    expect(pixReceiver.received.filter((message) => patientIdOf(message.text) === 'PAT-R003').map((message) => messageType(message.text))).toEqual(['ADT^A40^ADT_A39', 'ADT^A40^ADT_A39']);

    // The counts this stream must produce (documented in the report).
    expect(summary).toEqual({
      pix: { accepted: events.filter(pixTakes).length },
      lab: outcomeCounts(expectedOutcomes[lab]!),
      billing: outcomeCounts(expectedOutcomes[billing]!),
    });
    expect(summary.lab!.filtered).toBeGreaterThan(0);
    expect(summary.billing!.filtered).toBeGreaterThan(0);
    expect(summary.billing!.skipped).toBeGreaterThan(0);
    console.info(`three subscriptions, one stream of ${events.length} events: ${JSON.stringify(summary)}`);

    // Everything is acknowledged: the queues are empty and nothing is in flight.
    for (const name of [pix, lab, billing]) {
      await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: `${name}: queue empty` });
    }
    expect(subscriptionStatuses(daemon).map((status) => status.eventsInFlight)).toEqual([0, 0, 0]);
    // Isolated streams: one connection per receiver, kept for the whole stream.
    expect([pixReceiver.connections, labReceiver.connections, billingReceiver.connections]).toEqual([1, 1, 1]);
  });

  it('routes by age: patient.birthDate=:(age)<P18Y delivers minors only', async () => {
    const { broker, receipts } = await openBroker('subs-age');
    const minorsReceiver = await receiver();
    const minors = uniqueName('minors');
    await startDaemon(broker, [subscriptionEntry(minors, minorsReceiver.port, { events: ['create'], when: ['patient.birthDate=:(age)<P18Y'] })]);

    const today = new Date();
    const cases: Array<{ label: string; birthDate: string | undefined; minor: boolean; boundary?: boolean }> = [
      { label: 'newborn', birthDate: utcDay(today), minor: true },
      { label: '10 years', birthDate: dayYearsAgo(today, 10), minor: true },
      { label: '17 years', birthDate: dayYearsAgo(today, 17), minor: true },
      { label: '18 tomorrow', birthDate: dayYearsAgo(today, 18, -1), minor: true, boundary: true },
      { label: '18 today', birthDate: dayYearsAgo(today, 18), minor: false, boundary: true },
      { label: '18 yesterday', birthDate: dayYearsAgo(today, 18, 1), minor: false },
      { label: '40 years', birthDate: dayYearsAgo(today, 40), minor: false },
      { label: 'year only, 5 years', birthDate: String(today.getUTCFullYear() - 5), minor: true },
      { label: 'year and month, 12 years', birthDate: dayYearsAgo(today, 12).slice(0, 7), minor: true },
      { label: 'year only, 30 years', birthDate: String(today.getUTCFullYear() - 30), minor: false },
      { label: 'no birth date', birthDate: undefined, minor: false },
    ];
    const events = cases.map((entry, index) => {
      const event = patientEvent({ type: 'create', patientId: `PAT-AGE${index}` }) as Event;
      if (entry.birthDate === undefined) delete event.patient.birthDate;
      else event.patient.birthDate = entry.birthDate;
      return event;
    });
    await broker.publishAll(events);
    await waitFor(() => receiptsOf(receipts, minors).length === events.length, { message: 'a receipt per event' });
    const dayChanged = utcDay(new Date()) !== utcDay(today);

    const outcomeOf = new Map(receiptsOf(receipts, minors).map((receipt) => [receipt.eventId, receipt.outcome]));
    cases.forEach((entry, index) => {
      // Across midnight UTC the anniversary cases may legitimately flip; all others may not.
      if (dayChanged && entry.boundary) return;
      expect({ label: entry.label, outcome: outcomeOf.get(events[index]!.id) }).toEqual({ label: entry.label, outcome: entry.minor ? 'accepted' : 'filtered' });
    });
    const expectedIds = cases.flatMap((entry, index) => (entry.minor && !(dayChanged && entry.boundary) ? [`PAT-AGE${index}`] : []));
    const receivedIds = minorsReceiver.received.map((message) => patientIdOf(message.text));
    expect(receivedIds.filter((id) => !(dayChanged && ['PAT-AGE3', 'PAT-AGE4'].includes(id!)))).toEqual(expectedIds);
    if (!dayChanged) expect(outcomeCounts(receiptsOf(receipts, minors))).toEqual({ accepted: 6, filtered: 5 });
  });

  it('matches an array path: patient.identifier.system=urn:oid:9.9.9 finds the second identifier', async () => {
    const { broker, receipts } = await openBroker('subs-ident');
    const pixReceiver = await receiver();
    const name = uniqueName('ident');
    await startDaemon(broker, [subscriptionEntry(name, pixReceiver.port, { when: ['patient.identifier.system=urn:oid:9.9.9'] })]);

    const withSecond = patientEvent({ type: 'create', patientId: 'PAT-ID1' }) as Event;
    (withSecond.patient.identifier as unknown[]).push({ system: 'urn:oid:9.9.9', value: 'NINE-1' });
    const onlyFirst = patientEvent({ type: 'create', patientId: 'PAT-ID2' }) as Event;
    const prefixOnly = patientEvent({ type: 'update', patientId: 'PAT-ID3' }) as Event;
    (prefixOnly.patient.identifier as unknown[]).push({ system: 'urn:oid:9.9.9.1', value: 'NINE-3' });
    const thirdOfThree = patientEvent({ type: 'update', patientId: 'PAT-ID4' }) as Event;
    (thirdOfThree.patient.identifier as unknown[]).push({ value: 'NO-SYSTEM' }, { system: 'urn:oid:9.9.9', value: 'NINE-4' });
    const elsewhere = patientEvent({ type: 'create', patientId: 'PAT-ID5' }) as Event;
    // The system sits on another path: does not count.
    elsewhere.patient.managingOrganization = { identifier: { system: 'urn:oid:9.9.9', value: 'ORG' } };
    const events = [withSecond, onlyFirst, prefixOnly, thirdOfThree, elsewhere];
    await broker.publishAll(events);

    await waitFor(() => receiptsOf(receipts, name).length === events.length, { message: 'a receipt per event' });
    const outcomeOf = new Map(receiptsOf(receipts, name).map((receipt) => [receipt.eventId, receipt.outcome]));
    expect(events.map((event) => outcomeOf.get(event.id))).toEqual(['accepted', 'filtered', 'filtered', 'accepted', 'filtered']);
    expect(pixReceiver.received.map((message) => [patientIdOf(message.text), messageType(message.text)])).toEqual([
      ['PAT-ID1', 'ADT^A01^ADT_A01'],
      ['PAT-ID4', 'ADT^A08^ADT_A01'],
    ]);
    // Both identifiers of the matching patient went out in PID-3.
    expect(pixReceiver.received[0]!.text).toMatch(/PID\|1\|\|PAT-ID1\^[^|]*~NINE-1\^/);
  });
});
