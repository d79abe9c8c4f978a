import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology } from '../../helpers/broker.js';
import { runCli } from '../../helpers/cli.js';
import { configFor, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { drainIds, publishDeadLetter, subscriptionQueues, targetAndBystander } from '../../helpers/dead-letters.js';
import { patientEvent } from '../../helpers/events.js';
import { patientIdOf, receiptsOf } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * `dead-letters` and `replay` against the real broker, on dead letters written the way the
 * daemon writes them: inspection leaves the queue as it was, order included; a filtered
 * replay moves exactly the matches into the subscription's own queue and leaves the rest in
 * place and in order; dry run and discard; command-line and configuration errors.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const OUTCOMES = ['application-error', 'invalid-event', 'rejected'] as const;
const REASONS: Record<(typeof OUTCOMES)[number], string> = {
  'application-error': 'receiver answered AE',
  'invalid-event': 'patient.identifier: at least one identifier needs a value and an authority',
  rejected: 'receiver answered AR 3 times',
};

interface Letter {
  eventId: string;
  outcome: (typeof OUTCOMES)[number];
  at: string;
}

async function setup(count: number): Promise<{ broker: TestBroker; name: string; configFile: string; letters: Letter[] }> {
  const { broker, name, configFile } = await subscriptionQueues('i16-replay', cleanups);
  const letters: Letter[] = Array.from({ length: count }, (_, index) => ({
    eventId: `dl-${String(index).padStart(4, '0')}`,
    outcome: OUTCOMES[index % OUTCOMES.length]!,
    at: new Date(Date.UTC(2026, 2, 15, 10, index)).toISOString(),
  }));
  for (const letter of letters) {
    await publishDeadLetter(broker, name, { ...letter, reason: REASONS[letter.outcome], ackCode: letter.outcome === 'application-error' ? 'AE' : '', controlId: `CTRL${letter.eventId}`, attempts: 1 });
  }
  return { broker, name, configFile, letters };
}

interface ReportJson {
  total: number;
  byOutcome: Record<string, number>;
  byReason: Record<string, number>;
  oldest: string;
  newest: string;
  deadLetters: Array<{ eventId: string; outcome: string; ackCode: string | null; controlId: string; attempts: number; deadLetteredAt: string; reason: string; replays: number; routingKey: string | null }>;
}

async function report(configFile: string, name: string): Promise<ReportJson> {
  const result = await runCli(['dead-letters', '--subscription', name, '--config', configFile, '--list', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ReportJson;
}

describe('mllp-dispatcher dead-letters and replay', () => {
  it('inspects without consuming, then replays a filtered subset into the subscription queue; the rest stays in order', async () => {
    const { broker, name, configFile, letters } = await setup(12);
    const ids = letters.map((letter) => letter.eventId);

    const first = await report(configFile, name);
    expect(first.total).toBe(12);
    expect(first.byOutcome).toEqual({ 'application-error': 4, 'invalid-event': 4, rejected: 4 });
    expect(first.byReason[REASONS.rejected]).toBe(4);
    expect(first.oldest).toBe(letters[0]!.at);
    expect(first.newest).toBe(letters[11]!.at);
    expect(first.deadLetters.map((letter) => letter.eventId)).toEqual(ids);
    expect(first.deadLetters[0]).toEqual({ eventId: 'dl-0000', outcome: 'application-error', ackCode: 'AE', controlId: 'CTRLdl-0000', attempts: 1, deadLetteredAt: letters[0]!.at, reason: REASONS['application-error'], replays: 0, routingKey: 'patient.create' });
    // Unchanged, order included.
    expect((await report(configFile, name)).deadLetters.map((letter) => letter.eventId)).toEqual(ids);
    expect(await broker.messageCount(`mllp.${name}.dead`)).toBe(12);

    const text = await runCli(['dead-letters', '--subscription', name, '--config', configFile, '--list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`mllp.${name}.dead: 12 dead letter(s)`);
    expect(text.stdout).toMatch(/^\s+4 {2}application-error$/m);
    expect(text.stdout).toMatch(/^EVENT ID +OUTCOME +ACK +CONTROL ID +ATTEMPTS +DEAD-LETTERED AT +REASON$/m);
    expect(text.stdout).toMatch(/^dl-0003 +application-error +AE +CTRLdl-0003 +1 +2026-03-15T10:03:00.000Z +receiver answered AE$/m);
    // The bodies are never read out: no patient data.
    expect(text.stdout).not.toContain('Testperson');

    // Dry run: lists the matches, changes nothing.
    const dry = await runCli(['replay', '--subscription', name, '--config', configFile, '--outcome', 'application-error', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would replay 4, skipped 8, failed 0');
    expect(dry.stdout.match(/^dl-\d+ +application-error/gm)).toHaveLength(4);
    expect(await broker.messageCount(`mllp.${name}`)).toBe(0);
    expect((await report(configFile, name)).deadLetters.map((letter) => letter.eventId)).toEqual(ids);

    // application-error, dead-lettered at or after 10:03, at most 2: dl-0003 and dl-0006.
    const replay = await runCli(['replay', '--subscription', name, '--config', configFile, '--outcome', 'application-error', '--since', '2026-03-15T10:03:00Z', '--limit', '2']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`replay of mllp.${name}.dead into mllp.${name}: replayed 2, skipped 5, failed 0, scanned 7 of 12\nstopped at --limit 2`);
    expect(replay.stderr).toMatch(/^replay: 7\/12 \(58%.*\) replayed 2, skipped 5, failed 0$/m);
    const remaining = ids.filter((id) => id !== 'dl-0003' && id !== 'dl-0006');
    expect((await report(configFile, name)).deadLetters.map((letter) => letter.eventId)).toEqual(remaining);

    const replayed = await broker.drain(`mllp.${name}`);
    expect(replayed.map((message) => message.properties.messageId)).toEqual(['dl-0003', 'dl-0006']);
    const [message] = replayed;
    expect(message!.json<{ id: string }>().id).toBe('dl-0003');
    expect(message!.properties.contentType).toBe('application/json');
    expect(message!.headers['x-mllp-replays']).toBe(1);
    expect(message!.headers['x-producer-trace']).toBe('kept');
    expect(message!.headers['x-mllp-routing-key']).toBe('patient.create');
    for (const header of ['x-mllp-outcome', 'x-mllp-reason', 'x-mllp-dead-lettered-at', 'x-mllp-control-id']) expect(message!.headers[header]).toBeUndefined();

    // Event ids and a reason substring together: dl-0005 and dl-0008 were rejected (AR), dl-0007 is invalid.
    const byId = await runCli(['replay', '--subscription', name, '--config', configFile, '--event-id', 'dl-0005', '--event-id', 'dl-0007', '--event-id', 'dl-0008', '--reason-contains', 'ar 3']);
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toContain('replayed 2, skipped 8, failed 0');
    expect(await drainIds(broker, `mllp.${name}`)).toEqual(['dl-0005', 'dl-0008']);

    // Discard needs a confirmation.
    const unconfirmed = await runCli(['replay', '--subscription', name, '--config', configFile, '--outcome', 'invalid-event', '--discard']);
    expect(unconfirmed.code).toBe(64);
    expect(unconfirmed.stderr).toContain('--yes');
    const discard = await runCli(['replay', '--subscription', name, '--config', configFile, '--outcome', 'invalid-event', '--discard', '--yes']);
    expect(discard.code, discard.stderr).toBe(0);
    expect(discard.stdout).toContain(`discard from mllp.${name}.dead: discarded 4, skipped 4, failed 0`);
    expect(await broker.messageCount(`mllp.${name}`)).toBe(0);
    expect(await drainIds(broker, `mllp.${name}.dead`)).toEqual(['dl-0000', 'dl-0002', 'dl-0009', 'dl-0011']);
  });

  it('refuses a malformed command line (64, naming the option) and an unknown subscription (78)', async () => {
    const configFile = writeConfig(configFor(testTopology('i16-replay'), [subscriptionEntry('i16-known', 1)]));
    const cases: Array<[string[], RegExp]> = [
      [['replay', '--subscription', 'i16-known', '--bogus'], /'--bogus'/],
      [['replay', '--subscription', 'i16-known', '--since', 'yesterday'], /--since must be an ISO 8601/],
      [['replay', '--subscription', 'i16-known', '--outcome', 'accepted'], /--outcome must be one of/],
      [['replay', '--subscription', 'i16-known', '--limit', '-3'], /--limit|'-3'/],
      [['replay', '--subscription', 'i16-known', '--dry-run', '--discard', '--yes'], /--discard and --dry-run/],
      [['replay', '--config', configFile], /--subscription NAME is required/],
      [['dead-letters', '--subscription', 'i16-known', '--lst'], /'--lst'/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli([...args, '--config', configFile]);
      expect(result.code, args.join(' ')).toBe(64);
      expect(result.stderr).toMatch(message);
    }
    for (const command of ['replay', 'dead-letters']) {
      const unknown = await runCli([command, '--subscription', 'i16-nope', '--config', configFile]);
      expect(unknown.code).toBe(78);
      expect(unknown.stderr).toContain('no subscription named "i16-nope"');
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: mllp-dispatcher ${command} --subscription NAME`);
    }
  });
});

describe('replay with the daemon running', () => {
  it('sends a replayed event to its own subscription only, with the same MSH-10, under the current receiver behaviour', async () => {
    let refuse = true;
    const { broker, receipts, target, bystander, name, other, configFile } = await targetAndBystander(
      'i16-target',
      (message) => ({ kind: 'ack', code: refuse && patientIdOf(message.text)?.startsWith('PAT-AE') ? 'AE' : 'AA' }),
      cleanups,
    );

    const events = ['PAT-OK1', 'PAT-AE1', 'PAT-AE2', 'PAT-OK2'].map((patientId) => patientEvent({ patientId }));
    const [, ae1, ae2] = events.map((event) => String(event.id));
    await broker.publishAll(events);
    await waitFor(() => receiptsOf(receipts, name).length === 4 && receiptsOf(receipts, other).length === 4, { message: 'both subscriptions settled the 4 events' });
    const before = await report(configFile, name);
    expect(before.deadLetters.map((letter) => [letter.eventId, letter.outcome, letter.ackCode, letter.replays])).toEqual([
      [ae1, 'application-error', 'AE', 0],
      [ae2, 'application-error', 'AE', 0],
    ]);

    // Still refused: dead-lettered again, now behind ae2, counting one replay.
    const again = await runCli(['replay', '--subscription', name, '--config', configFile, '--event-id', ae1!]);
    expect(again.stdout).toContain('replayed 1, skipped 1, failed 0');
    await waitFor(() => receiptsOf(receipts, name).length === 5, { message: 'the replayed event settled' });
    const after = await waitFor(async () => {
      const current = await report(configFile, name);
      return current.total === 2 ? current : undefined;
    }, { message: 'ae1 back in the dead-letter queue' });
    // Dead-lettered again after arriving through the default exchange: the producer's routing key is kept.
    expect(after.deadLetters.map((letter) => [letter.eventId, letter.replays, letter.routingKey])).toEqual([
      [ae2, 0, 'patient.create'],
      [ae1, 1, 'patient.create'],
    ]);
    expect(after.deadLetters[1]!.controlId).toBe(before.deadLetters[0]!.controlId);

    // The receiver accepts now: both go out again with the MSH-10 of their first send.
    refuse = false;
    const fixed = await runCli(['replay', '--subscription', name, '--config', configFile]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain('replayed 2, skipped 0, failed 0');
    await waitFor(() => receiptsOf(receipts, name).filter((receipt) => receipt.outcome === 'accepted').length === 4, { message: 'all four accepted' });
    const lastTwo = target.received.slice(-2);
    expect(lastTwo.map((message) => patientIdOf(message.text))).toEqual(['PAT-AE2', 'PAT-AE1']);
    expect(lastTwo.map((message) => message.controlId)).toEqual([after.deadLetters[0]!.controlId, after.deadLetters[1]!.controlId]);
    expect(target.received).toHaveLength(7);
    // The other subscription bound to the same events saw each event once.
    expect(bystander.received).toHaveLength(4);
    expect(receiptsOf(receipts, other)).toHaveLength(4);
    expect(await broker.messageCount(`mllp.${name}.dead`)).toBe(0);
  });
});
