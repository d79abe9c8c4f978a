import { describe, expect, it } from 'vitest';
import { runSteps, whenAborted, withDeadline } from '../../../src/util/lifecycle.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';

describe('runSteps (the stop contract of src/util/lifecycle.ts)', () => {
  it('runs every step in order even when one throws, one rejects and one overruns its deadline, and logs each', async () => {
    const { logger, lines } = capturingLogger();
    const ran: string[] = [];
    let overrunCut = false;
    const clean = await runSteps(logger, [
      { name: 'throws', run: () => { ran.push('throws'); throw new Error('boom'); } },
      { name: 'rejects', run: async () => { ran.push('rejects'); throw new Error('no'); } },
      { name: 'hangs', run: () => { ran.push('hangs'); return new Promise(() => {}); }, deadlineMs: 20, onDeadline: () => (overrunCut = true) },
      { name: 'fine', run: async () => { ran.push('fine'); } },
    ]);
    expect(clean).toBe(false);
    expect(ran).toEqual(['throws', 'rejects', 'hangs', 'fine']);
    expect(overrunCut).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => [line.step, line.msg])).toEqual([
      ['throws', 'stop step failed; going on with the next'],
      ['rejects', 'stop step failed; going on with the next'],
      ['hangs', 'stop step overran its deadline; going on with the next'],
    ]);
  });

  it('is clean when every step finishes in time', async () => {
    const { logger } = capturingLogger();
    expect(await runSteps(logger, [{ name: 'a', run: () => undefined }, { name: 'b', run: () => Promise.resolve(1), deadlineMs: 1000 }])).toBe(true);
  });
});

describe('withDeadline and whenAborted', () => {
  it('tells a promise that settled in time from one that did not', async () => {
    expect(await withDeadline(Promise.resolve(), 50)).toBe(true);
    expect(await withDeadline(new Promise(() => {}), 10)).toBe(false);
    await expect(withDeadline(Promise.reject(new Error('x')), 50)).rejects.toThrow('x');
  });

  it('resolves when the signal aborts, at once if it already has', async () => {
    const controller = new AbortController();
    let done = false;
    const waiting = whenAborted(controller.signal).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    controller.abort();
    await waiting;
    expect(done).toBe(true);
    await whenAborted(controller.signal);
  });
});
