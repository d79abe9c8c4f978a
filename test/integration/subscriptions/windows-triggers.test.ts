import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, DaemonProcess, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { messageType, outcomeCounts, patientIdOf, receiptsOf, stopProcess, openBroker as openSubscriptionsBroker, startReceiver, startSubscriptions } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';

/**
 * Delivery windows (notBefore / notAfter -> `expired`) and trigger tables (SendAs presets and
 * per-cell overrides, validated at load).
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

beforeAll(() => {
  if (!existsSync(join(PACKAGE_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` before the process tests');
});

const openBroker = (prefix: string) => openSubscriptionsBroker(prefix, cleanups);
const receiver = () => startReceiver(cleanups);
const startDaemon = (broker: TestBroker, subscriptions: Array<Record<string, unknown>>) => startSubscriptions(broker, subscriptions, cleanups);

/** One event of each type, for distinct patients. */
function oneOfEachType(prefix: string): Array<Record<string, unknown> & { id: string }> {
  return ['create', 'update', 'delete', 'merge', 'unmerge'].map(
    (type, index) => patientEvent({ type, patientId: `${prefix}${index}` }) as Record<string, unknown> & { id: string },
  );
}

const HOUR = 3_600_000;

describe('subscriptions: delivery windows', () => {
  it('acks every event as expired before notBefore and after notAfter, whatever its type or when, and sends nothing', async () => {
    const { broker, receipts } = await openBroker('subs-win-closed');
    const earlyReceiver = await receiver();
    const lateReceiver = await receiver();
    const early = uniqueName('early');
    const late = uniqueName('late');
    const now = Date.now();
    await startDaemon(broker, [
      // The window opens tomorrow. `when` would filter everything: the window is checked first.
      subscriptionEntry(early, earlyReceiver.port, { notBefore: new Date(now + 24 * HOUR).toISOString(), when: ['patient.gender=male'] }),
      // The window closed an hour ago.
      subscriptionEntry(late, lateReceiver.port, { notBefore: new Date(now - 48 * HOUR).toISOString(), notAfter: new Date(now - HOUR).toISOString() }),
    ]);
    const events = oneOfEachType('PAT-WC');
    await broker.publishAll(events);

    for (const name of [early, late]) {
      await waitFor(() => receiptsOf(receipts, name).length === events.length, { message: `${name}: a receipt per event` });
      const mine = receiptsOf(receipts, name);
      expect(mine.map((receipt) => receipt.eventId).sort()).toEqual(events.map((event) => event.id).sort());
      for (const receipt of mine) {
        expect(receipt.routingKey).toBe(`${name}.expired`);
        expect(receipt).toMatchObject({ outcome: 'expired', controlId: null, trigger: null, ackCode: null, attempts: 0 });
      }
      // Acked: the queue empties.
      await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: `${name}: queue empty` });
      // Nothing went to the dead-letter queue either.
      expect(await broker.messageCount(`mllp.${name}.dead`)).toBe(0);
    }
    // Nothing was sent; the receivers were never even connected to.
    expect(earlyReceiver.received).toEqual([]);
    expect(lateReceiver.received).toEqual([]);
    expect(earlyReceiver.connections + lateReceiver.connections).toBe(0);
  });

  it('delivers when the window contains now', async () => {
    const { broker, receipts } = await openBroker('subs-win-open');
    const openReceiver = await receiver();
    const open = uniqueName('open');
    const now = Date.now();
    await startDaemon(broker, [
      subscriptionEntry(open, openReceiver.port, { notBefore: new Date(now - HOUR).toISOString(), notAfter: new Date(now + 24 * HOUR).toISOString() }),
    ]);
    const events = oneOfEachType('PAT-WO');
    await broker.publishAll(events);

    await waitFor(() => receiptsOf(receipts, open).length === events.length, { message: 'a receipt per event' });
    const outcomeOf = new Map(receiptsOf(receipts, open).map((receipt) => [receipt.eventId, receipt.outcome]));
    // SendAs Server (subscriptionEntry's default): delete -> A38, unmerge skipped.
    expect(events.map((event) => outcomeOf.get(event.id))).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'skipped']);
    expect(openReceiver.received.map((message) => messageType(message.text))).toEqual(['ADT^A01^ADT_A01', 'ADT^A08^ADT_A01', 'ADT^A38^ADT_A38', 'ADT^A40^ADT_A39']);
    await waitFor(async () => (await broker.messageCount(`mllp.${open}`)) === 0, { message: 'queue empty' });
  });
});

