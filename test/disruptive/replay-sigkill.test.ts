import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../helpers/broker.js';
import { CliProcess, runCli } from '../helpers/cli.js';
import { configFor, subscriptionEntry, writeConfig } from '../helpers/daemon.js';
import { declareSubscription, drainIds, publishDeadLetter } from '../helpers/dead-letters.js';
import { queueCounts } from '../helpers/rabbitmqctl.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const LETTERS = 2000;

describe('replay killed with SIGKILL half-way, then run again', () => {
  it(`loses none of ${LETTERS} dead letters and duplicates at most the one in hand`, async () => {
    const broker = await TestBroker.open(testTopology('i16-kill'));
    cleanups.push(() => broker.close());
    const name = uniqueName('i16-kill');
    await declareSubscription(broker, name);
    const ids = Array.from({ length: LETTERS }, (_, index) => `kill-${String(index).padStart(5, '0')}`);
    for (const [index, eventId] of ids.entries()) {
      await publishDeadLetter(broker, name, { eventId, outcome: 'application-error', reason: 'receiver answered AE', at: new Date(Date.UTC(2026, 2, 15, 10, 0, index)).toISOString() });
    }
    const configFile = writeConfig(configFor(broker.topology, [subscriptionEntry(name, 1)]));
    const deadQueue = `mllp.${name}.dead`;
    const queue = `mllp.${name}`;

    const first = new CliProcess(['replay', '--subscription', name, '--config', configFile]);
    cleanups.push(async () => {
      first.kill('SIGKILL');
      await first.exited;
    });
    await waitFor(async () => (await broker.messageCount(queue)) >= LETTERS / 4, { timeoutMs: 30_000, intervalMs: 5, message: 'a quarter replayed' });
    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // The broker takes back the dead letter in hand (if any) when the connection dies.
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
