// Case (a) MLLP floor of the benchmark (bench/run.mjs; method: docs/PERFORMANCE.md).
import net from 'node:net';
import { ROUNDS, PACED_RATE, PACED_SECONDS, WARMUP, log, fmt } from '../lib/options.mjs';
import { cpuSnapshot, cpuPerEvent, describeCpu, medianCpu } from '../lib/cpu.mjs';
import { latencySummary } from '../lib/latency.mjs';

export async function caseFloor(receiver, frames) {
  const perRound = [];
  const cpus = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const socket = net.connect({ host: '127.0.0.1', port: receiver.port });
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const count = round === 0 ? Math.min(WARMUP, frames.length) : frames.length;
    const cpuBefore = cpuSnapshot({ receiver: receiver.child.pid });
    const seconds = await new Promise((resolve) => {
      let next = 0;
      let pending = 0;
      const t0 = performance.now();
      socket.on('data', (chunk) => {
        // An ACK is complete when its 0x1C 0x0D arrived; one message in flight, so count them.
        for (let at = chunk.indexOf(0x1c); at !== -1; at = chunk.indexOf(0x1c, at + 1)) pending--;
        if (pending > 0) return;
        if (next === count) return resolve((performance.now() - t0) / 1000);
        pending = 1;
        socket.write(frames[next++]);
      });
      pending = 1;
      socket.write(frames[next++]);
    });
    socket.destroy();
    const cpu = cpuPerEvent(cpuBefore, cpuSnapshot({ receiver: receiver.child.pid }), count);
    if (round === 0) continue; // warm-up
    perRound.push(count / seconds);
    cpus.push(cpu);
    log(`(a) floor round ${round}: ${fmt(count / seconds)} msgs/s; CPU us/msg: ${describeCpu(cpu)}`);
  }
  const latency = PACED_SECONDS > 0 ? await pacedRoundTrips(receiver, frames) : null;
  return { perRound, cpu: medianCpu(cpus), latency };
}

/** The bare client at PACED_RATE: write -> ACK round trip of each message (the MLLP part of (c)'s latency). */
export async function pacedRoundTrips(receiver, frames) {
  const total = Math.min(frames.length, Math.round(PACED_RATE * Math.min(PACED_SECONDS, 5)));
  const socket = net.connect({ host: '127.0.0.1', port: receiver.port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const rtt = new Float64Array(total);
  const t0 = performance.now();
  await new Promise((resolve) => {
    let sent = 0;
    let inFlight = false;
    let sentAt = 0;
    const pump = () => {
      if (inFlight) return;
      if (sent === total) return resolve();
      const due = Math.floor(((performance.now() - t0) / 1000) * PACED_RATE) + 1;
      if (sent < due) {
        inFlight = true;
        sentAt = performance.now();
        socket.write(frames[sent]);
      } else {
        setTimeout(pump, 1);
      }
    };
    socket.on('data', (chunk) => {
      if (chunk.indexOf(0x1c) === -1) return;
      rtt[sent++] = performance.now() - sentAt;
      inFlight = false;
      pump();
    });
    pump();
  });
  socket.destroy();
  const result = latencySummary(rtt, total / ((performance.now() - t0) / 1000));
  log(`(a) paced round trips at ${fmt(result.rate)}/s: p50 ${fmt(result.p50, 3)} ms, p99 ${fmt(result.p99, 3)}, max ${fmt(result.max, 3)}`);
  return result;
}
