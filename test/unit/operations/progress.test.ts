import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../../src/cli/progress.js';

function capture(tty: boolean): { stream: PassThrough & { isTTY?: boolean; columns?: number }; text: () => string } {
  const stream = Object.assign(new PassThrough(), tty ? { isTTY: true, columns: 120 } : {});
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

describe('progress', () => {
  it('draws a cli-progress bar with count, percentage and detail on a terminal', () => {
    const { stream, text } = capture(true);
    const progress = progressReporter('replay', 10, stream);
    progress.update(5, 'replayed 5');
    progress.update(10, 'replayed 10');
    progress.stop();
    const output = text();
    expect(output).toMatch(/replay \[[=-]+\] 100% 10\/10 ETA \S+ replayed 10/);
    expect(output).not.toContain('replay: ');
  });

  it('writes plain lines elsewhere: the first at once, then at most one a second, and the last at the end', () => {
    const { stream, text } = capture(false);
    const progress = progressReporter('backfill', 4, stream);
    for (let done = 0; done <= 4; done++) progress.update(done, `published ${done}`);
    progress.stop();
    expect(text().split('\n').filter(Boolean)).toEqual(['backfill: 0/4 (0%) published 0', 'backfill: 4/4 (100%) published 4']);
  });
});
