// Names, cleanup, broker helpers, the ACK receiver and IPC helper processes, receipts (bench/run.mjs).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, here, opts, log, sleep } from './options.mjs';

export const ID = `bench-${process.pid}`;
export const EXCHANGE = `${ID}.events`;
export const DEAD_EXCHANGE = `${ID}.dead`;
export const RECEIPTS_EXCHANGE = `${ID}.receipts`;
// Receipts that this process does not consume (case f): counted in their queue, not parsed.
export const UNCOLLECTED_RECEIPTS = `${ID}.receipts-uncollected`;
export const declaredQueues = new Set();
export const children = new Set();
export const workDir = mkdtempSync(join(tmpdir(), `${ID}-`));
export let broker;
/** Set once by run.mjs: the benchmark's own broker connection. */
export function setBroker(connection) {
  broker = connection;
}
export let cleaningUp;

export async function cleanup() {
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

export function stopChild(child, graceMs = 15_000) {
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

export let interrupted = 0;
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
export async function declareQueue(channel, queue, args = { 'x-queue-type': 'classic', 'x-single-active-consumer': true }) {
  declaredQueues.add(queue);
  await channel.assertQueue(queue, { durable: true, arguments: args });
}

/** Publishes events (persistent, publisher confirms, respecting back-pressure). */
export async function publishAll(channel, exchange, events, routingKeyOf = (e) => e.routingKey) {
  for (const e of events) {
    const ok = channel.publish(exchange, routingKeyOf(e), e.body, { contentType: 'application/json', messageId: e.id, persistent: true });
    if (!ok) await new Promise((resolve) => channel.once('drain', resolve));
  }
  await channel.waitForConfirms();
}

export async function queueDepth(queue) {
  const channel = await broker.createChannel();
  channel.on('error', () => {});
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close().catch(() => {});
  }
}

export async function purgeQueue(queue) {
  const channel = await broker.createChannel();
  channel.on('error', () => {});
  try {
    await channel.purgeQueue(queue);
  } finally {
    await channel.close().catch(() => {});
  }
}

export async function waitUntil(check, what, timeoutMs = 60_000, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ------------------------------------------------------------------ receivers
export async function startReceiver(delayMs) {
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
/** Receipts of every subscription of this run arrive here; collectors are keyed by event-id prefix. */
export const collectors = new Map();
export async function startReceiptConsumer() {
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
export function collectReceipts(prefix, count, onReceipt, stallMs = 60_000) {
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
export const eventExchanges = new Set([EXCHANGE]);

/** A helper process driven over IPC (naive client, relay). */
export function startIpcChild(script, args) {
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
