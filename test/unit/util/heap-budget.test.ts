import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';

/**
 * src/util/heap-budget.ts acts on the V8 heap of its process, so each case runs in a fresh
 * child node process (the test runner's own heap has long grown): the module, transpiled,
 * and a driver that allocates like a draining backlog (a sliding window of survivors, the
 * event loop turning between batches as it does between deliveries) and reports the largest
 * new space and old space it saw.
 */
const MB = 1024 * 1024;

const DRIVER = `
import { applyHeapBudget, newSpaceBytes } from './heap-budget.mjs';
import { getHeapSpaceStatistics } from 'node:v8';
const budget = JSON.parse(process.argv[2]);
const handle = budget ? applyHeapBudget(budget) : undefined;
const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
let maxNew = 0, maxOld = 0;
const window = [];
for (let batch = 0; batch < 500; batch++) {
  for (let i = 0; i < 2000; i++) window.push({ id: batch * 2000 + i, text: 'event ' + batch + '/' + i, parts: [i, batch] });
  if (window.length > 40000) window.splice(0, 20000);
  maxNew = Math.max(maxNew, newSpaceBytes());
  maxOld = Math.max(maxOld, oldSpace());
  await new Promise((resolve) => setImmediate(resolve));
}
handle?.stop();
process.stdout.write(JSON.stringify({ maxNew, maxOld }));
`;

let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heap-budget-'));
  const source = readFileSync(join(PACKAGE_ROOT, 'src', 'util', 'heap-budget.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  writeFileSync(join(dir, 'heap-budget.mjs'), outputText);
  writeFileSync(join(dir, 'driver.mjs'), DRIVER);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function drive(budget: { youngCapMb: number; oldGrowthPercent: number } | null): Promise<{ maxNew: number; maxOld: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'driver.mjs'), JSON.stringify(budget)], { timeout: 60_000 });
  return JSON.parse(stdout) as { maxNew: number; maxOld: number };
}

describe('applyHeapBudget (src/util/heap-budget.ts)', () => {
  it('keeps the new space at its cap where V8 alone grows it to 16 MB or more', async () => {
    const [unbounded, bounded] = await Promise.all([drive(null), drive({ youngCapMb: 4, oldGrowthPercent: 0 })]);
    expect(unbounded.maxNew).toBeGreaterThanOrEqual(16 * MB);
    expect(bounded.maxNew).toBeLessThanOrEqual(4 * MB);
  }, 60_000);

  it('bounds the old generation growth after a full GC', async () => {
    const [dynamic, bounded] = await Promise.all([drive({ youngCapMb: 4, oldGrowthPercent: 0 }), drive({ youngCapMb: 4, oldGrowthPercent: 20 })]);
    expect(bounded.maxOld).toBeLessThan(dynamic.maxOld * 0.75);
  }, 60_000);
});
