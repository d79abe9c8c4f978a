// Paced publish -> receipt latency (bench/run.mjs).
import { makeEvents } from '../events.mjs';
import { PACED_RATE, PACED_SECONDS, log, percentile, fmt } from './options.mjs';
import { EXCHANGE, collectReceipts } from './harness.mjs';
import { runQueueWaitMs } from './cpu.mjs';

/**
 * Publishes at PACED_RATE for `seconds`; latency = the publish call -> the accepted receipt
 * arriving in the benchmark (both timed here, so no clock skew).
 */
export async function pacedLatency(pub, { label, prefix, seconds = PACED_SECONDS, exchange = EXCHANGE, routingKeyOf = (e) => e.routingKey, waitPids = {} }) {
  const total = Math.round(PACED_RATE * seconds);
  const events = makeEvents(total, prefix, 7);
  const sentAt = new Float64Array(total);
  const latencies = new Float64Array(total);
  const indexOf = (id) => Number(id.slice(id.lastIndexOf('-') + 1));
  const done = collectReceipts(prefix, total, (receipt, at) => {
    const i = indexOf(receipt.eventId);
    latencies[i] = at - sentAt[i];
  });
  log(`${label} paced run: ${total} events at ${PACED_RATE}/s`);
  const waitBefore = Object.fromEntries(Object.entries(waitPids).map(([name, pid]) => [name, runQueueWaitMs(pid)]));
  const t0 = performance.now();
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * PACED_RATE) + 1);
      while (sent < due) {
        const e = events[sent];
        sentAt[sent] = performance.now();
        pub.publish(exchange, routingKeyOf(e), e.body, { contentType: 'application/json', messageId: e.id, persistent: true });
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const achieved = total / ((performance.now() - t0) / 1000);
  await pub.waitForConfirms();
  await done;
  const result = latencySummary(latencies, achieved);
  const elapsedMs = performance.now() - t0;
  // Run-queue wait of each process over the run: ms in total, µs per event, share of the run.
  result.runQueueWait = Object.fromEntries(
    Object.entries(waitBefore).map(([name, before]) => {
      const ms = runQueueWaitMs(waitPids[name]) - before;
      return [name, { ms, usPerEvent: (ms * 1000) / total, share: ms / elapsedMs }];
    }),
  );
  const waits = Object.entries(result.runQueueWait).map(([name, w]) => `${name} ${fmt(w.usPerEvent, 1)} us/event`).join(', ');
  log(`${label} paced: ${fmt(achieved)} events/s published; p50 ${fmt(result.p50, 2)} ms, p90 ${fmt(result.p90, 2)}, p99 ${fmt(result.p99, 2)}, max ${fmt(result.max, 2)}${waits ? `; run-queue wait ${waits}` : ''}`);
  return result;
}

export function latencySummary(latencies, rate) {
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  return {
    rate,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1],
    count: sorted.length,
  };
}
