import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { InProcessDaemon } from '../../helpers/daemon.js';
import { brokerClosesConnections } from '../../helpers/rabbitmqctl.js';
import { waitFor } from '../../helpers/wait.js';
import { depthOrNull, holdSetup, killNow, startDaemon, type Cleanups } from './support.js';

/**
 * Issue 16 item 5, "Hold a patient after a dead letter", across real daemon processes
 * killed with SIGKILL (docs/PATIENT-HOLD.md, "Crash points tested"): the held events wait
 * durably on the broker, in order with events that arrive later, while other patients
 * flow; they are sent in order after the replayed dead letter.
 */

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

describe('patient hold across daemon restarts', () => {
  it('SIGKILL while a patient is held: after a restart and a replay the held events follow the dead letter, in order; others flowed', async () => {
    const setup = await holdSetup('hold-restart', cleanups);
    const { broker, failing, event, id, receivedIds, heldQueue } = setup;
    const isA = (eventId: string) => /-A\d$/.test(eventId);
    failing.add(id('A1'));
    const heldA = heldQueue('PA');

    const first = startDaemon(setup.configFile, cleanups);
    await first.waitReady();
    await broker.publishAll([event('A1', 'PA'), event('A2', 'PA'), event('B1', 'PB'), event('A3', 'PA'), event('B2', 'PB')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 2, { message: 'A2 and A3 parked' });
    await waitFor(() => receivedIds().includes(id('B2')), { message: 'B flowed during the hold' });
    await waitFor(async () => (await broker.messageCount(`mllp.${setup.name}.dead`)) === 1, { message: 'A1 dead-lettered' });
    expect(receivedIds(isA)).toEqual([id('A1')]);
    await first.waitForLog((line) => line.msg === 'event parked behind a held patient' && line.eventId === id('A3'));
    // No patient data in the log lines of the hold: the key hash only.
    const holdLines = first.lines.filter((line) => String(line.msg).includes('held patient') || String(line.msg).includes('patient held'));
    expect(holdLines.length).toBeGreaterThan(0);
    expect(JSON.stringify(holdLines)).not.toMatch(/\bPA\b|urn:oid|Testperson/);

    await killNow(first);
    // While the daemon is down: more of A (must queue behind A2, A3) and of B.
    await broker.publishAll([event('A4', 'PA'), event('B3', 'PB')]);
    const second = startDaemon(setup.configFile, cleanups);
    await second.waitReady();
    await waitFor(() => receivedIds().includes(id('B3')), { message: 'B3 delivered after the restart' });
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 3, { message: 'A4 parked behind A2, A3' });
    expect(receivedIds(isA)).toEqual([id('A1')]);

    const report = await runCli(['dead-letters', '--subscription', setup.name, '--config', setup.configFile]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(new RegExp(`held patients: 1\\n  ${id('A1')}  holds patient [0-9a-f]{32}, 3 event\\(s\\) parked`));
    expect(report.stdout).not.toMatch(/\bPA\b|urn:oid/);

    failing.delete(id('A1'));
    const replay = await runCli(['replay', '--subscription', setup.name, '--config', setup.configFile, '--event-id', id('A1')]);
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor(() => receivedIds(isA).length === 5, { message: 'A1 replayed, A2..A4 released' });
    expect(receivedIds(isA)).toEqual([id('A1'), id('A1'), id('A2'), id('A3'), id('A4')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === null, { message: 'held queue deleted' });
    // The hold is over: A's next event goes straight out.
    await broker.publish(event('A5', 'PA'));
    await waitFor(() => receivedIds(isA).includes(id('A5')), { message: 'A5 delivered' });
    expect(receivedIds(isA).slice(1)).toEqual([id('A1'), id('A2'), id('A3'), id('A4'), id('A5')]);
    expect(receivedIds((eventId) => /-B\d$/.test(eventId))).toEqual([id('B1'), id('B2'), id('B3')]);
    const after = await runCli(['dead-letters', '--subscription', setup.name, '--config', setup.configFile]);
    expect(after.stdout).toContain('0 dead letter(s)');
  });

  it('SIGKILL in the middle of a release (lanes 2, delivery thread): on restart the release resumes, in order, nothing lost', async () => {
    const setup = await holdSetup('hold-midrelease', cleanups, { lanes: 2 });
    const { broker, failing, silent, event, id, receivedIds, heldQueue } = setup;
    const isA = (eventId: string) => /-A\d$/.test(eventId);
    failing.add(id('A1'));
    const heldA = heldQueue('PA');

    const first = startDaemon(setup.configFile, cleanups);
    await first.waitReady();
    await broker.publishAll([event('A1', 'PA'), event('A2', 'PA'), event('B1', 'PB'), event('A3', 'PA'), event('A4', 'PA')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 3, { message: 'A2..A4 parked' });
    await waitFor(() => receivedIds().includes(id('B1')), { message: 'B1 delivered' });

    // Replay A1; the receiver leaves A3 unanswered and the daemon is killed with A3 in hand.
    failing.delete(id('A1'));
    silent.add(id('A3'));
    const replay = await runCli(['replay', '--subscription', setup.name, '--config', setup.configFile, '--event-id', id('A1')]);
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor(() => receivedIds().includes(id('A3')), { message: 'A3 sent during the release' });
    await killNow(first);
    expect(receivedIds(isA)).toEqual([id('A1'), id('A1'), id('A2'), id('A3')]);
    // A3 (unacknowledged) is back at the head of the held queue, A4 behind it.
    expect(await depthOrNull(broker, heldA)).toBe(2);

    // Nothing new arrives: the restarted daemon resumes the release by itself.
    const second = startDaemon(setup.configFile, cleanups);
    await second.waitReady();
    await waitFor(() => receivedIds(isA).includes(id('A4')), { message: 'A4 delivered by the resumed release' });
    await broker.publishAll([event('A5', 'PA'), event('B2', 'PB')]);
    await waitFor(() => receivedIds().includes(id('A5')) && receivedIds().includes(id('B2')), { message: 'A5 and B2 delivered after the release' });
    // At most the one in hand (A3) is sent twice; the replayed A1 is not sent again.
    expect(receivedIds(isA)).toEqual([id('A1'), id('A1'), id('A2'), id('A3'), id('A3'), id('A4'), id('A5')]);
    expect(receivedIds((eventId) => /-B\d$/.test(eventId))).toEqual([id('B1'), id('B2')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === null, { message: 'held queue deleted' });
    await second.waitForLog((line) => line.msg === 'patient hold ended: the parked events were sent');
  });

  it('a broker reconnect while a patient is held: the holds are read back from the broker, and later events still queue behind', async () => {
    const setup = await holdSetup('hold-reconnect', cleanups);
    const { broker, failing, event, id, receivedIds, heldQueue, name } = setup;
    const isA = (eventId: string) => /-A\d$/.test(eventId);
    failing.add(id('A1'));
    const heldA = heldQueue('PA');
    const daemon = new InProcessDaemon(setup.config);
    cleanups.push(() => daemon.stop());
    await daemon.daemon.start();
    await waitFor(() => daemon.daemon.readiness().ready, { message: 'daemon ready' });
    await broker.publishAll([event('A1', 'PA'), event('A2', 'PA'), event('B1', 'PB')]);
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 1, { message: 'A2 parked' });

    // Only this test's daemon connection is closed (by its connection name).
    expect(await brokerClosesConnections((connection) => connection === `mllp-dispatcher ${name}`, 'hold test')).toBe(1);
    await waitFor(() => daemon.logs.filter((line) => line.msg === 'broker session consuming').length >= 2, { message: 'reconnected' });
    await broker.publishAll([event('A3', 'PA'), event('B2', 'PB')]);
    await waitFor(() => receivedIds().includes(id('B2')), { message: 'B2 delivered after the reconnect' });
    await waitFor(async () => (await depthOrNull(broker, heldA)) === 2, { message: 'A3 parked behind A2' });
    expect(receivedIds(isA)).toEqual([id('A1')]);

    failing.delete(id('A1'));
    const replay = await runCli(['replay', '--subscription', name, '--config', setup.configFile, '--event-id', id('A1')]);
    expect(replay.code, replay.stderr).toBe(0);
    await waitFor(() => receivedIds(isA).length === 4, { message: 'A released' });
    expect(receivedIds(isA)).toEqual([id('A1'), id('A1'), id('A2'), id('A3')]);
  });
});
