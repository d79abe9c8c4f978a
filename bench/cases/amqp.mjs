// Case (b) AMQP ceiling of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import amqp from 'amqplib';
import { N, ROUNDS, WARMUP, PREFETCH, AMQP_URL, log, fmt } from '../lib/options.mjs';
import { ID, broker, declareQueue, publishAll, queueDepth, waitUntil } from '../lib/harness.mjs';
import { brokerPid, cpuSnapshot, cpuPerEvent, describeCpu, medianCpu } from '../lib/cpu.mjs';

export async function caseAmqp(pub, makeRoundEvents) {
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
