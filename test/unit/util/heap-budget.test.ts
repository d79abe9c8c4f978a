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
for (let batch = 0; batch < 2000; batch++) {
  for (let i = 0; i < 500; i++) window.push({ id: batch * 500 + i, text: 'event ' + batch + '/' + i, parts: [i, batch] });
  if (window.length > 40000) window.splice(0, 20000);
  maxNew = Math.max(maxNew, newSpaceBytes());
  maxOld = Math.max(maxOld, oldSpace());
  await new Promise((resolve) => setImmediate(resolve));
}
handle?.stop();
process.stdout.write(JSON.stringify({ maxNew, maxOld }));
`;

const WORKER_DRIVER = `
import { Worker } from 'node:worker_threads';
import { applyHeapBudget } from './heap-budget.mjs';
const budget = JSON.parse(process.argv[2]);
const handle = budget ? applyHeapBudget(budget) : undefined;
const code = "const { getHeapSpaceStatistics } = require('node:v8');" +
  "require('node:worker_threads').parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);";
const worker = new Worker(code, { eval: true });
worker.once('message', (size) => {
  handle?.stop();
  process.stdout.write(JSON.stringify({ workerNew: size }));
  void worker.terminate();
});
`;

let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heap-budget-'));
  const source = readFileSync(join(PACKAGE_ROOT, 'src', 'util', 'heap-budget.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  writeFileSync(join(dir, 'heap-budget.mjs'), outputText);
  writeFileSync(join(dir, 'driver.mjs'), DRIVER);
  writeFileSync(join(dir, 'worker-driver.mjs'), WORKER_DRIVER);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Budget = { youngCapMb: number; oldGrowthPercent: number } | null;

async function run<T>(driver: string, budget: Budget): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, driver), JSON.stringify(budget)], { timeout: 60_000 });
  return JSON.parse(stdout) as T;
}

const drive = (budget: Budget) => run<{ maxNew: number; maxOld: number }>('driver.mjs', budget);

describe('applyHeapBudget (src/util/heap-budget.ts)', () => {
  it('keeps the new space at its cap where V8 alone grows it to 16 MB or more', async () => {
    const [unbounded, bounded] = await Promise.all([drive(null), drive({ youngCapMb: 4, oldGrowthPercent: 0 })]);
    expect(unbounded.maxNew).toBeGreaterThanOrEqual(16 * MB);
    // The contract (src/util/heap-budget.ts): at the cap, or one doubling past it when two
    // scavenges come before the check that follows the first (its 'gc' observer runs from
    // the event loop; on a loaded machine about one run in ten). Never V8's own 16 MB or more.
    expect(bounded.maxNew).toBeLessThanOrEqual(2 * 4 * MB);
  }, 60_000);

  it('bounds the old generation growth after a full GC', async () => {
    const [dynamic, bounded] = await Promise.all([drive({ youngCapMb: 4, oldGrowthPercent: 0 }), drive({ youngCapMb: 4, oldGrowthPercent: 20 })]);
    expect(bounded.maxOld).toBeLessThan(dynamic.maxOld * 0.75);
  }, 60_000);

  it('starts a worker thread created afterwards with a larger young generation, not frozen at V8\'s smallest', async () => {
    const [plain, budgeted] = await Promise.all([run<{ workerNew: number }>('worker-driver.mjs', null), run<{ workerNew: number }>('worker-driver.mjs', { youngCapMb: 16, oldGrowthPercent: 100 })]);
    expect(budgeted.workerNew).toBeGreaterThanOrEqual(8 * MB);
    expect(budgeted.workerNew).toBeGreaterThan(plain.workerNew);
  }, 60_000);
});
