import { describe, expect, it } from 'vitest';
import { BatchedLines } from '../../../src/observability/logger.js';
import { waitFor } from '../../helpers/wait.js';

function sink() {
  const writes: string[] = [];
  let syncFlushes = 0;
  return { writes, flushes: () => syncFlushes, out: { write: (text: string) => writes.push(text), flushSync: () => syncFlushes++ } };
}

describe('BatchedLines', () => {
  it('hands lines over in one write once enough have gathered, in order', () => {
    const { writes, out } = sink();
    const lines = new BatchedLines(out, 20, 60_000);
    lines.write('{"a":1}\n');
    lines.write('{"b":2}\n');
    expect(writes).toEqual([]);
    lines.write('{"c":3}\n');
    expect(writes).toEqual(['{"a":1}\n{"b":2}\n{"c":3}\n']);
    lines.flushSync();
  });

  it('writes what gathered when the delay has passed, with nothing more coming', async () => {
    const { writes, out } = sink();
    const lines = new BatchedLines(out, 8192, 20);
    lines.write('{"a":1}\n');
    await waitFor(() => writes.length === 1, { timeoutMs: 5_000, message: 'the timer flushed the line' });
    expect(writes).toEqual(['{"a":1}\n']);
  });

  it('writes everything at once on flushSync, and flushes the destination', () => {
    const { writes, out, flushes } = sink();
    const lines = new BatchedLines(out, 8192, 60_000);
    lines.write('{"a":1}\n');
    lines.flushSync();
    expect(writes).toEqual(['{"a":1}\n']);
    expect(flushes()).toBe(1);
    lines.flushSync();
    expect(writes).toHaveLength(1);
  });
});
