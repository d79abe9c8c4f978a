#!/usr/bin/env node
// `npm run bench`: the performance benchmark of issue 6 (and the slow-receiver lanes case of
// issue 7). One command, one process tree, one sitting, on the real RabbitMQ; the MLLP
// receiver is a separate process (bench/ack-receiver.mjs). Method: docs/PERFORMANCE.md.
//
//   node bench/run.mjs [--n 20000] [--rounds 3] [--only a,b,b2,c,c0,d,e,f,g]
//                      [--memory-n 100000] [--slow-n 5000] [--lanes 1,4,8,16] [--slow-delay-ms 2]
//                      [--paced-rate 1000] [--paced-seconds 10] [--warmup 2000] [--prefetch 64]
//                      [--profile DIR] [--keep-logs] [--dist DIR] [--compare DIR] [--node-args="..."]
//                      [--subscription-json='{...}']
//
// Cases: (a) MLLP floor: bare node:net client, one message in flight, + paced round trips;
//        (b) AMQP ceiling: consume + ack at the daemon's prefetch;
//        (b2) the daemon's AMQP work alone (bench/relay.mjs: consume, receipt + confirm, ack),
//             drain rate and paced publish -> receipt latency;
//        (c) the daemon end to end: drain rate (N events waiting), then paced latency;
//        (d) the naive amqplib + node-hl7-client 3.2.0 script (bench/naive-client.mjs);
//        (e) the daemon's peak RSS while --memory-n events wait in its queue and drain;
//        (f) a receiver that takes --slow-delay-ms per ACK, with --lanes lanes (receipts are
//            published as always but only counted, not consumed, by this process);
//        (g) RSS at rest with 40 subscriptions x 4 lanes, and the cost of one more
//            subscription (bench/idle-memory.mjs).
// --profile DIR: every daemon runs under --cpu-prof (summarise: bench/profile-summary.mjs).
// --dist DIR: run the daemon from another build (a dist/ directory whose parent also holds
// package.json, config/, schemas/ and node_modules/).
// --compare DIR: also run a candidate build (same layout) in (c), (f) and (g), rounds alternating.
// --node-args="...": extra node flags for every daemon (e.g. --node-args=--trace-gc; output in its log).
// --subscription-json='{"prefetch":512}': merged into every daemon's subscription (experiments).
// BENCH_CPU_SPLIT=1 (environment): also report the daemon's user and system CPU apart.
// Progress goes to stderr; stdout gets the table and, last, exactly one JSON line.
// Everything it declares on the broker is named bench-<pid>.* / mllp.bench-<pid>-* and is
// deleted at the end, also on Ctrl-C; child processes are stopped on exit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { makeEvents } from './events.mjs';
import { caseIdleMemory } from './idle-memory.mjs';
import { N, ROUNDS, ONLY, SLOW_DELAY_MS, PREFETCH, AMQP_URL, cli, BUILDS, log, median, results, rows, row, fmt } from './lib/options.mjs';
import { ID, EXCHANGE, DEAD_EXCHANGE, workDir, broker, cleanup, stopChild, startReceiver, startReceiptConsumer } from './lib/harness.mjs';
import { daemonConfig } from './lib/daemon.mjs';
import { describeCpu } from './lib/cpu.mjs';
import { caseFloor } from './cases/floor.mjs';
import { caseAmqp } from './cases/amqp.mjs';
import { caseRelay } from './cases/relay.mjs';
import { caseDaemon } from './cases/daemon.mjs';
import { caseDaemonNoReceipts } from './cases/daemon-no-receipts.mjs';
import { caseNaive } from './cases/naive.mjs';
import { caseMemory } from './cases/memory.mjs';
import { caseLanes } from './cases/lanes.mjs';
import { setBroker } from './lib/harness.mjs';

