// A daemon under test (one subscription) and the timed drain every daemon case uses (bench/run.mjs).
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync, statSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { root, opts, AMQP_URL, BUILDS, log, sleep } from './options.mjs';
import { ID, EXCHANGE, DEAD_EXCHANGE, RECEIPTS_EXCHANGE, UNCOLLECTED_RECEIPTS, declaredQueues, children, workDir, stopChild, publishAll, queueDepth, purgeQueue, waitUntil, collectReceipts, eventExchanges } from './harness.mjs';
import { brokerPid, cpuSnapshot, cpuPerEvent } from './cpu.mjs';

export function daemonConfig(subscription, port, lanes, exchange = EXCHANGE, receipts = true, receiptsExchange = RECEIPTS_EXCHANGE) {
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

export class Daemon {
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
export async function timedDrain(daemon, receiver, pub, prefix, events) {
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
