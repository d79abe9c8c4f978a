// Case (b2) relay: the daemon's AMQP work alone of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import { N, ROUNDS, PACED_SECONDS, WARMUP, PREFETCH, AMQP_URL, log, fmt } from '../lib/options.mjs';
import { ID, RECEIPTS_EXCHANGE, broker, stopChild, declareQueue, publishAll, queueDepth, waitUntil, collectReceipts, startIpcChild } from '../lib/harness.mjs';
import { brokerPid, cpuSnapshot, cpuPerEvent, describeCpu, medianCpu } from '../lib/cpu.mjs';
import { pacedLatency } from '../lib/latency.mjs';

export async function caseRelay(pub, makeRoundEvents) {
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
