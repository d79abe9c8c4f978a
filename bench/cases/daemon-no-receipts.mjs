// Case (c0) the daemon with receipts off of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import { N, ROUNDS, WARMUP, log, fmt } from '../lib/options.mjs';
import { ID } from '../lib/harness.mjs';
import { Daemon, timedDrain } from '../lib/daemon.mjs';
import { describeCpu, medianCpu } from '../lib/cpu.mjs';

export async function caseDaemonNoReceipts(receiver, pub, makeRoundEvents) {
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
