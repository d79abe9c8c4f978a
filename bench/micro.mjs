#!/usr/bin/env node
// CPU cost of the daemon's per-event steps, in one process, no broker and no sockets:
// what each stage costs on this machine when nothing else competes for the core. It
// complements the CPU profile of case (c) (bench/profile-summary.mjs), whose wall-clock
// samples also count time a busy 2-core machine spends running other processes.
//
//   node bench/micro.mjs [--n 20000] [--rounds 5]
//   node --expose-gc --max-semi-space-size=64 bench/micro.mjs   (adds bytes allocated per event)
//
// Imports the built daemon from ../dist (npm run build first).
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { writeFileSync, mkdtempSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEvents } from './events.mjs';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(values.n);
const ROUNDS = Number(values.rounds);

const { loadConfig } = await import('../dist/config/load-config.js');
const { createEventDecoder } = await import('../dist/event/decode-event.js');
const { routeEvent } = await import('../dist/routing/route-event.js');
const { buildMessages } = await import('../dist/mapping/build-messages.js');
const { controlIdFor } = await import('../dist/mapping/control-id.js');
const { encodeFrame, MllpFrameDecoder } = await import('../dist/transport/mllp-framing.js');
const { parseAck } = await import('../dist/hl7/ack.js');
const { conformMessage } = await import('../dist/hl7/conform/conform-message.js');
const { pidSegment } = await import('../dist/mapping/pid.js');
const { createLogger } = await import('../dist/observability/logger.js');
const { DispatcherMetrics } = await import('../dist/observability/metrics.js');
const { SubscriptionHotMetrics } = await import('../dist/observability/hot-metrics.js');
const { SettledLine } = await import('../dist/observability/settled-line.js');
const { receiptText } = await import('../dist/runner/settler.js');
const { publishFrames } = await import('../dist/amqp/publish-frames.js');
const { patientKey } = await import('../dist/routing/patient-key.js');
const pino = (await import('pino')).default;

const dir = mkdtempSync(join(tmpdir(), 'bench-micro-'));
const configFile = join(dir, 'config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    subscriptions: [{ name: 'bench-micro', endpoint: 'llp://127.0.0.1:2575', settings: { MSH34: 'ACME_EHR|ACME_HOSP', MSH56: 'PIX_MGR|REGION_HIE' } }],
  }),
);
const sub = loadConfig({ configFile }).subscriptions[0];
const decode = createEventDecoder({ maxMessageBytes: 1 << 20 });
const events = makeEvents(N, 'bench-micro');
const decoded = events.map((e) => decode(e.body).event);
const now = new Date();
const time = { now, utcOffsetMinutes: -now.getTimezoneOffset() };
const messages = decoded.map((event) => buildMessages(event, sub.mapping, time).messages[0]);
const frames = messages.map((m) => encodeFrame(m.text));
const ackTexts = messages.map((m) => `MSH|^~\\&|BENCH_ACKER|BENCH|||20260315142900+0000||ACK^A01^ACK|${m.controlId}|P|2.5\rMSA|AA|${m.controlId}\r`);
const ackFrames = ackTexts.map((t) => encodeFrame(t));
// The daemon's logger, writing to /dev/null through the same synchronous fd destination.
const devNull = openSync('/dev/null', 'w');
const logger = createLogger({ level: 'info', phi: false }, pino.destination({ dest: devNull, sync: true })).child({ subscription: 'bench-micro' });
const metrics = new DispatcherMetrics();

