#!/usr/bin/env node
// `npm run bench`: the performance benchmark of issue 6 (and the slow-receiver lanes case of
// issue 7). One command, one process tree, one sitting, on the real RabbitMQ; the MLLP
// receiver is a separate process (bench/ack-receiver.mjs). Method: docs/PERFORMANCE.md.
//
//   node bench/run.mjs [--n 20000] [--rounds 3] [--only a,b,b2,c,c0,d,e,f,g]
//                      [--memory-n 100000] [--slow-n 5000] [--lanes 1,4,8,16] [--slow-delay-ms 2]
//                      [--paced-rate 1000] [--paced-seconds 10] [--warmup 2000] [--prefetch 64]
//                      [--profile DIR] [--keep-logs] [--dist DIR] [--compare DIR] [--node-args="..."]
//                      [--subscription-json='{...}']
//
// Cases: (a) MLLP floor: bare node:net client, one message in flight, + paced round trips;
//        (b) AMQP ceiling: consume + ack at the daemon's prefetch;
//        (b2) the daemon's AMQP work alone (bench/relay.mjs: consume, receipt + confirm, ack),
//             drain rate and paced publish -> receipt latency;
//        (c) the daemon end to end: drain rate (N events waiting), then paced latency;
//        (d) the naive amqplib + node-hl7-client 3.2.0 script (bench/naive-client.mjs);
//        (e) the daemon's peak RSS while --memory-n events wait in its queue and drain;
//        (f) a receiver that takes --slow-delay-ms per ACK, with --lanes lanes (receipts are
//            published as always but only counted, not consumed, by this process);
//        (g) RSS at rest with 40 subscriptions x 4 lanes, and the cost of one more
//            subscription (bench/idle-memory.mjs).
// --profile DIR: every daemon runs under --cpu-prof (summarise: bench/profile-summary.mjs).
// --dist DIR: run the daemon from another build (a dist/ directory whose parent also holds
// package.json, config/, schemas/ and node_modules/).
// --compare DIR: also run a candidate build (same layout) in (c), (f) and (g), rounds alternating.
// --node-args="...": extra node flags for every daemon (e.g. --node-args=--trace-gc; output in its log).
// --subscription-json='{"prefetch":512}': merged into every daemon's subscription (experiments).
// BENCH_CPU_SPLIT=1 (environment): also report the daemon's user and system CPU apart.
// Progress goes to stderr; stdout gets the table and, last, exactly one JSON line.
// Everything it declares on the broker is named bench-<pid>.* / mllp.bench-<pid>-* and is
// deleted at the end, also on Ctrl-C; child processes are stopped on exit.
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync, readSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { makeEvents } from './events.mjs';
import { caseIdleMemory } from './idle-memory.mjs';

const root = new URL('..', import.meta.url).pathname;
const here = new URL('.', import.meta.url).pathname;

