// Case (c) the daemon of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import { join } from 'node:path';
import { opts, N, ROUNDS, PACED_SECONDS, WARMUP, BUILDS, log, fmt } from '../lib/options.mjs';
import { ID, queueDepth } from '../lib/harness.mjs';
import { Daemon, timedDrain } from '../lib/daemon.mjs';
import { brokerPid, describeCpu, medianCpu } from '../lib/cpu.mjs';
import { pacedLatency } from '../lib/latency.mjs';

export async function caseDaemon(receiver, pub, makeRoundEvents) {
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
      const waitPids = { daemon: run.daemon.pid, receiver: receiver.child.pid, ...(brokerPid ? { broker: brokerPid } : {}) };
      run.latency = PACED_SECONDS > 0 ? await pacedLatency(pub, { label, prefix: `${ID}-p${i}`, exchange: run.daemon.exchange, waitPids }) : null;
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
