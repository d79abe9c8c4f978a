// Case (f) slow receiver, lanes of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import { makeEvents } from '../events.mjs';
import { ROUNDS, SLOW_N, LANES, SLOW_DELAY_MS, WARMUP, BUILDS, log, fmt } from '../lib/options.mjs';
import { ID } from '../lib/harness.mjs';
import { Daemon, timedDrain } from '../lib/daemon.mjs';
import { describeCpu } from '../lib/cpu.mjs';

export async function caseLanes(slowReceiver, pub) {
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
