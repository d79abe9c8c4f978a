#!/usr/bin/env node
// Case (g) of the benchmark (issue 15): the daemon's resident memory at rest with many
// subscriptions, and what one more subscription costs. Runs on its own or from run.mjs
// (`--only g`); method and figures: docs/PERFORMANCE.md.
//
//   node bench/idle-memory.mjs [--subscriptions 40] [--lanes 4] [--dist DIR] [--settle-ms 3000]
//
// For each shape (1 x lanes, N x lanes, N x 1 lane) it starts one daemon process with that
// many subscriptions (no traffic, a receiver that is never contacted), waits until every
// subscription consumes its queue, samples VmRSS every 200 ms for --settle-ms, and reports
// the median sample. Per-subscription cost = (RSS(N x lanes) - RSS(1 x lanes)) / (N - 1).
// Prints a table to stdout and, last, one JSON line. Everything it declares on the broker is
// named bench-mem-<pid>* and deleted at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const root = new URL('..', import.meta.url).pathname;
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const log = (text) => process.stderr.write(`[bench g] ${text}\n`);

/** RSS of a process in MB, from /proc (Linux). */
function rssMb(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? NaN) / 1024;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** One daemon with `count` subscriptions of `lanes` lanes each; resolves with its median idle RSS. */
async function idleRss({ cli, id, count, lanes, settleMs, workDir, declared }) {
  const exchange = `${id}.events`;
  const names = Array.from({ length: count }, (_, i) => `${id}-${lanes}x${count}-${i}`);
  for (const name of names) declared.queues.push(`mllp.${name}`, `mllp.${name}.dead`);
  const config = {
    amqp: { url: AMQP_URL, exchange, deadLetterExchange: `${id}.dead`, receiptsExchange: `${id}.receipts` },
    http: { port: 0, host: '127.0.0.1' },
    log: { level: 'info' },
    subscriptions: names.map((name) => ({
      name,
      endpoint: 'llp://127.0.0.1:9',
      settings: { MSH34: 'ACME_EHR|ACME_HOSP', MSH56: 'PIX_MGR|REGION_HIE' },
      lanes,
    })),
  };
  const configFile = join(workDir, `${count}x${lanes}.json`);
  writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(process.execPath, [cli, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root });
  let consuming = 0;
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop();
    for (const line of lines) if (line.includes('"broker session consuming"')) consuming++;
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (consuming < count) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${count} x ${lanes}: only ${consuming} subscriptions consuming`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const samples = [];
    for (let elapsed = 0; elapsed < settleMs; elapsed += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      samples.push(rssMb(child.pid));
    }
    return median(samples);
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) log(`daemon ${count} x ${lanes} exited with ${code}`);
  }
}

/** Runs case (g); returns its figures. `dist`: the build to measure (default ./dist). */
export async function caseIdleMemory({ subscriptions = 40, lanes = 4, dist = join(root, 'dist'), settleMs = 3000 } = {}) {
  const id = `bench-mem-${process.pid}`;
  const workDir = mkdtempSync(join(tmpdir(), `${id}-`));
  const declared = { queues: [] };
  const cli = join(dist, 'cli', 'main.js');
  try {
    const shapes = [
      { count: 1, lanes },
      { count: subscriptions, lanes },
      { count: subscriptions, lanes: 1 },
    ];
    const results = [];
    for (const shape of shapes) {
      const rss = await idleRss({ cli, id, ...shape, settleMs, workDir, declared });
      log(`${shape.count} subscription(s) x ${shape.lanes} lane(s): ${rss.toFixed(1)} MB RSS at rest`);
      results.push({ ...shape, rssMb: rss });
    }
    const [one, many, manySingle] = results;
    return {
      subscriptions,
      lanes,
      oneRssMb: one.rssMb,
      manyRssMb: many.rssMb,
      manySingleLaneRssMb: manySingle.rssMb,
      perSubscriptionMb: (many.rssMb - one.rssMb) / (subscriptions - 1),
    };
  } finally {
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    for (const queue of declared.queues) await channel.deleteQueue(queue).catch(() => {});
    for (const suffix of ['events', 'dead', 'receipts']) await channel.deleteExchange(`${id}.${suffix}`).catch(() => {});
    await connection.close().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      subscriptions: { type: 'string', default: '40' },
      lanes: { type: 'string', default: '4' },
      dist: { type: 'string' },
      'settle-ms': { type: 'string', default: '3000' },
    },
  });
  const figures = await caseIdleMemory({
    subscriptions: Number(values.subscriptions),
    lanes: Number(values.lanes),
    ...(values.dist ? { dist: values.dist } : {}),
    settleMs: Number(values['settle-ms']),
  });
  const { subscriptions, lanes } = figures;
  const pass = figures.manyRssMb < 160;
  process.stdout.write(
    [
      `| case | RSS at rest |`,
      `|---|---:|`,
      `| (g) 1 subscription x ${lanes} lanes | ${figures.oneRssMb.toFixed(1)} MB |`,
      `| (g) ${subscriptions} subscriptions x ${lanes} lanes (target < 160 MB: ${pass ? 'PASS' : 'FAIL'}) | ${figures.manyRssMb.toFixed(1)} MB |`,
      `| (g) ${subscriptions} subscriptions x 1 lane | ${figures.manySingleLaneRssMb.toFixed(1)} MB |`,
      `| (g) cost of one more subscription with ${lanes} lanes | ${figures.perSubscriptionMb.toFixed(2)} MB |`,
      '',
    ].join('\n'),
  );
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
