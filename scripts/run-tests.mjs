#!/usr/bin/env node
// `npm test`: type-checks and builds (process tests run dist/), then runs the unit and
// integration projects, then the disruptive project on its own (those tests close every
// broker connection or restart processes others depend on). Ends with one line:
// "N passed, N failed". Extra arguments are passed to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const resultsDir = join(root, '.test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const extra = process.argv.slice(2);

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
let failedSteps = 0;
if (run(bin('tsc'), ['-p', 'tsconfig.json']) !== 0) failedSteps++;
if (run(bin('tsc'), ['-p', 'tsconfig.test.json']) !== 0) failedSteps++;

const runs = [
  { name: 'main', projects: ['unit', 'integration'] },
  { name: 'disruptive', projects: ['disruptive'] },
];
let passed = 0;
let failed = 0;
for (const { name, projects } of runs) {
  const output = join(resultsDir, `${name}.json`);
  const status = run(bin('vitest'), [
    'run',
    ...projects.flatMap((project) => ['--project', project]),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${output}`,
    '--passWithNoTests',
    ...extra,
  ]);
  try {
    const report = JSON.parse(readFileSync(output, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    if (status !== 0 && report.numFailedTests === 0) failedSteps++;
  } catch {
    failedSteps++;
  }
}
if (failedSteps > 0) console.log(`${failedSteps} step(s) failed outside the test counts (type check, build, or a crashed test run)`);
console.log(`${passed} passed, ${failed + failedSteps} failed`);
process.exit(failed + failedSteps > 0 ? 1 : 0);
