// Command-line options, the run's constants, formatting, and the result rows (bench/run.mjs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const root = new URL('../..', import.meta.url).pathname;
export const here = new URL('..', import.meta.url).pathname;

export const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'a,b,b2,c,c0,d,e,f,g' },
    'memory-n': { type: 'string', default: '100000' },
    'slow-n': { type: 'string', default: '5000' },
    lanes: { type: 'string', default: '1,4,8,16' },
    'slow-delay-ms': { type: 'string', default: '2' },
    'paced-rate': { type: 'string', default: '1000' },
    'paced-seconds': { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2000' },
    prefetch: { type: 'string', default: '64' },
    profile: { type: 'string' },
    dist: { type: 'string' },
    compare: { type: 'string' },
    'node-args': { type: 'string', default: '' },
    'subscription-json': { type: 'string', default: '{}' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  const text = readFileSync(new URL('../run.mjs', import.meta.url), 'utf8');
  process.stdout.write(`${text.slice(0, text.indexOf('\nimport ')).split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n')}\n`);
  process.exit(0);
}
export const N = int('n');
export const ROUNDS = int('rounds');
export const ONLY = new Set(opts.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
export const MEMORY_N = int('memory-n');
export const SLOW_N = int('slow-n');
export const LANES = opts.lanes.split(',').map(Number);
export const SLOW_DELAY_MS = Number(opts['slow-delay-ms']);
export const PACED_RATE = int('paced-rate');
export const PACED_SECONDS = Number(opts['paced-seconds']);
export const WARMUP = Math.min(int('warmup'), N);
export const PREFETCH = int('prefetch');
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
// --dist DIR: run the daemon from another build (A/B of a candidate optimisation). DIR is a
// dist/ directory whose parent also holds package.json, config/, schemas/ and node_modules/.
export const cli = join(opts.dist ?? join(root, 'dist'), 'cli', 'main.js');
// --compare DIR: a second build (same layout as --dist) measured in the same sitting as the
// first in cases (c) and (f), round by round in alternation, so load on a shared machine
// hits both alike.
export const BUILDS = [{ tag: '', cli }, ...(opts.compare ? [{ tag: 'candidate', cli: join(opts.compare, 'cli', 'main.js') }] : [])];

export function int(name) {
  const value = Number(opts[name]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} must be a whole number\n`);
    process.exit(64);
  }
  return value;
}

export const log = (text) => process.stderr.write(`[bench] ${text}\n`);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

if (!existsSync(cli)) {
  log('dist/ is missing: run "npm run build" first.');
  process.exit(1);
}

// ------------------------------------------------------------------ results
export const results = {};
export const rows = [];
export function row(name, value, unit, target, pass, detail = '') {
  rows.push({ name, value, unit, target, pass, detail });
}
export const fmt = (value, digits = 0) => (value === null || value === undefined || Number.isNaN(value) ? '-' : Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
