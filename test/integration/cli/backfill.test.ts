import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { testTopology } from '../../helpers/broker.js';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { configFor, subscriptionEntry, writeConfig } from '../../helpers/daemon.js';
import { subscriptionQueues, targetAndBystander } from '../../helpers/dead-letters.js';
import { ACK_AA } from '../../helpers/scripted-receiver.js';
import { patientIdOf, receiptsOf } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * `backfill` against the real broker: a 10,000-patient FHIR Bundle with one bad entry
 * (reported, not published; the rest delivered by the daemon, in order, to this
 * subscription only), an interrupted NDJSON backfill resumed from its checkpoint, and
 * command-line errors.
 */

const dir = mkdtempSync(join(tmpdir(), 'i16-backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function patient(index: number): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: `PAT-BF-${String(index).padStart(5, '0')}` }],
    name: [{ family: `Familyname${index}`, given: ['Given'] }],
    gender: index % 2 ? 'female' : 'male',
    birthDate: '1970-01-01',
  };
}

describe('mllp-dispatcher backfill', () => {
  it('loads 10,000 patients from a FHIR Bundle: the bad entry is reported by position, the rest is delivered in order to this subscription only', async () => {
    const { receipts, target: receiver, bystander, name, other, configFile } = await targetAndBystander('i16-bf', ACK_AA, cleanups);

    const BAD = 4321;
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: Array.from({ length: 10_000 }, (_, index) => ({ fullUrl: `urn:uuid:${index}`, resource: index === BAD ? { ...patient(index), identifier: [{ value: 'NO-AUTHORITY' }] } : patient(index) })),
    };
    bundle.entry.splice(10, 0, { fullUrl: 'urn:uuid:org', resource: { resourceType: 'Organization', name: 'ignored' } } as never);
    const file = join(dir, 'population.json');
    writeFileSync(file, JSON.stringify(bundle, null, 2));

    const result = await runCli(['backfill', '--subscription', name, '--config', configFile, '--checkpoint', join(dir, 'bundle.checkpoint'), file], { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(65);
    expect(result.stdout).toContain(`backfill into mllp.${name}: published 9999 of 9999 valid events, invalid 1, failed 0`);
    expect(result.stderr).toContain(`${file} entry[${BAD + 1}]: patient.identifier: no identifier has both a value and an authority`);
    expect(result.stderr).toMatch(/^backfill: 9999\/9999 \(100%\) published 9999 of 9999$/m);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/Familyname|NO-AUTHORITY|PAT-BF-/);

    await waitFor(() => receiptsOf(receipts, name).length === 9999, { timeoutMs: 120_000, intervalMs: 200, message: '9999 receipts' });
    expect(receiptsOf(receipts, name).every((receipt) => receipt.outcome === 'accepted' && receipt.trigger === 'A01')).toBe(true);
    const expected = Array.from({ length: 10_000 }, (_, index) => `PAT-BF-${String(index).padStart(5, '0')}`).filter((_, index) => index !== BAD);
    expect(receiver.received.map((message) => patientIdOf(message.text))).toEqual(expected);
    expect(bystander.received).toHaveLength(0);
    expect(receiptsOf(receipts, other)).toHaveLength(0);
  });

  it('resumes an interrupted backfill from its checkpoint without publishing again what the broker confirmed', async () => {
    const { broker, name, configFile } = await subscriptionQueues('i16-bf-resume', cleanups);
    const COUNT = 3000;
    const file = join(dir, 'patients.ndjson');
    writeFileSync(file, `${Array.from({ length: COUNT }, (_, index) => JSON.stringify(patient(index))).join('\n')}\n`);
    const checkpointFile = join(dir, 'resume.checkpoint');

    const first = new CliProcess(['backfill', '--subscription', name, '--config', configFile, '--rate', '1500', '--checkpoint', checkpointFile, file]);
    cleanups.push(async () => {
      first.kill('SIGKILL');
      await first.exited;
    });
    await waitFor(async () => (await broker.messageCount(`mllp.${name}`)) >= COUNT / 5, { timeoutMs: 30_000, intervalMs: 10, message: 'a fifth published' });
    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const { confirmed } = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { confirmed: number };
    const queued = await broker.messageCount(`mllp.${name}`);
    expect(confirmed).toBeGreaterThan(0);
    expect(queued).toBeLessThan(COUNT);
    expect(queued).toBeGreaterThanOrEqual(confirmed);

    const again = await runCli(['backfill', '--subscription', name, '--config', configFile, '--checkpoint', checkpointFile, file]);
    expect(again.code).toBe(64);
    expect(again.stderr).toContain(`--resume ${checkpointFile}`);
    const resumed = await runCli(['backfill', '--resume', checkpointFile, '--config', configFile], { timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`published ${COUNT} of ${COUNT} valid events (${confirmed} by an earlier run), invalid 0, failed 0`);

    const messages = await broker.drain(`mllp.${name}`);
    const patientIds = messages.map((message) => message.json<{ patient: { identifier: Array<{ value: string }> } }>().patient.identifier[0]!.value);
    const eventIds = messages.map((message) => String(message.properties.messageId));
    // Everything, first copies in file order; a copy twice only if it was published and not yet confirmed at the kill.
    expect([...new Set(patientIds)]).toEqual(Array.from({ length: COUNT }, (_, index) => `PAT-BF-${String(index).padStart(5, '0')}`));
    expect(new Set(eventIds).size).toBe(COUNT);
    const firstIndex = new Map<string, number>();
    patientIds.forEach((id, index) => {
      if (firstIndex.has(id)) expect(firstIndex.get(id)!, `${id} was confirmed before the kill and published again`).toBeGreaterThanOrEqual(confirmed);
      else firstIndex.set(id, index);
    });
    // At most the publishes in flight without a confirm (src/operations/backfill.ts, WINDOW).
    expect(messages.length - COUNT).toBeLessThanOrEqual(256);
    console.info(`[backfill-resume] killed with ${confirmed} confirmed in the checkpoint, ${queued} in the queue; resumed; ${messages.length - COUNT} published twice`);
    // The event id is derived from the Patient: both copies of a duplicate carry the same one.
    expect(messages.every((message, index) => eventIds.indexOf(String(message.properties.messageId)) === firstIndex.get(patientIds[index]!))).toBe(true);
  });

  it('publishes no faster than --rate', async () => {
    const { broker, name, configFile } = await subscriptionQueues('i16-bf-rate', cleanups);
    const file = join(dir, 'rate.ndjson');
    writeFileSync(file, `${Array.from({ length: 300 }, (_, index) => JSON.stringify(patient(index))).join('\n')}\n`);
    const started = Date.now();
    const result = await runCli(['backfill', '--subscription', name, '--config', configFile, '--rate', '200', '--checkpoint', join(dir, 'rate.checkpoint'), file]);
    const elapsedMs = Date.now() - started;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('published 300 of 300 valid events, invalid 0, failed 0');
    // The 300th event is due 299 / 200 s after the first.
    expect(elapsedMs).toBeGreaterThanOrEqual(1495);
    expect(await broker.messageCount(`mllp.${name}`)).toBe(300);
  });

  it('refuses a malformed command line (64, naming the option)', async () => {
    const configFile = writeConfig(configFor(testTopology('i16-bf'), [subscriptionEntry('i16-bf-known', 1)]));
    const file = join(dir, 'one.ndjson');
    writeFileSync(file, `${JSON.stringify(patient(1))}\n`);
    const cases: Array<[string[], RegExp]> = [
      [['--rate', '0', file], /--rate must be a positive number/],
      [['--rate', 'fast', file], /--rate must be a positive number/],
      [[], /give at least one FILE/],
      [[join(dir, 'missing.ndjson')], /cannot read .*missing\.ndjson/],
      [['--resume', join(dir, 'missing.checkpoint')], /--resume: .* is not a readable checkpoint file/],
      [['--speed', '3', file], /'--speed'/],
      [['--checkpoint', join(dir, 'no-such-dir', 'x.checkpoint'), file], /--checkpoint: cannot write .*no-such-dir.*ENOENT/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['backfill', '--subscription', 'i16-bf-known', '--config', configFile, ...args]);
      expect(result.code, args.join(' ')).toBe(64);
      expect(result.stderr).toMatch(message);
    }
    expect(existsSync('backfill-i16-bf-known.checkpoint.json')).toBe(false);
  });
});