async function main() {
  try {
    setBroker(await amqp.connect(AMQP_URL, { noDelay: true }));
  } catch (error) {
    log(`cannot reach RabbitMQ at ${AMQP_URL.replace(/:[^:@/]*@/, ':****@')}: ${error.message}`);
    process.exit(1);
  }
  broker.on('error', (error) => log(`broker connection error: ${error.message}`));
  log(`run ${ID}: N=${N}, rounds=${ROUNDS}, cases ${[...ONLY].join(',')}, node ${process.version}, daemon ${cli}, logs in ${workDir}`);
  const pub = await broker.createConfirmChannel();
  await pub.assertExchange(EXCHANGE, 'topic', { durable: true });
  await pub.assertExchange(DEAD_EXCHANGE, 'direct', { durable: true });
  await startReceiptConsumer();

  const makeRoundEvents = (prefix, count) => makeEvents(count, prefix);

  const receiver = await startReceiver(0);
  log(`ACK receiver (no delay) on port ${receiver.port}, pid ${receiver.child.pid}`);

  if (ONLY.has('a')) {
    // The same HL7 the daemon sends, built once with the daemon's own mapper and framing.
    const { loadConfig } = await import('../dist/config/load-config.js');
    const { createEventDecoder } = await import('../dist/event/decode-event.js');
    const { buildMessages } = await import('../dist/mapping/build-messages.js');
    const { encodeFrame } = await import('../dist/transport/mllp-framing.js');
    const configFile = join(workDir, 'floor.json');
    writeFileSync(configFile, JSON.stringify(daemonConfig(`${ID}-a`, receiver.port, 1)));
    const mapping = loadConfig({ configFile }).subscriptions[0].mapping;
    const decode = createEventDecoder({ maxMessageBytes: 1 << 20 });
    const now = new Date();
    const frames = makeEvents(N, `${ID}-a`, 1).flatMap((e) => {
      const decoded = decode(e.body);
      if (!decoded.ok) throw new Error(`generated event invalid: ${decoded.reason}`);
      const built = buildMessages(decoded.event, mapping, { now, utcOffsetMinutes: -now.getTimezoneOffset() });
      return built.messages.map((m) => encodeFrame(m.text));
    });
    const bytes = frames.reduce((sum, f) => sum + f.length, 0) / frames.length;
    log(`(a) ${frames.length} messages, ${fmt(bytes)} bytes per frame on average`);
    const { perRound, cpu, latency } = await caseFloor(receiver, frames);
    results.floorPerSec = median(perRound);
    results.floorCpu = cpu;
    row('(a) MLLP floor: bare net client, 1 in flight', results.floorPerSec, 'msgs/s', 'reference', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/msg ${describeCpu(cpu)}`);
    if (latency) {
      results.floorLatency = latency;
      row(`(a) MLLP round trip, p99 @ ${fmt(latency.rate)}/s`, latency.p99, 'ms', 'reference', null, `p50 ${fmt(latency.p50, 3)}, p90 ${fmt(latency.p90, 3)}, max ${fmt(latency.max, 2)}`);
    }
  }

  if (ONLY.has('b')) {
    const { perRound, cpu } = await caseAmqp(pub, makeRoundEvents);
    results.amqpPerSec = median(perRound);
    row(`(b) AMQP ceiling: consume+ack, prefetch ${PREFETCH}`, results.amqpPerSec, 'events/s', 'reference', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/event ${describeCpu(cpu)}`);
  }

  if (ONLY.has('b2')) {
    const { perRound, cpu, latency } = await caseRelay(pub, makeRoundEvents);
    results.amqpReceiptsPerSec = median(perRound);
    results.relayCpu = cpu;
    row('(b2) AMQP work of the daemon alone (relay: consume, receipt+confirm, ack)', results.amqpReceiptsPerSec, 'events/s', 'reference', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/event ${describeCpu(cpu)}`);
    if (latency) {
      results.relayLatency = latency;
      row(`(b2) relay publish -> receipt, p99 @ ${fmt(latency.rate)}/s`, latency.p99, 'ms', 'reference', null, `p50 ${fmt(latency.p50, 2)}, p90 ${fmt(latency.p90, 2)}, max ${fmt(latency.max, 2)}`);
    }
  }

  if (ONLY.has('c')) {
    const [base, candidate] = await caseDaemon(receiver, pub, makeRoundEvents);
    const { perRound, latency, cpu } = base;
    results.daemonPerSec = median(perRound);
    const floorRef = [results.floorPerSec, results.amqpPerSec].filter((v) => v != null);
    const half = floorRef.length ? 0.5 * Math.min(...floorRef) : null;
    const pass = results.daemonPerSec >= 5000 && (half === null || results.daemonPerSec >= half);
    row('(c) daemon end to end, drain (1 lane)', results.daemonPerSec, 'events/s', `>= 5,000${half !== null ? ` and >= ${fmt(half)} (0.5 x min(a,b))` : ''}`, pass, perRound.map((v) => fmt(v)).join(' / '));
    results.cpu = cpu;
    row('(c) daemon CPU per event during the drain', cpu.daemon, 'us', '<= 100', cpu.daemon <= 100, describeCpu(cpu));
    if (latency) {
      results.p50Ms = latency.p50;
      results.p99Ms = latency.p99;
      results.latency = latency;
      row(`(c) publish -> accepted receipt, p50 @ ${fmt(latency.rate)}/s`, latency.p50, 'ms', 'info', null, `p90 ${fmt(latency.p90, 2)}, max ${fmt(latency.max, 2)}`);
      const waits = Object.entries(latency.runQueueWait ?? {}).map(([name, w]) => `${name} ${fmt(w.usPerEvent, 1)}`).join(', ');
      row(`(c) publish -> accepted receipt, p99 @ ${fmt(latency.rate)}/s`, latency.p99, 'ms', '<= 5', latency.p99 <= 5, `p99.9 ${fmt(latency.p999, 2)}, ${latency.count} events; run-queue wait us/event: ${waits}`);
    }
    if (candidate) {
      const value = median(candidate.perRound);
      results.candidateCpu = candidate.cpu;
      row('(c) CANDIDATE (--compare) drain (1 lane)', value, 'events/s', `vs ${fmt(results.daemonPerSec)}`, null, `${candidate.perRound.map((v) => fmt(v)).join(' / ')}; x${fmt(value / results.daemonPerSec, 2)}; CPU us/event ${describeCpu(candidate.cpu)}`);
      if (candidate.latency) {
        row(`(c) CANDIDATE p99 @ ${fmt(candidate.latency.rate)}/s`, candidate.latency.p99, 'ms', `vs ${fmt(latency?.p99, 2)}`, null, `p50 ${fmt(candidate.latency.p50, 2)}, p90 ${fmt(candidate.latency.p90, 2)}`);
      }
    }
  }

  if (ONLY.has('c0')) {
    const { perRound, cpu } = await caseDaemonNoReceipts(receiver, pub, makeRoundEvents);
    results.daemonNoReceiptsPerSec = median(perRound);
    row('(c0) daemon drain, receipts off (amqp.receipts false)', results.daemonNoReceiptsPerSec, 'events/s', 'info', null, `${perRound.map((v) => fmt(v)).join(' / ')}; CPU us/event ${describeCpu(cpu)}`);
  }

  if (ONLY.has('d')) {
    const { perRound, mismatches, notAA } = await caseNaive(receiver, pub, makeRoundEvents);
    results.naivePerSec = median(perRound);
    row(
      '(d) naive amqplib + node-hl7-client 3.2.0 (prefetch 1, acks after the handler saw *a* reply; uncorrelated, no timeout)',
      results.naivePerSec,
      'events/s',
      'reference',
      null,
      `${perRound.map((v) => fmt(v)).join(' / ')}; MSA-2 mismatches ${mismatches}, non-AA ${notAA}`,
    );
    if (results.daemonPerSec != null) {
      const ratio = results.daemonPerSec / results.naivePerSec;
      row('(c)/(d) daemon vs naive', ratio, 'x', '>= 2', ratio >= 2);
    }
  }

  if (ONLY.has('e')) {
    const memory = await caseMemory(receiver, pub);
    results.rssMb = memory.peak;
    row(`(e) daemon peak RSS, ${fmt(memory.waiting)} events waiting`, memory.peak, 'MB', '<= 120', memory.peak <= 120, `at rest ${fmt(memory.idle, 1)} MB; drained at ${fmt(memory.perSec)} events/s`);
  }

  if (ONLY.has('f')) {
    const slow = await startReceiver(SLOW_DELAY_MS);
    log(`ACK receiver (${SLOW_DELAY_MS} ms per ACK) on port ${slow.port}`);
    const [perLanes, candidate] = await caseLanes(slow, pub);
    await stopChild(slow.child, 2000);
    results.lanes = {};
    for (const [lanes, perRound] of Object.entries(perLanes)) {
      results.lanes[lanes] = median(perRound);
      row(`(f) ${SLOW_DELAY_MS} ms receiver, ${lanes} lane${lanes === '1' ? '' : 's'}`, results.lanes[lanes], 'events/s', lanes === '1' ? `<= ${fmt(1000 / SLOW_DELAY_MS)} (1/delay)` : 'info', null, perRound.map((v) => fmt(v)).join(' / '));
    }
    results.slowReceiverPerSec = results.lanes['1'] ?? null;
    if (results.lanes['1'] && results.lanes['8']) {
      const ratio = results.lanes['8'] / results.lanes['1'];
      row('(f) 8 lanes vs 1 lane', ratio, 'x', '>= 6', ratio >= 6);
    }
    if (candidate) {
      for (const [lanes, perRound] of Object.entries(candidate)) {
        const value = median(perRound);
        row(`(f) CANDIDATE ${lanes} lane${lanes === '1' ? '' : 's'}`, value, 'events/s', `vs ${fmt(results.lanes[lanes])}`, null, `${perRound.map((v) => fmt(v)).join(' / ')}; x${fmt(value / results.lanes[lanes], 2)}`);
      }
    }
  }

  if (ONLY.has('g')) {
    for (const build of BUILDS) {
      const figures = await caseIdleMemory({ subscriptions: 40, lanes: 4, dist: join(build.cli, '..', '..') });
      const tag = build.tag ? ` ${build.tag.toUpperCase()}` : '';
      if (!build.tag) results.idleMemory = figures;
      row(`(g)${tag} RSS at rest, 40 subscriptions x 4 lanes`, figures.manyRssMb, 'MB', '< 160', figures.manyRssMb < 160, `1 x 4 lanes ${fmt(figures.oneRssMb, 1)} MB; 40 x 1 lane ${fmt(figures.manySingleLaneRssMb, 1)} MB`);
      row(`(g)${tag} cost of one more subscription with 4 lanes`, figures.perSubscriptionMb, 'MB', 'info', null, '(RSS(40 x 4) - RSS(1 x 4)) / 39');
    }
  }

  printTable();
  const round = (v, d = 0) => (v == null ? null : Number(v.toFixed(d)));
  const json = {
    daemonPerSec: round(results.daemonPerSec),
    floorPerSec: round(results.floorPerSec),
    amqpPerSec: round(results.amqpPerSec),
    naivePerSec: round(results.naivePerSec),
    p50Ms: round(results.p50Ms, 2),
    p99Ms: round(results.p99Ms, 2),
    // Issue 18: CPU per event of the daemon (case c, /proc, daemon process only, receipts on),
    // beside the relay's (case b2, the AMQP work alone) and the bare MLLP client's (case a).
    daemonCpuUsPerEvent: round(results.cpu?.daemon),
    daemonCpuTargetUs: 100,
    relayCpuUsPerEvent: round(results.relayCpu?.relay),
    floorClientCpuUsPerMsg: round(results.floorCpu?.bench),
    candidateDaemonCpuUsPerEvent: round(results.candidateCpu?.daemon),
    // Time the daemon waited for a CPU during the paced run: near 0 on a machine that is not oversubscribed.
    daemonRunQueueWaitUsPerEvent: round(results.latency?.runQueueWait?.daemon?.usPerEvent, 1),
    rssMb: round(results.rssMb, 1),
    slowReceiverPerSec: round(results.slowReceiverPerSec),
    lanes: results.lanes ? Object.fromEntries(Object.entries(results.lanes).map(([k, v]) => [k, round(v)])) : null,
    idleRss40x4Mb: round(results.idleMemory?.manyRssMb, 1),
    perSubscriptionMb: round(results.idleMemory?.perSubscriptionMb, 2),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

function printTable() {
  const headers = ['case', 'value', 'unit', 'target', 'result', 'rounds / detail'];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.value, r.unit === 'ms' || r.unit === 'x' ? 2 : r.unit === 'MB' ? 1 : 0),
    r.unit,
    r.target,
    r.pass === null ? '-' : r.pass ? 'PASS' : 'FAIL',
    r.detail,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 1 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(' | ')} |`;
  const out = [
    `mllp-dispatcher benchmark: N=${N}, rounds=${ROUNDS} (median), node ${process.version}, ${new Date().toISOString()}`,
    line(headers),
    `|${widths.map((w, i) => (i === 1 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...lines.map(line),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (error) => {
    log(`failed: ${error.stack ?? error.message}`);
    await cleanup();
    process.exit(1);
  });