const { values: opts } = parseArgs({
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
  const text = readFileSync(new URL(import.meta.url), 'utf8');
  process.stdout.write(`${text.slice(0, text.indexOf('\nimport ')).split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n')}\n`);
  process.exit(0);
}
const N = int('n');
const ROUNDS = int('rounds');
const ONLY = new Set(opts.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
const MEMORY_N = int('memory-n');
const SLOW_N = int('slow-n');
const LANES = opts.lanes.split(',').map(Number);
const SLOW_DELAY_MS = Number(opts['slow-delay-ms']);
const PACED_RATE = int('paced-rate');
const PACED_SECONDS = Number(opts['paced-seconds']);
const WARMUP = Math.min(int('warmup'), N);
const PREFETCH = int('prefetch');
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
// --dist DIR: run the daemon from another build (A/B of a candidate optimisation). DIR is a
// dist/ directory whose parent also holds package.json, config/, schemas/ and node_modules/.
const cli = join(opts.dist ?? join(root, 'dist'), 'cli', 'main.js');
// --compare DIR: a second build (same layout as --dist) measured in the same sitting as the
// first in cases (c) and (f), round by round in alternation, so load on a shared machine
// hits both alike.
const BUILDS = [{ tag: '', cli }, ...(opts.compare ? [{ tag: 'candidate', cli: join(opts.compare, 'cli', 'main.js') }] : [])];

function int(name) {
  const value = Number(opts[name]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} must be a whole number\n`);
    process.exit(64);
  }
  return value;
}

const log = (text) => process.stderr.write(`[bench] ${text}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

if (!existsSync(cli)) {
  log('dist/ is missing: run "npm run build" first.');
  process.exit(1);
}

// ------------------------------------------------------------------ names and cleanup
const ID = `bench-${process.pid}`;
const EXCHANGE = `${ID}.events`;
const DEAD_EXCHANGE = `${ID}.dead`;
const RECEIPTS_EXCHANGE = `${ID}.receipts`;
// Receipts that this process does not consume (case f): counted in their queue, not parsed.
const UNCOLLECTED_RECEIPTS = `${ID}.receipts-uncollected`;
const declaredQueues = new Set();
const children = new Set();
const workDir = mkdtempSync(join(tmpdir(), `${ID}-`));
let broker;
let cleaningUp;

async function cleanup() {
  cleaningUp ??= (async () => {
    await Promise.all([...children].map((child) => stopChild(child)));
    if (broker) {
      try {
        const channel = await broker.createChannel();
        channel.on('error', () => {});
        for (const queue of declaredQueues) await channel.deleteQueue(queue).catch(() => {});
        for (const exchange of [...eventExchanges, DEAD_EXCHANGE, RECEIPTS_EXCHANGE, UNCOLLECTED_RECEIPTS]) await channel.deleteExchange(exchange).catch(() => {});
        await channel.close().catch(() => {});
      } catch (error) {
        log(`cleanup: ${error.message}`);
      }
      await broker.close().catch(() => {});
    }
    if (!opts['keep-logs']) rmSync(workDir, { recursive: true, force: true });
    else log(`logs kept in ${workDir}`);
  })();
  return cleaningUp;
}

function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    children.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      children.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

let interrupted = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (++interrupted > 1) {
      for (const child of children) child.kill('SIGKILL');
      process.exit(130);
    }
    log(`${signal}: stopping children and deleting the benchmark's queues and exchanges (again to force)`);
    cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

// ------------------------------------------------------------------ broker helpers
async function declareQueue(channel, queue, args = { 'x-queue-type': 'classic', 'x-single-active-consumer': true }) {
  declaredQueues.add(queue);
  await channel.assertQueue(queue, { durable: true, arguments: args });
}

/** Publishes events (persistent, publisher confirms, respecting back-pressure). */
async function publishAll(channel, exchange, events, routingKeyOf = (e) => e.routingKey) {
  for (const e of events) {
    const ok = channel.publish(exchange, routingKeyOf(e), e.body, { contentType: 'application/json', messageId: e.id, persistent: true });
    if (!ok) await new Promise((resolve) => channel.once('drain', resolve));
  }
  await channel.waitForConfirms();
}

async function queueDepth(queue) {
  const channel = await broker.createChannel();
  channel.on('error', () => {});
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close().catch(() => {});
  }
}

async function purgeQueue(queue) {
  const channel = await broker.createChannel();
  channel.on('error', () => {});
  try {
    await channel.purgeQueue(queue);
  } finally {
    await channel.close().catch(() => {});
  }
}

async function waitUntil(check, what, timeoutMs = 60_000, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------ receivers
async function startReceiver(delayMs) {
  const child = fork(join(here, 'ack-receiver.mjs'), ['--delay-ms', String(delayMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const replies = [];
  let waiters = [];
  child.on('message', (message) => {
    replies.push(message);
    const wake = waiters;
    waiters = [];
    for (const resolve of wake) resolve();
  });
  const next = async (type) => {
    for (;;) {
      const at = replies.findIndex((m) => m.type === type);
      if (at !== -1) return replies.splice(at, 1)[0];
      await new Promise((resolve) => waiters.push(resolve));
    }
  };
  const { port } = await next('listening');
  const rpc = async (message, reply) => {
    child.send(message);
    return next(reply);
  };
  return {
    port,
    child,
    pause: () => rpc({ type: 'pause' }, 'paused'),
    resume: () => rpc({ type: 'resume' }, 'resumed'),
    stats: () => rpc({ type: 'stats' }, 'stats'),
    setDelay: (ms) => rpc({ type: 'set-delay', ms }, 'delay'),
    /** Resolves with {at} (timeOrigin-based ms) when the receiver has written `count` ACKs in all. */
    whenAcked: async (count) => {
      await rpc({ type: 'notify-at', count }, 'notify-armed');
      return { reached: next('reached') };
    },
  };
}

// ------------------------------------------------------------------ the daemon
function daemonConfig(subscription, port, lanes, exchange = EXCHANGE, receipts = true, receiptsExchange = RECEIPTS_EXCHANGE) {
  return {
    amqp: { url: AMQP_URL, exchange, deadLetterExchange: DEAD_EXCHANGE, receiptsExchange, receipts },
    http: { port: 0, host: '127.0.0.1' },
    subscriptions: [
      {
        name: subscription,
        description: 'mllp-dispatcher benchmark',
        endpoint: `llp://127.0.0.1:${port}`,
        dispatcher: 'hl7-pat-id-source',
        settings: { MSH34: 'ACME_EHR|ACME_HOSP', MSH56: 'PIX_MGR|REGION_HIE', Transport: 'llp', Version: '2.5' },
        lanes,
        // ACKs are held back on purpose while events are published (see timedDrain): generous.
        timeouts: { connectMs: 5000, ackMs: 300_000 },
        retry: { initialDelayMs: 200, maxDelayMs: 5000, maxAttempts: 5 },
        ...JSON.parse(opts['subscription-json']),
      },
    ],
  };
}

/** Receipts of every subscription of this run arrive here; collectors are keyed by event-id prefix. */
const collectors = new Map();
async function startReceiptConsumer() {
  const channel = await broker.createChannel();
  await channel.assertExchange(UNCOLLECTED_RECEIPTS, 'topic', { durable: true });
  await channel.assertQueue(UNCOLLECTED_RECEIPTS, { durable: false });
  await channel.bindQueue(UNCOLLECTED_RECEIPTS, UNCOLLECTED_RECEIPTS, '#');
  declaredQueues.add(UNCOLLECTED_RECEIPTS);
  await channel.assertExchange(RECEIPTS_EXCHANGE, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, RECEIPTS_EXCHANGE, '#');
  await channel.consume(
    queue,
    (message) => {
      const at = performance.now();
      const receipt = JSON.parse(message.content.toString());
      const id = receipt.eventId ?? '';
      const cut = id.lastIndexOf('-evt-');
      const collector = cut === -1 ? undefined : collectors.get(id.slice(0, cut));
      collector?.(receipt, at);
    },
    { noAck: true },
  );
}

/**
 * Waits until every event of `prefix` has a receipt. Resolves with {lastAt, receipts};
 * rejects on a non-accepted outcome, or when no receipt came for `stallMs`.
 */
function collectReceipts(prefix, count, onReceipt, stallMs = 60_000) {
  return new Promise((resolve, reject) => {
    let got = 0;
    let lastAt = 0;
    let lastProgress = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - lastProgress > stallMs) {
        clearInterval(timer);
        collectors.delete(prefix);
        reject(new Error(`no receipt for ${stallMs} ms; ${got}/${count} in`));
      }
    }, 1000);
    collectors.set(prefix, (receipt, at) => {
      if (receipt.outcome !== 'accepted') {
        clearInterval(timer);
        collectors.delete(prefix);
        reject(new Error(`event ${receipt.eventId} ended ${receipt.outcome}: ${JSON.stringify(receipt)}`));
        return;
      }
      onReceipt?.(receipt, at);
      lastAt = at;
      lastProgress = Date.now();
      if (++got === count) {
        clearInterval(timer);
        collectors.delete(prefix);
        resolve({ lastAt, got });
      }
    });
  });
}

/** Exchanges of this run that events are published to (one per daemon build). */
const eventExchanges = new Set([EXCHANGE]);

class Daemon {
  /** A daemon with one subscription `name` (its queue: mllp.<name>), fed through its own exchange when `build` is a candidate. */
  /**
   * `receipts`: 'collected' (this process reads every receipt and checks its outcome),
   * 'uncollected' (published with confirms as always, to an exchange whose queue this process
   * only counts: case f, where parsing thousands of receipts a second on the same two cores
   * would slow the lanes being measured), or 'off'.
   */
  constructor(name, { port, lanes = 1, build = BUILDS[0], receipts = 'collected' }) {
    this.exchange = build.tag ? `${ID}.events-${build.tag}` : EXCHANGE;
    eventExchanges.add(this.exchange);
    declaredQueues.add(`mllp.${name}`);
    declaredQueues.add(`mllp.${name}.dead`);
    const config = daemonConfig(name, port, lanes, this.exchange, receipts !== 'off', receipts === 'uncollected' ? UNCOLLECTED_RECEIPTS : RECEIPTS_EXCHANGE);
    this.receipts = receipts;
    const nodeArgs = [
      ...(opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`, `--cpu-prof-name=${name}.cpuprofile`] : []),
      ...opts['node-args'].split(' ').filter(Boolean),
    ];
    this.name = name;
    this.build = build;
    this.logFile = join(workDir, `${name}.log`);
    const configFile = join(workDir, `${name}.json`);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const fd = openSync(this.logFile, 'a');
    // The configuration file decides; variables that would override it are left out.
    const env = { ...process.env };
    for (const key of ['LOG_LEVEL', 'HTTP_PORT', 'MLLP_DISPATCHER_CONFIG', 'AMQP_URL', 'AMQP_PASSWORD']) delete env[key];
    this.child = spawn(process.execPath, [...nodeArgs, build.cli, 'run', '--config', configFile], { stdio: ['ignore', fd, fd], cwd: root, env });
    closeSync(fd);
    children.add(this.child);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid() {
    return this.child.pid;
  }

  logContains(text) {
    try {
      return readFileSync(this.logFile, 'utf8').includes(text);
    } catch {
      return false;
    }
  }

  logTail(bytes = 2000) {
    try {
      const size = statSync(this.logFile).size;
      const fd = openSync(this.logFile, 'r');
      const buffer = Buffer.alloc(Math.min(bytes, size));
      readSync(fd, buffer, 0, buffer.length, size - buffer.length);
      closeSync(fd);
      return buffer.toString();
    } catch {
      return '';
    }
  }

  async ready() {
    let exited = false;
    void this.exited.then(() => (exited = true));
    await waitUntil(() => {
      if (exited) throw new Error(`daemon ${this.name} exited at start:\n${this.logTail()}`);
      return this.logContains('"broker session consuming"');
    }, `daemon ${this.name} to consume`, 30_000, 50);
  }

  async stop() {
    await stopChild(this.child);
    const { code, signal } = await this.exited;
    if (code !== 0) log(`daemon ${this.name} exited with ${code ?? signal}:\n${this.logTail()}`);
    return code;
  }
}

/**
 * One timed drain: hold the receiver's ACKs, publish `events` (the daemon takes its
 * prefetch and waits on the first ACK; the rest waits in its queue), then release the
 * receiver and time until every event is done: with collected receipts, until the last
 * accepted receipt is in; otherwise until the receiver's last ACK (the daemon settles each
 * event right after its ACK), and then, untimed, every event is checked settled (a receipt
 * counted in its queue, or, with receipts off, the event queue empty).
 */
async function timedDrain(daemon, receiver, pub, prefix, events) {
  await receiver.pause();
  const ackedBefore = (await receiver.stats()).acked;
  const collected = daemon.receipts === 'collected';
  const done = collected
    ? collectReceipts(prefix, events.length)
    : (await receiver.whenAcked(ackedBefore + events.length)).reached.then(({ at }) => ({ lastAt: at - performance.timeOrigin }));
  await publishAll(pub, daemon.exchange, events);
  // Let the daemon take its prefetch and block on the held ACK.
  await sleep(300);
  const queue = `mllp.${daemon.name}`;
  const waiting = await queueDepth(queue);
  const pids = { daemon: daemon.pid, receiver: receiver.child.pid, broker: brokerPid };
  const statsBefore = await receiver.stats();
  const cpuBefore = cpuSnapshot(pids);
  const t0 = performance.now();
  await receiver.resume();
  const { lastAt } = await done;
  const seconds = (lastAt - t0) / 1000;
  const cpu = cpuPerEvent(cpuBefore, cpuSnapshot(pids), events.length);
  const statsAfter = await receiver.stats();
  // How long the daemon took, per connection, from an ACK to its next message.
  const turnaroundMs = (statsAfter.turnaroundMs - statsBefore.turnaroundMs) / Math.max(1, statsAfter.turnarounds - statsBefore.turnarounds);
  // How long the receiver actually held each message (delayed mode; nominal --slow-delay-ms).
  const holdMs = (statsAfter.holdMs - statsBefore.holdMs) / Math.max(1, statsAfter.holds - statsBefore.holds);
  if (daemon.receipts === 'uncollected') {
    await waitUntil(async () => (await queueDepth(UNCOLLECTED_RECEIPTS)) >= events.length, 'a receipt for every event');
    await purgeQueue(UNCOLLECTED_RECEIPTS);
  } else if (daemon.receipts === 'off') {
    await waitUntil(async () => (await queueDepth(queue)) === 0, 'the queue to be empty');
  }
  return { perSec: events.length / seconds, seconds, waiting, cpu, turnaroundMs, holdMs };
}

// ------------------------------------------------------------------ (c0) the daemon with receipts off
async function caseDaemonNoReceipts(receiver, pub, makeRoundEvents) {
  const daemon = new Daemon(`${ID}-c0`, { port: receiver.port, receipts: 'off' });
  const perRound = [];
  const cpus = [];
  try {
    await daemon.ready();
    for (let round = 0; round <= ROUNDS; round++) {
      const events = makeRoundEvents(`${ID}-c0r${round}`, round === 0 ? WARMUP : N);
      const { perSec, cpu } = await timedDrain(daemon, receiver, pub, `${ID}-c0r${round}`, events);
      if (round === 0) continue;
      perRound.push(perSec);
      cpus.push(cpu);
      log(`(c0) daemon, receipts off, round ${round}: ${fmt(perSec)} events/s; CPU us/event: ${describeCpu(cpu)}`);
    }
  } finally {
    await daemon.stop();
  }
  return { perRound, cpu: medianCpu(cpus) };
}

// ------------------------------------------------------------------ CPU accounting
// CPU time (user + system) of the processes involved, from /proc/<pid>/stat, so the note can
// say which process the machine's two cores were spent in. Clock ticks are 10 ms: use over
// drains of a few seconds only.
const CLK_TCK = 100;
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
/** The RabbitMQ server's Erlang VM (not a short-lived rabbitmqctl one): the beam.smp with the most CPU time. */
function findBrokerPid() {
  let best;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'beam.smp') continue;
      const used = cpuMs(entry);
      if (!best || used > best.used) best = { pid: Number(entry), used };
    } catch {
      // gone
    }
  }
  return best?.pid;
}
const brokerPid = findBrokerPid();
function cpuSplitMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(fields[11]) * 1000) / CLK_TCK, system: (Number(fields[12]) * 1000) / CLK_TCK };
  } catch {
    return { user: NaN, system: NaN };
  }
}
function cpuSnapshot(pids) {
  const snapshot = {};
  for (const [name, pid] of Object.entries(pids)) if (pid !== undefined) snapshot[name] = cpuMs(pid);
  if (process.env.BENCH_CPU_SPLIT && pids.daemon) {
    const { user, system } = cpuSplitMs(pids.daemon);
    snapshot['daemon-user'] = user;
    snapshot['daemon-sys'] = system;
  }
  const self = process.cpuUsage();
  snapshot.bench = (self.user + self.system) / 1000;
  return snapshot;
}
/** CPU microseconds per event for each process between two snapshots. */
function cpuPerEvent(before, after, events) {
  const out = {};
  for (const name of Object.keys(after)) out[name] = ((after[name] - before[name]) * 1000) / events;
  return out;
}
const describeCpu = (cpu) => Object.entries(cpu).map(([name, us]) => `${name} ${fmt(us)}`).join(', ');

// ------------------------------------------------------------------ results
const results = {};
const rows = [];
function row(name, value, unit, target, pass, detail = '') {
  rows.push({ name, value, unit, target, pass, detail });
}
const fmt = (value, digits = 0) => (value === null || value === undefined || Number.isNaN(value) ? '-' : Number(value).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

// ------------------------------------------------------------------ (a) MLLP floor
async function caseFloor(receiver, frames) {
  const perRound = [];
  const cpus = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const socket = net.connect({ host: '127.0.0.1', port: receiver.port });
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const count = round === 0 ? Math.min(WARMUP, frames.length) : frames.length;
    const cpuBefore = cpuSnapshot({ receiver: receiver.child.pid });
    const seconds = await new Promise((resolve) => {
      let next = 0;
      let pending = 0;
      const t0 = performance.now();
      socket.on('data', (chunk) => {
        // An ACK is complete when its 0x1C 0x0D arrived; one message in flight, so count them.
        for (let at = chunk.indexOf(0x1c); at !== -1; at = chunk.indexOf(0x1c, at + 1)) pending--;
        if (pending > 0) return;
        if (next === count) return resolve((performance.now() - t0) / 1000);
        pending = 1;
        socket.write(frames[next++]);
      });
      pending = 1;
      socket.write(frames[next++]);
    });
    socket.destroy();
    const cpu = cpuPerEvent(cpuBefore, cpuSnapshot({ receiver: receiver.child.pid }), count);
    if (round === 0) continue; // warm-up
    perRound.push(count / seconds);
    cpus.push(cpu);
    log(`(a) floor round ${round}: ${fmt(count / seconds)} msgs/s; CPU us/msg: ${describeCpu(cpu)}`);
  }
  const latency = PACED_SECONDS > 0 ? await pacedRoundTrips(receiver, frames) : null;
  return { perRound, cpu: medianCpu(cpus), latency };
}

/** The bare client at PACED_RATE: write -> ACK round trip of each message (the MLLP part of (c)'s latency). */
async function pacedRoundTrips(receiver, frames) {
  const total = Math.min(frames.length, Math.round(PACED_RATE * Math.min(PACED_SECONDS, 5)));
  const socket = net.connect({ host: '127.0.0.1', port: receiver.port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const rtt = new Float64Array(total);
  const t0 = performance.now();
  await new Promise((resolve) => {
    let sent = 0;
    let inFlight = false;
    let sentAt = 0;
    const pump = () => {
      if (inFlight) return;
      if (sent === total) return resolve();
      const due = Math.floor(((performance.now() - t0) / 1000) * PACED_RATE) + 1;
      if (sent < due) {
        inFlight = true;
        sentAt = performance.now();
        socket.write(frames[sent]);
      } else {
        setTimeout(pump, 1);
      }
    };
    socket.on('data', (chunk) => {
      if (chunk.indexOf(0x1c) === -1) return;
      rtt[sent++] = performance.now() - sentAt;
      inFlight = false;
      pump();
    });
    pump();
  });
  socket.destroy();
  const result = latencySummary(rtt, total / ((performance.now() - t0) / 1000));
  log(`(a) paced round trips at ${fmt(result.rate)}/s: p50 ${fmt(result.p50, 3)} ms, p99 ${fmt(result.p99, 3)}, max ${fmt(result.max, 3)}`);
  return result;
}

// ------------------------------------------------------------------ (b) AMQP ceiling
async function caseAmqp(pub, makeRoundEvents) {
  const queue = `${ID}.amqp`;
  const setup = await broker.createChannel();
  await declareQueue(setup, queue);
  await setup.close();
  // Its own connection, like the daemon's.
  const connection = await amqp.connect(AMQP_URL, { noDelay: true });
  const perRound = [];
  const cpus = [];
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const events = makeRoundEvents(`${ID}-b${round}`, round === 0 ? WARMUP : N);
      await publishAll(pub, '', events, () => queue);
      await waitUntil(async () => (await queueDepth(queue)) >= events.length, 'the ceiling queue to fill');
      const channel = await connection.createChannel();
      await channel.prefetch(PREFETCH);
      const cpuBefore = cpuSnapshot({ broker: brokerPid });
      const t0 = performance.now();
      await new Promise((resolve) => {
        let acked = 0;
        channel.consume(queue, (message) => {
          channel.ack(message);
          if (++acked === events.length) resolve();
        });
      });
      // One round trip on the same channel: the broker has processed every ack before it answers.
      await channel.checkQueue(queue);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuPerEvent(cpuBefore, cpuSnapshot({ broker: brokerPid }), events.length);
      await channel.close();
      if (round === 0) continue;
      perRound.push(events.length / seconds);
      cpus.push(cpu);
      log(`(b) AMQP ceiling round ${round}: ${fmt(events.length / seconds)} events/s; CPU us/event: ${describeCpu(cpu)}`);
    }
  } finally {
    await connection.close().catch(() => {});
  }
  return { perRound, cpu: medianCpu(cpus) };
}

function medianCpu(cpus) {
  const cpu = {};
  for (const key of Object.keys(cpus[0] ?? {})) cpu[key] = median(cpus.map((c) => c[key]));
  return cpu;
}

// ------------------------------------------------------------------ (b2) relay: the daemon's AMQP work alone
async function caseRelay(pub, makeRoundEvents) {
  const queue = `${ID}.relay`;
  const setup = await broker.createChannel();
  await declareQueue(setup, queue);
  await setup.close();
  const relay = startIpcChild('relay.mjs', ['--queue', queue, '--exchange', RECEIPTS_EXCHANGE, '--url', AMQP_URL, '--prefetch', String(PREFETCH)]);
  await relay.next('ready');
  const perRound = [];
  const cpus = [];
  let latency = null;
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const prefix = `${ID}-b2r${round}`;
      const events = makeRoundEvents(prefix, round === 0 ? WARMUP : N);
      await publishAll(pub, '', events, () => queue);
      await waitUntil(async () => (await queueDepth(queue)) >= events.length, 'the relay queue to fill');
      const receiptsIn = collectReceipts(prefix, events.length);
      const pids = { relay: relay.child.pid, broker: brokerPid };
      const cpuBefore = cpuSnapshot(pids);
      const t0 = performance.now();
      await relay.request({ type: 'consume' }, 'consuming');
      const { lastAt } = await receiptsIn;
      const seconds = (lastAt - t0) / 1000;
      const cpu = cpuPerEvent(cpuBefore, cpuSnapshot(pids), events.length);
      await relay.request({ type: 'cancel' }, 'cancelled');
      if (round === 0) continue;
      perRound.push(events.length / seconds);
      cpus.push(cpu);
      log(`(b2) relay round ${round}: ${fmt(events.length / seconds)} events/s; CPU us/event: ${describeCpu(cpu)}`);
    }
    if (PACED_SECONDS > 0) {
      await relay.request({ type: 'consume' }, 'consuming');
      latency = await pacedLatency(pub, { label: '(b2)', prefix: `${ID}-b2p`, seconds: Math.min(PACED_SECONDS, 5), exchange: '', routingKeyOf: () => queue });
      await relay.request({ type: 'cancel' }, 'cancelled');
    }
  } finally {
    await stopChild(relay.child, 5000);
  }
  return { perRound, cpu: medianCpu(cpus), latency };
}

// ------------------------------------------------------------------ (c) the daemon
async function caseDaemon(receiver, pub, makeRoundEvents) {
  const runs = BUILDS.map((build, i) => ({ build, daemon: new Daemon(`${ID}-c${i || ''}`, { port: receiver.port, build }), perRound: [], cpus: [] }));
  try {
    for (const run of runs) await run.daemon.ready();
    for (let round = 0; round <= ROUNDS; round++) {
      if (round === 0 && WARMUP === 0) continue;
      for (const [i, run] of runs.entries()) {
        const label = `(c)${run.build.tag ? ` ${run.build.tag}` : ''}`;
        const prefix = `${ID}-c${i}r${round}`;
        const events = makeRoundEvents(prefix, round === 0 ? WARMUP : N);
        const { perSec, waiting, cpu, turnaroundMs } = await timedDrain(run.daemon, receiver, pub, prefix, events);
        if (round === 0) {
          log(`${label} daemon warm-up: ${fmt(perSec)} events/s (${events.length} events)`);
          continue;
        }
        run.perRound.push(perSec);
        run.cpus.push(cpu);
        log(`${label} daemon round ${round}: ${fmt(perSec)} events/s (${waiting} waiting in its queue at the start); CPU us/event: ${describeCpu(cpu)}; ACK -> next message ${fmt(turnaroundMs * 1000)} us`);
      }
    }
    for (const [i, run] of runs.entries()) {
      const label = `(c)${run.build.tag ? ` ${run.build.tag}` : ''}`;
      run.latency = PACED_SECONDS > 0 ? await pacedLatency(pub, { label, prefix: `${ID}-p${i}`, exchange: run.daemon.exchange }) : null;
      const left = await queueDepth(`mllp.${run.daemon.name}`);
      if (left !== 0) throw new Error(`daemon queue not drained: ${left} left`);
    }
    return runs.map((run) => ({ tag: run.build.tag, perRound: run.perRound, latency: run.latency, cpu: medianCpu(run.cpus) }));
  } finally {
    for (const run of runs) {
      const code = await run.daemon.stop();
      if (opts.profile) log(`(c) CPU profile of the daemon (exit ${code}): ${join(opts.profile, `${run.daemon.name}.cpuprofile`)}`);
    }
  }
}

/**
 * Publishes at PACED_RATE for `seconds`; latency = the publish call -> the accepted receipt
 * arriving in the benchmark (both timed here, so no clock skew).
 */
async function pacedLatency(pub, { label, prefix, seconds = PACED_SECONDS, exchange = EXCHANGE, routingKeyOf = (e) => e.routingKey }) {
  const total = Math.round(PACED_RATE * seconds);
  const events = makeEvents(total, prefix, 7);
  const sentAt = new Float64Array(total);
  const latencies = new Float64Array(total);
  const indexOf = (id) => Number(id.slice(id.lastIndexOf('-') + 1));
  const done = collectReceipts(prefix, total, (receipt, at) => {
    const i = indexOf(receipt.eventId);
    latencies[i] = at - sentAt[i];
  });
  log(`${label} paced run: ${total} events at ${PACED_RATE}/s`);
  const t0 = performance.now();
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * PACED_RATE) + 1);
      while (sent < due) {
        const e = events[sent];
        sentAt[sent] = performance.now();
        pub.publish(exchange, routingKeyOf(e), e.body, { contentType: 'application/json', messageId: e.id, persistent: true });
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const achieved = total / ((performance.now() - t0) / 1000);
  await pub.waitForConfirms();
  await done;
  const result = latencySummary(latencies, achieved);
  log(`${label} paced: ${fmt(achieved)} events/s published; p50 ${fmt(result.p50, 2)} ms, p90 ${fmt(result.p90, 2)}, p99 ${fmt(result.p99, 2)}, max ${fmt(result.max, 2)}`);
  return result;
}

function latencySummary(latencies, rate) {
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  return {
    rate,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1],
    count: sorted.length,
  };
}

/** A helper process driven over IPC (naive client, relay). */
function startIpcChild(script, args) {
  const child = fork(join(here, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: root });
  children.add(child);
  const next = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message?.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code) => reject(new Error(`${script} exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const request = (message, reply) => {
    const answer = next(reply);
    child.send(message);
    return answer;
  };
  return { child, next, request };
}

// ------------------------------------------------------------------ (d) naive
async function caseNaive(receiver, pub, makeRoundEvents) {
  const queue = `${ID}.naive`;
  const setup = await broker.createChannel();
  await declareQueue(setup, queue);
  await setup.close();
  const { child, next } = startIpcChild('naive-client.mjs', ['--queue', queue, '--port', String(receiver.port), '--url', AMQP_URL]);
  await next('ready');
  const perRound = [];
  let mismatches = 0;
  let notAA = 0;
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const events = makeRoundEvents(`${ID}-d${round}`, round === 0 ? WARMUP : N);
      await publishAll(pub, '', events, () => queue);
      await waitUntil(async () => (await queueDepth(queue)) >= events.length, 'the naive queue to fill');
      const reply = next('done');
      child.send({ type: 'go', n: events.length });
      const result = await reply;
      mismatches += result.mismatches;
      notAA += result.notAA;
      const perSec = events.length / (result.elapsedMs / 1000);
      if (round === 0) continue;
      perRound.push(perSec);
      log(`(d) naive round ${round}: ${fmt(perSec)} events/s (MSA-2 mismatches ${result.mismatches})`);
    }
  } finally {
    await stopChild(child, 5000);
  }
  return { perRound, mismatches, notAA };
}

// ------------------------------------------------------------------ (e) memory
function readStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

async function caseMemory(receiver, pub) {
  const daemon = new Daemon(`${ID}-e`, { port: receiver.port });
  await daemon.ready();
  let peakRss = 0;
  const poll = () => {
    const { rss } = readStatus(daemon.pid);
    if (rss > peakRss) peakRss = rss;
  };
  const poller = setInterval(poll, 100);
  try {
    const idle = readStatus(daemon.pid).rss;
    const prefix = `${ID}-e`;
    const events = makeEvents(MEMORY_N, prefix, 11);
    log(`(e) memory: publishing ${MEMORY_N} events to a consuming daemon (RSS at rest ${fmt(idle, 1)} MB)`);
    const { perSec, waiting } = await timedDrain(daemon, receiver, pub, prefix, events);
    poll();
    const { hwm } = readStatus(daemon.pid);
    const peak = Math.max(peakRss, hwm);
    log(`(e) memory: ${waiting} events waited in the queue; drained at ${fmt(perSec)} events/s; peak RSS ${fmt(peak, 1)} MB (VmHWM ${fmt(hwm, 1)}, polled max ${fmt(peakRss, 1)})`);
    return { peak, idle, waiting, perSec };
  } finally {
    clearInterval(poller);
    await daemon.stop();
  }
}

// ------------------------------------------------------------------ (f) slow receiver, lanes
async function caseLanes(slowReceiver, pub) {
  const perLanes = BUILDS.map(() => ({}));
  for (const lanes of LANES) {
    const runs = BUILDS.map((build, i) => ({ build, daemon: new Daemon(`${ID}-f${lanes}${i ? 'x' : ''}`, { port: slowReceiver.port, lanes, build, receipts: 'uncollected' }), perRound: [] }));
    try {
      for (const run of runs) await run.daemon.ready();
      for (let round = 0; round <= ROUNDS; round++) {
        for (const [i, run] of runs.entries()) {
          const prefix = `${ID}-f${lanes}b${i}r${round}`;
          if (round === 0) {
            // Warm-up (JIT) against the same receiver without its delay.
            if (WARMUP === 0) continue;
            await slowReceiver.setDelay(0);
            await timedDrain(run.daemon, slowReceiver, pub, prefix, makeEvents(WARMUP, prefix, 100));
            await slowReceiver.setDelay(SLOW_DELAY_MS);
            continue;
          }
          const events = makeEvents(SLOW_N, prefix, 100 + round);
          const { perSec, cpu, turnaroundMs, holdMs } = await timedDrain(run.daemon, slowReceiver, pub, prefix, events);
          run.perRound.push(perSec);
          log(`(f)${run.build.tag ? ` ${run.build.tag}` : ''} ${SLOW_DELAY_MS} ms receiver, lanes ${lanes}, round ${round}: ${fmt(perSec)} events/s; CPU us/event: ${describeCpu(cpu)}; ACK -> next message on a lane ${fmt(turnaroundMs * 1000)} us; receiver hold ${fmt(holdMs * 1000)} us`);
        }
      }
    } finally {
      for (const run of runs) await run.daemon.stop();
    }
    runs.forEach((run, i) => (perLanes[i][lanes] = run.perRound));
  }
  return perLanes;
}

// ------------------------------------------------------------------ main
async function main() {
  try {
    broker = await amqp.connect(AMQP_URL, { noDelay: true });
  } catch (error) {
    log(`cannot reach RabbitMQ at ${AMQP_URL.replace(/:[^:@/]*@/, ':****@')}: ${error.message}`);
    process.exit(1);
  }
  broker.on('error', (error) => log(`broker connection error: ${error.message}`));
  log(`run ${ID}: N=${N}, rounds=${ROUNDS}, cases ${[...ONLY].join(',')}, node ${process.version}, daemon ${cli}, logs in ${workDir}`);
  const pub = await broker.createConfirmChannel();
  await pub.assertExchange(EXCHANGE, 'topic', { durable: true });
  await pub.assertExchange(DEAD_EXCHANGE, 'direct', { durable: true });
  await startReceiptConsumer();

  const makeRoundEvents = (prefix, count) => makeEvents(count, prefix);

  const receiver = await startReceiver(0);
  log(`ACK receiver (no delay) on port ${receiver.port}, pid ${receiver.child.pid}`);

  if (ONLY.has('a')) {
    // The same HL7 the daemon sends, built once with the daemon's own mapper and framing.
    const { loadConfig } = await import('../dist/config/load-config.js');
    const { createEventDecoder } = await import('../dist/event/decode-event.js');
    const { buildMessages } = await import('../dist/mapping/build-messages.js');
    const { encodeFrame } = await import('../dist/transport/mllp-framing.js');
    const configFile = join(workDir, 'floor.json');
    writeFileSync(configFile, JSON.stringify(daemonConfig(`${ID}-a`, receiver.port, 1)));
    const mapping = loadConfig({ configFile }).subscriptions[0].mapping;
    const decode = createEventDecoder({ maxMessageBytes: 1 << 20 });
    const now = new Date();
    const frames = makeEvents(N, `${ID}-a`, 1).flatMap((e) => {
      const decoded = decode(e.body);
      if (!decoded.ok) throw new Error(`generated event invalid: ${decoded.reason}`);
      const built = buildMessages(decoded.event, mapping, { now, utcOffsetMinutes: -now.getTimezoneOffset() });
      return built.messages.map((m) => encodeFrame(m.text));
    });
    const bytes = frames.reduce((sum, f) => sum + f.length, 0) / frames.length;
    log(`(a) ${frames.length} messages, ${fmt(bytes)} bytes per frame on average`);
    const { perRound, cpu, latency } = await caseFloor(receiver, frames);
    results.floorPerSec = median(perRound);
    row('(a) MLLP floor: bare net client, 1 in flight', results.floorPerSec, 'msgs/s', 'reference', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/msg ${describeCpu(cpu)}`);
    if (latency) {
      results.floorLatency = latency;
      row(`(a) MLLP round trip, p99 @ ${fmt(latency.rate)}/s`, latency.p99, 'ms', 'reference', null, `p50 ${fmt(latency.p50, 3)}, p90 ${fmt(latency.p90, 3)}, max ${fmt(latency.max, 2)}`);
    }
  }

  if (ONLY.has('b')) {
    const { perRound, cpu } = await caseAmqp(pub, makeRoundEvents);
    results.amqpPerSec = median(perRound);
    row(`(b) AMQP ceiling: consume+ack, prefetch ${PREFETCH}`, results.amqpPerSec, 'events/s', 'reference', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/event ${describeCpu(cpu)}`);
  }

  if (ONLY.has('b2')) {
    const { perRound, cpu, latency } = await caseRelay(pub, makeRoundEvents);
    results.amqpReceiptsPerSec = median(perRound);
    row('(b2) AMQP work of the daemon alone (relay: consume, receipt+confirm, ack)', results.amqpReceiptsPerSec, 'events/s', 'reference', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/event ${describeCpu(cpu)}`);
    if (latency) {
      results.relayLatency = latency;
      row(`(b2) relay publish -> receipt, p99 @ ${fmt(latency.rate)}/s`, latency.p99, 'ms', 'reference', null, `p50 ${fmt(latency.p50, 2)}, p90 ${fmt(latency.p90, 2)}, max ${fmt(latency.max, 2)}`);
    }
  }

  if (ONLY.has('c')) {
    const [base, candidate] = await caseDaemon(receiver, pub, makeRoundEvents);
    const { perRound, latency, cpu } = base;
    results.daemonPerSec = median(perRound);
    const floorRef = [results.floorPerSec, results.amqpPerSec].filter((v) => v != null);
    const half = floorRef.length ? 0.5 * Math.min(...floorRef) : null;
    const pass = results.daemonPerSec >= 5000 && (half === null || results.daemonPerSec >= half);
    row('(c) daemon end to end, drain (1 lane)', results.daemonPerSec, 'events/s', `>= 5,000${half !== null ? ` and >= ${fmt(half)} (0.5 x min(a,b))` : ''}`, pass, perRound.map((v) => fmt(v)).join(' / '));
    results.cpu = cpu;
    row('(c) CPU per event during the drain', cpu.daemon, 'us', 'info', null, describeCpu(cpu));
    if (latency) {
      results.p50Ms = latency.p50;
      results.p99Ms = latency.p99;
      results.latency = latency;
      row(`(c) publish -> accepted receipt, p50 @ ${fmt(latency.rate)}/s`, latency.p50, 'ms', 'info', null, `p90 ${fmt(latency.p90, 2)}, max ${fmt(latency.max, 2)}`);
      row(`(c) publish -> accepted receipt, p99 @ ${fmt(latency.rate)}/s`, latency.p99, 'ms', '<= 5', latency.p99 <= 5, `p99.9 ${fmt(latency.p999, 2)}, ${latency.count} events`);
    }
    if (candidate) {
      const value = median(candidate.perRound);
      row('(c) CANDIDATE (--compare) drain (1 lane)', value, 'events/s', `vs ${fmt(results.daemonPerSec)}`, null, `${candidate.perRound.map((v) => fmt(v)).join(' / ')}; x${fmt(value / results.daemonPerSec, 2)}; CPU us/event ${describeCpu(candidate.cpu)}`);
      if (candidate.latency) {
        row(`(c) CANDIDATE p99 @ ${fmt(candidate.latency.rate)}/s`, candidate.latency.p99, 'ms', `vs ${fmt(latency?.p99, 2)}`, null, `p50 ${fmt(candidate.latency.p50, 2)}, p90 ${fmt(candidate.latency.p90, 2)}`);
      }
    }
  }

  if (ONLY.has('c0')) {
    const { perRound, cpu } = await caseDaemonNoReceipts(receiver, pub, makeRoundEvents);
    results.daemonNoReceiptsPerSec = median(perRound);
    row('(c0) daemon drain, receipts off (amqp.receipts false)', results.daemonNoReceiptsPerSec, 'events/s', 'info', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/event ${describeCpu(cpu)}`);
  }

  if (ONLY.has('d')) {
    const { perRound, mismatches, notAA } = await caseNaive(receiver, pub, makeRoundEvents);
    results.naivePerSec = median(perRound);
    row(
      '(d) naive amqplib + node-hl7-client 3.2.0 (prefetch 1, acks after the handler saw *a* reply; uncorrelated, no timeout)',
      results.naivePerSec,
      'events/s',
      'reference',
      null,
      `${perRound.map((v) => fmt(v)).join(' / ')}; MSA-2 mismatches ${mismatches}, non-AA ${notAA}`,
    );
    if (results.daemonPerSec != null) {
      const ratio = results.daemonPerSec / results.naivePerSec;
      row('(c)/(d) daemon vs naive', ratio, 'x', '>= 2', ratio >= 2);
    }
  }

  if (ONLY.has('e')) {
    const memory = await caseMemory(receiver, pub);
    results.rssMb = memory.peak;
    row(`(e) daemon peak RSS, ${fmt(memory.waiting)} events waiting`, memory.peak, 'MB', '<= 120', memory.peak <= 120, `at rest ${fmt(memory.idle, 1)} MB; drained at ${fmt(memory.perSec)} events/s`);
  }

  if (ONLY.has('f')) {
    const slow = await startReceiver(SLOW_DELAY_MS);
    log(`ACK receiver (${SLOW_DELAY_MS} ms per ACK) on port ${slow.port}`);
    const [perLanes, candidate] = await caseLanes(slow, pub);
    await stopChild(slow.child, 2000);
    results.lanes = {};
    for (const [lanes, perRound] of Object.entries(perLanes)) {
      results.lanes[lanes] = median(perRound);
      row(`(f) ${SLOW_DELAY_MS} ms receiver, ${lanes} lane${lanes === '1' ? '' : 's'}`, results.lanes[lanes], 'events/s', lanes === '1' ? `<= ${fmt(1000 / SLOW_DELAY_MS)} (1/delay)` : 'info', null, perRound.map((v) => fmt(v)).join(' / '));
    }
    results.slowReceiverPerSec = results.lanes['1'] ?? null;
    if (results.lanes['1'] && results.lanes['8']) {
      const ratio = results.lanes['8'] / results.lanes['1'];
      row('(f) 8 lanes vs 1 lane', ratio, 'x', '>= 6', ratio >= 6);
    }
    if (candidate) {
      for (const [lanes, perRound] of Object.entries(candidate)) {
        const value = median(perRound);
        row(`(f) CANDIDATE ${lanes} lane${lanes === '1' ? '' : 's'}`, value, 'events/s', `vs ${fmt(results.lanes[lanes])}`, null, `${perRound.map((v) => fmt(v)).join(' / ')}; x${fmt(value / results.lanes[lanes], 2)}`);
      }
    }
  }

  if (ONLY.has('g')) {
    for (const build of BUILDS) {
      const figures = await caseIdleMemory({ subscriptions: 40, lanes: 4, dist: join(build.cli, '..', '..') });
      const tag = build.tag ? ` ${build.tag.toUpperCase()}` : '';
      if (!build.tag) results.idleMemory = figures;
      row(`(g)${tag} RSS at rest, 40 subscriptions x 4 lanes`, figures.manyRssMb, 'MB', '< 160', figures.manyRssMb < 160, `1 x 4 lanes ${fmt(figures.oneRssMb, 1)} MB; 40 x 1 lane ${fmt(figures.manySingleLaneRssMb, 1)} MB`);
      row(`(g)${tag} cost of one more subscription with 4 lanes`, figures.perSubscriptionMb, 'MB', 'info', null, '(RSS(40 x 4) - RSS(1 x 4)) / 39');
    }
  }

  printTable();
  const round = (v, d = 0) => (v == null ? null : Number(v.toFixed(d)));
  const json = {
    daemonPerSec: round(results.daemonPerSec),
    floorPerSec: round(results.floorPerSec),
    amqpPerSec: round(results.amqpPerSec),
    naivePerSec: round(results.naivePerSec),
    p50Ms: round(results.p50Ms, 2),
    p99Ms: round(results.p99Ms, 2),
    rssMb: round(results.rssMb, 1),
    slowReceiverPerSec: round(results.slowReceiverPerSec),
    lanes: results.lanes ? Object.fromEntries(Object.entries(results.lanes).map(([k, v]) => [k, round(v)])) : null,
    idleRss40x4Mb: round(results.idleMemory?.manyRssMb, 1),
    perSubscriptionMb: round(results.idleMemory?.perSubscriptionMb, 2),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

function printTable() {
  const headers = ['case', 'value', 'unit', 'target', 'result', 'rounds / detail'];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.value, r.unit === 'ms' || r.unit === 'x' ? 2 : r.unit === 'MB' ? 1 : 0),
    r.unit,
    r.target,
    r.pass === null ? '-' : r.pass ? 'PASS' : 'FAIL',
    r.detail,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 1 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(' | ')} |`;
  const out = [
    `mllp-dispatcher benchmark: N=${N}, rounds=${ROUNDS} (median), node ${process.version}, ${new Date().toISOString()}`,
    line(headers),
    `|${widths.map((w, i) => (i === 1 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...lines.map(line),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (error) => {
    log(`failed: ${error.stack ?? error.message}`);
    await cleanup();
    process.exit(1);
  });
