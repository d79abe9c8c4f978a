import type { ConfirmChannel } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseRequest } from '../../../src/operations/release-request.js';
import { runCli } from '../../helpers/cli.js';
import { InProcessDaemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';
import { configFor, depthOrNull, holdSetup, subscriptionEntry, SYSTEM, writeConfig, type Cleanups } from './support.js';

/**
 * Ending a hold without replaying (`release --event-id`, `replay --discard --yes`), the
 * `mllp_held_patients` metric and the `dead-letters` report, merges that touch a held
 * patient, and the configuration key (README, "Operator workflows"; docs/PATIENT-HOLD.md).
 */

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function heldPatients(daemon: InProcessDaemon, name: string): Promise<number | undefined> {
  const text = await daemon.daemon.metrics.registry.metrics();
  const match = new RegExp(`^mllp_held_patients\\{subscription="${name}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

async function startInProcess(config: Record<string, unknown>): Promise<InProcessDaemon> {
  const daemon = await InProcessDaemon.start(config);
  cleanups.push(() => daemon.stop());
  return daemon;
}

describe('releasing a held patient', () => {
  it('by `release --event-id` (the dead letter stays) and by `replay --discard --yes`; the metric and dead-letters follow', async () => {
    const setup = await holdSetup('hold-release', cleanups);
    const { broker, failing, event, id, receivedIds, heldQueue, name, configFile } = setup;
    const of = (patient: string) => (eventId: string) => new RegExp(`-${patient}\\d$`).test(eventId);
    failing.add(id('A1'));
    failing.add(id('C1'));
    const heldA = heldQueue('PA');
    const heldC = heldQueue('PC');
    const daemon = await startInProcess(setup.config);
    await broker.publishAll([event('A1', 'PA'), event('C1', 'PC'), event('A2', 'PA'), event('C2', 'PC'), event('B1', 'PB'), event('C3', 'PC')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 1 && (await depthOrNull(broker, heldC)) === 2, { message: 'A2 and C2, C3 parked' });
    await waitFor(() => receivedIds().includes(id('B1')), { message: 'B1 delivered' });
    expect(await heldPatients(daemon, name)).toBe(2);
    const metricsText = await daemon.daemon.metrics.registry.metrics();
    // Patients are counted, never named: no identifier or authority in any series.
    expect(metricsText).not.toContain(SYSTEM);
    expect(metricsText).not.toMatch(/\bPA\b|\bPC\b/);

    const usage = await runCli(['release', '--subscription', name, '--config', configFile]);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('--event-id ID is required');
    const bogus = await runCli(['release', '--subscription', name, '--config', configFile, '--event-id', id('A1'), '--bogus']);
    expect(bogus.code).toBe(64);
    expect(bogus.stderr).toContain("'--bogus'");
    const help = await runCli(['release', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: mllp-dispatcher release --subscription NAME --event-id ID');
    const unknown = await runCli(['release', '--subscription', name, '--config', configFile, '--event-id', id('B1')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`no dead letter with event id ${id('B1')} holds a patient`);

    const released = await runCli(['release', '--subscription', name, '--config', configFile, '--event-id', id('A1')]);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toContain(`release requested: the patient held by ${id('A1')}`);
    await waitFor(() => receivedIds(of('A')).includes(id('A2')), { message: 'A2 released' });
    await waitFor(async () => (await depthOrNull(broker, heldA)) === null, { message: 'A held queue deleted' });
    await waitFor(async () => (await heldPatients(daemon, name)) === 1, { message: 'one patient held' });
    expect(receivedIds(of('A'))).toEqual([id('A1'), id('A2')]);
    expect(receivedIds(of('C'))).toEqual([id('C1')]);
    const report = await runCli(['dead-letters', '--subscription', name, '--config', configFile, '--json']);
    const json = JSON.parse(report.stdout) as { total: number; heldPatients: Array<{ eventId: string; parked: number | null }> };
    expect(json.total).toBe(2);
    expect(json.heldPatients).toEqual([
      expect.objectContaining({ eventId: id('A1'), parked: null }),
      expect.objectContaining({ eventId: id('C1'), parked: 2 }),
    ]);

    const discard = await runCli(['replay', '--subscription', name, '--config', configFile, '--event-id', id('C1'), '--discard', '--yes']);
    expect(discard.code, discard.stderr).toBe(0);
    expect(discard.stdout).toContain('discarded 1, skipped 1, failed 0');
    expect(discard.stdout).toContain('released 1 held patient(s)');
    await waitFor(() => receivedIds(of('C')).length === 3, { message: 'C2, C3 released' });
    expect(receivedIds(of('C'))).toEqual([id('C1'), id('C2'), id('C3')]);
    await waitFor(async () => (await heldPatients(daemon, name)) === 0, { message: 'no patient held' });
    await waitFor(async () => (await depthOrNull(broker, heldC)) === null, { message: 'C held queue deleted' });
    expect(await broker.messageCount(`mllp.${name}.dead`)).toBe(1);
    // A second release of an ended hold is refused by the CLI.
    const again = await runCli(['release', '--subscription', name, '--config', configFile, '--event-id', id('A1')]);
    expect(again.code).toBe(1);
  });

  it('a merge that touches a held patient is held too, and so are the merged patient’s later events', async () => {
    const setup = await holdSetup('hold-merge', cleanups);
    const { broker, failing, event, id, receivedIds, heldQueue, name, configFile } = setup;
    failing.add(id('A1'));
    const heldA = heldQueue('PA');
    const daemon = await startInProcess(setup.config);
    const merge = event('M1', 'PB', { type: 'merge', replaced: [{ resourceType: 'Patient', identifier: [{ system: SYSTEM, value: 'PA' }], name: [{ family: 'Old' }] }] });
    await broker.publishAll([event('A1', 'PA'), merge, event('B2', 'PB'), event('C1', 'PC')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 2, { message: 'the merge and B2 parked behind A1' });
    await waitFor(() => receivedIds().includes(id('C1')), { message: 'C1 delivered' });
    expect(receivedIds()).toEqual([id('A1'), id('C1')]);
    await waitFor(async () => (await heldPatients(daemon, name)) === 2, { message: 'A and B held' });

    failing.delete(id('A1'));
    const replay = await runCli(['replay', '--subscription', name, '--config', configFile, '--event-id', id('A1')]);
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor(() => receivedIds().includes(id('B2')), { message: 'B2 released' });
    await broker.publish(event('B3', 'PB'));
    await waitFor(() => receivedIds().includes(id('B3')), { message: 'B3 delivered' });
    expect(receivedIds()).toEqual([id('A1'), id('C1'), id('A1'), id('M1'), id('B2'), id('B3')]);
    expect(setup.receiver.received[receivedIds().indexOf(id('M1'))]!.trigger).toBe('A40');
    await waitFor(async () => (await heldPatients(daemon, name)) === 0, { message: 'no patient held' });
  });

  it('a subscription without the option acks a release request and sends nothing for it; its dead letters hold nobody', async () => {
    const setup = await holdSetup('hold-off', cleanups, { holdPatientOnDeadLetter: false });
    const { broker, failing, event, id, receivedIds, name } = setup;
    failing.add(id('A1'));
    const daemon = await startInProcess(setup.config);
    await broker.publishAll([event('A1', 'PA'), event('A2', 'PA')]);
    await waitFor(() => receivedIds().includes(id('A2')), { message: 'A2 sent after A1 was dead-lettered' });
    const { content, properties } = releaseRequest(id('A1'), 'f'.repeat(32));
    await new Promise<void>((resolve, reject) => (broker.channel as ConfirmChannel).publish('', `mllp.${name}`, content, properties, (error) => (error ? reject(error) : resolve())));
    await waitFor(() => daemon.logs.some((line) => String(line.msg).startsWith('release request ignored')), { message: 'release request ignored' });
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) === 0, { message: 'release request acked' });
    expect(await broker.messageCount(`mllp.${name}.dead`)).toBe(1);
    expect(await heldPatients(daemon, name)).toBeUndefined();
    const report = await runCli(['dead-letters', '--subscription', name, '--config', setup.configFile]);
    expect(report.stdout).not.toContain('held patients');
  });

  it('refuses a holdPatientOnDeadLetter that is not true or false (78, naming the key)', async () => {
    const configFile = writeConfig(configFor({ exchange: 'hold-x', deadLetterExchange: 'hold-x.dead', receiptsExchange: 'hold-x.receipts' }, [subscriptionEntry('hold-config', 1, { holdPatientOnDeadLetter: 'yes' })]));
    const result = await runCli(['check-config', '--config', configFile]);
    expect(result.code).toBe(78);
    expect(result.stderr + result.stdout).toMatch(/holdPatientOnDeadLetter: must be true or false/);
  });
});
