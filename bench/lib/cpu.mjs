// CPU accounting of the processes involved (bench/run.mjs).
import { readdirSync, readFileSync } from 'node:fs';
import { median, fmt } from './options.mjs';

// CPU time (user + system) of the processes involved, from /proc/<pid>/stat, so the note can
// say which process the machine's two cores were spent in. Clock ticks are 10 ms: use over
// drains of a few seconds only.
export const CLK_TCK = 100;
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
/** The RabbitMQ server's Erlang VM (not a short-lived rabbitmqctl one): the beam.smp with the most CPU time. */
export function findBrokerPid() {
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
export const brokerPid = findBrokerPid();
export function cpuSplitMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(fields[11]) * 1000) / CLK_TCK, system: (Number(fields[12]) * 1000) / CLK_TCK };
  } catch {
    return { user: NaN, system: NaN };
  }
}
export function cpuSnapshot(pids) {
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
export function cpuPerEvent(before, after, events) {
  const out = {};
  for (const name of Object.keys(after)) out[name] = ((after[name] - before[name]) * 1000) / events;
  return out;
}
export const describeCpu = (cpu) => Object.entries(cpu).map(([name, us]) => `${name} ${fmt(us)}`).join(', ');

export function medianCpu(cpus) {
  const cpu = {};
  for (const key of Object.keys(cpus[0] ?? {})) cpu[key] = median(cpus.map((c) => c[key]));
  return cpu;
}

/**
 * Time a process's threads spent runnable but waiting for a CPU, in ms, summed over its
 * threads (/proc/<pid>/task/<tid>/schedstat, second field, ns). Over a paced run it tells
 * whether the machine was oversubscribed: on a quiet machine it stays near zero, and every
 * millisecond of it is latency the daemon itself did not cause.
 */
export function runQueueWaitMs(pid) {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
      } catch {
        // thread gone
      }
    }
  } catch {
    return NaN;
  }
  return total;
}
