// Case (e) memory of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import { readFileSync } from 'node:fs';
import { makeEvents } from '../events.mjs';
import { MEMORY_N, log, fmt } from '../lib/options.mjs';
import { ID } from '../lib/harness.mjs';
import { Daemon, timedDrain } from '../lib/daemon.mjs';

export function readStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

export async function caseMemory(receiver, pub) {
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
