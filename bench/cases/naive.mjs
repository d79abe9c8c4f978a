// Case (d) naive of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import { N, ROUNDS, WARMUP, AMQP_URL, log, fmt } from '../lib/options.mjs';
import { ID, broker, stopChild, declareQueue, publishAll, queueDepth, waitUntil, startIpcChild } from '../lib/harness.mjs';

export async function caseNaive(receiver, pub, makeRoundEvents) {
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