let sink = 0;
const steps = {
  'decode (isUtf8 + JSON.parse + ajv + dates)': (i) => (sink += decode(events[i].body).ok ? 1 : 0),
  'JSON.parse alone': (i) => (sink += JSON.parse(events[i].body.toString('utf8')).id.length),
  'route (window, events, when)': (i) => (sink += routeEvent(decoded[i], sub, now).kind.length),
  'patientKey (lane key)': (i) => (sink += patientKey(decoded[i].patient, undefined).length),
  'buildMessages (whole ADT, incl. MSH-10)': (i) => (sink += buildMessages(decoded[i], sub.mapping, time).messages[0].text.length),
  'controlIdFor (MSH-10, sha256)': (i) => (sink += controlIdFor(decoded[i].id, 'bench-micro', 0).length),
  '  of which pidSegment (PID only)': (i) => (sink += pidSegment(decoded[i].patient, sub.mapping).length),
  '  of which conformMessage (charset + lengths scan)': (i) => (sink += conformMessage(messages[i].text, sub.mapping).ok ? 1 : 0),
  'new Date() + getTimezoneOffset (per event)': () => {
    const d = new Date();
    sink += d.getTimezoneOffset();
  },
  'encodeFrame': (i) => (sink += encodeFrame(messages[i].text).length),
  'deframe ACK + toString + parseAck': (() => {
    const decoder = new MllpFrameDecoder();
    return (i) => {
      for (const item of decoder.push(ackFrames[i])) sink += parseAck(item.payload.toString('utf8')).ok ? 1 : 0;
    };
  })(),
  'parseAck alone': (i) => (sink += parseAck(ackTexts[i]).ok ? 1 : 0),
  'log line "event settled" (SettledLine, to /dev/null)': (() => {
    const line = new SettledLine(logger);
    return (i) => line.write({ eventId: decoded[i].id, outcome: 'accepted', controlId: messages[i].controlId, trigger: 'A01', ackCode: 'AA', attempts: 1, latencyMs: 0.321, reason: null }, 0);
  })(),
  'log line through pino instead (logger.info + redact)': (i) =>
    logger.info({ eventId: decoded[i].id, outcome: 'accepted', controlId: messages[i].controlId, trigger: 'A01', ackCode: 'AA', attempts: 1, latencyMs: 0.321 }, 'event settled'),
  'metrics per event (SubscriptionHotMetrics: event, attempt, accepted)': (() => {
    const hot = new SubscriptionHotMetrics(metrics, 'bench-micro');
    return () => {
      hot.attempt('accepted', 'A01');
      hot.accepted(0.3);
      hot.event('accepted');
    };
  })(),
  'receipt: receiptText + Buffer.from + AMQP frames (publishFrames)': (() => {
    const methodFrames = new Map();
    return (i) => {
      const settlement = { outcome: 'accepted', action: 'ack', eventId: decoded[i].id, controlId: messages[i].controlId, trigger: 'A01', ackCode: 'AA', attempts: 1, latencyMs: 0.321, reason: null };
      const body = Buffer.from(receiptText(settlement, 'bench-micro', undefined));
      sink += publishFrames(1, 'mllp.receipts', 'bench-micro.accepted', body, { contentType: 'application/json', persistent: true, correlationId: decoded[i].id }, methodFrames).length;
    };
  })(),
};

/** Bytes allocated per call, from new-space growth between two forced GCs (needs --expose-gc). */
function allocatedPerCall(step, calls = 500) {
  if (typeof globalThis.gc !== 'function') return undefined;
  const newSpace = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_used_size;
  globalThis.gc();
  const before = newSpace();
  for (let i = 0; i < calls; i++) step(i);
  const after = newSpace();
  return after >= before ? (after - before) / calls : undefined; // a scavenge ran: no figure
}

const results = [];
for (const [name, step] of Object.entries(steps)) {
  const perRound = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < N; i++) step(i);
    const used = process.cpuUsage(t0);
    if (round > 0) perRound.push((used.user + used.system) / N);
  }
  perRound.sort((a, b) => a - b);
  results.push([name, perRound[perRound.length >> 1], allocatedPerCall(step)]);
}
closeSync(devNull);
rmSync(dir, { recursive: true, force: true });

const width = Math.max(...results.map(([name]) => name.length));
process.stdout.write(`CPU microseconds per event (median of ${ROUNDS} rounds of ${N}; sink ${sink % 10})\n`);
for (const [name, us, bytes] of results) {
  process.stdout.write(`${name.padEnd(width)}  ${us.toFixed(2).padStart(7)} us${bytes === undefined ? '' : `  ${Math.round(bytes).toLocaleString('en-US').padStart(7)} bytes allocated`}\n`);
}
