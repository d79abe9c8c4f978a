import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from '../helpers/cli.js';
import { drainIds, publishDeadLetter, subscriptionQueues } from '../helpers/dead-letters.js';
import { brokerClosesConnections, brokerConnections, queueCounts } from '../helpers/rabbitmqctl.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const LETTERS = 2000;

/** LETTERS dead letters of a fresh subscription, and a replay of them running as a child process. */
async function replayRunning(prefix: string) {
  const { broker, name, configFile } = await subscriptionQueues(prefix, cleanups);
  const ids = Array.from({ length: LETTERS }, (_, index) => `kill-${String(index).padStart(5, '0')}`);
  for (const [index, eventId] of ids.entries()) {
    await publishDeadLetter(broker, name, { eventId, outcome: 'application-error', reason: 'receiver answered AE', at: new Date(Date.UTC(2026, 2, 15, 10, 0, index)).toISOString() });
  }
  const queue = `mllp.${name}`;
  const first = new CliProcess(['replay', '--subscription', name, '--config', configFile]);
  cleanups.push(async () => {
    first.kill('SIGKILL');
    await first.exited;
  });
  await waitFor(async () => (await broker.messageCount(queue)) >= LETTERS / 4, { timeoutMs: 30_000, intervalMs: 5, message: 'a quarter replayed' });
  return { broker, name, ids, configFile, first, queue, deadQueue: `${queue}.dead` };
}

describe('replay interrupted half-way', () => {
  it('by Ctrl-C: finishes the dead letter in hand, prints how far it got, exits 1; nothing lost or duplicated', async () => {
    const { broker, ids, first, queue, deadQueue } = await replayRunning('i16-int');
    first.kill('SIGINT');
    expect(await first.exited).toEqual({ code: 1, signal: null });
    expect(first.stdout).toMatch(/replayed \d+, skipped 0, failed 0, scanned \d+ of 2000\ninterrupted: /);
    const replayed = await drainIds(broker, queue);
    expect(replayed).toEqual(ids.slice(0, replayed.length));
    expect(await drainIds(broker, deadQueue)).toEqual(ids.slice(replayed.length));
  });

  it('by the broker closing its connection: exits 1 naming the cause; nothing lost, at most the one in hand twice', async () => {
    const { broker, name, ids, first, queue, deadQueue } = await replayRunning('i16-drop');
    expect(await brokerClosesConnections((connection) => connection === `mllp-dispatcher replay ${name}`, 'i16 test')).toBe(1);
    expect(await first.exited).toEqual({ code: 1, signal: null });
    expect(first.stderr).toMatch(/stopped: .*dead letters not replayed stay in/);
    await waitFor(async () => (await queueCounts(deadQueue))?.unacked === 0, { intervalMs: 250, message: 'dead letters in hand returned' });
    const replayed = await drainIds(broker, queue);
    const left = await drainIds(broker, deadQueue);
    expect([...new Set([...replayed, ...left])]).toEqual(ids);
    expect(replayed.length + left.length - ids.length).toBeLessThanOrEqual(1);
  });

  it(`by SIGKILL: loses none of ${LETTERS} dead letters and duplicates at most the one in hand; a second run finishes`, async () => {
    const { broker, name, ids, configFile, first, queue, deadQueue } = await replayRunning('i16-kill');
    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // The broker takes back the dead letter in hand (if any) once it has closed the dead
    // connection; until then a get already on the wire can still hand one out.
    await waitFor(async () => !(await brokerConnections()).some((connection) => connection.name === `mllp-dispatcher replay ${name}`), { intervalMs: 250, message: 'the killed connection gone from the broker' });
    const dead = await waitFor(async () => {
      const counts = await queueCounts(deadQueue);
      return counts && counts.unacked === 0 ? counts : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, message: 'dead letters in hand returned' });
    const replayedBeforeKill = await broker.messageCount(queue);
    expect(replayedBeforeKill).toBeGreaterThanOrEqual(LETTERS / 4);
    expect(replayedBeforeKill).toBeLessThan(LETTERS);
    // Nothing lost; at most the one in hand is in both queues.
    expect(dead.ready + replayedBeforeKill).toBeGreaterThanOrEqual(LETTERS);
    expect(dead.ready + replayedBeforeKill).toBeLessThanOrEqual(LETTERS + 1);

    const second = await runCli(['replay', '--subscription', name, '--config', configFile], { timeoutMs: 60_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`replayed ${dead.ready}, skipped 0, failed 0`);
    expect(await broker.messageCount(deadQueue)).toBe(0);

    const replayed = await drainIds(broker, queue);
    const distinct = [...new Set(replayed)];
    // Every dead letter replayed, first copies in the original order.
    expect(distinct).toEqual(ids);
    expect(replayed.length - distinct.length).toBeLessThanOrEqual(1);
    if (replayed.length > distinct.length) {
      // The duplicate is the one in hand at the kill: last before it, first after it.
      expect(replayed[replayedBeforeKill]).toBe(replayed[replayedBeforeKill - 1]);
    }
    console.info(`[replay-sigkill] killed after ${replayedBeforeKill} of ${LETTERS} replayed; ${dead.ready} left, replayed by the second run; ${replayed.length - distinct.length} duplicate(s)`);
  });
});