describe('subscriptions: trigger tables', () => {
  it('applies a per-subscription override: create -> A04, update -> A31, delete -> skip; other cells keep the preset', async () => {
    const { broker, receipts } = await openBroker('subs-trig');
    const overriddenReceiver = await receiver();
    const presetReceiver = await receiver();
    const overridden = uniqueName('adt-a04');
    const preset = uniqueName('adt-preset');
    await startDaemon(broker, [
      subscriptionEntry(overridden, overriddenReceiver.port, { triggers: { create: 'A04', update: 'A31', delete: 'skip' } }),
      subscriptionEntry(preset, presetReceiver.port),
    ]);
    const events = oneOfEachType('PAT-TR');
    await broker.publishAll(events);

    for (const name of [overridden, preset]) await waitFor(() => receiptsOf(receipts, name).length === events.length, { message: `${name}: a receipt per event` });
    const outcomes = (name: string) => {
      const byId = new Map(receiptsOf(receipts, name).map((receipt) => [receipt.eventId, receipt]));
      return events.map((event) => [byId.get(event.id)!.outcome, byId.get(event.id)!.trigger]);
    };
    expect(outcomes(overridden)).toEqual([
      ['accepted', 'A04'],
      ['accepted', 'A31'],
      ['skipped', null],
      ['accepted', 'A40'],
      ['skipped', null],
    ]);
    expect(receiptsOf(receipts, overridden).find((receipt) => receipt.eventId === events[2]!.id)!.routingKey).toBe(`${overridden}.skipped`);
    expect(overriddenReceiver.received.map((message) => [patientIdOf(message.text), messageType(message.text)])).toEqual([
      ['PAT-TR0', 'ADT^A04^ADT_A01'],
      ['PAT-TR1', 'ADT^A31^ADT_A05'],
      ['PAT-TR3', 'ADT^A40^ADT_A39'],
    ]);
    // The same stream through a subscription without overrides: the Server preset.
    expect(outcomes(preset)).toEqual([
      ['accepted', 'A01'],
      ['accepted', 'A08'],
      ['accepted', 'A38'],
      ['accepted', 'A40'],
      ['skipped', null],
    ]);
    expect(presetReceiver.received.map((message) => messageType(message.text))).toEqual(['ADT^A01^ADT_A01', 'ADT^A08^ADT_A01', 'ADT^A38^ADT_A38', 'ADT^A40^ADT_A39']);
    expect(outcomeCounts(receiptsOf(receipts, overridden))).toEqual({ accepted: 3, skipped: 2 });
    for (const name of [overridden, preset]) {
      await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: `${name}: queue empty` });
    }
  });

  it('refuses an override that does not fit the event type at load: exit 78 naming the subscription, every problem at once', async () => {
    const topology = testTopology('subs-trig-bad');
    const bad = uniqueName('bad-merge');
    const alsoBad = uniqueName('bad-update');
    const file = writeConfig(
      configFor(topology, [
        subscriptionEntry(bad, 2575, { triggers: { merge: 'A01' } }),
        subscriptionEntry(alsoBad, 2576, { triggers: { update: 'A04', unmerge: 'A40' } }),
      ]),
    );

    const check = new DaemonProcess(file, {}, 'check-config');
    cleanups.push(() => stopProcess(check));
    expect(await check.exited).toEqual({ code: 78, signal: null });
    const checkErr = check.stderr.join('');
    expect(checkErr).toContain(`subscriptions[0] (${bad}).triggers.merge: A01 does not fit a merge event`);
    expect(checkErr).toContain(`subscriptions[1] (${alsoBad}).triggers.update: A04 does not fit a update event`);
    expect(checkErr).toContain(`subscriptions[1] (${alsoBad}).triggers.unmerge: A40 does not fit a unmerge event`);
    expect(checkErr).toContain('3 problem(s) found');

    // `run` refuses to start with the same configuration, before touching the broker.
    const run = new DaemonProcess(file);
    cleanups.push(() => stopProcess(run));
    expect(await run.exited).toEqual({ code: 78, signal: null });
    expect(run.stderr.join('')).toContain(`subscriptions[0] (${bad}).triggers.merge: A01 does not fit a merge event`);
    expect(run.lines.some((line) => line.msg === 'mllp-dispatcher started')).toBe(false);
  });
});
