#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, per file/package,
// and inclusive ("total") time of the project's own functions.
//
//   node bench/profile-summary.mjs FILE.cpuprofile [--top 30] [--busy-only]
//
// `--busy-only` leaves (idle) out of the percentages, so they read as "share of CPU time".
// Typical use: `node bench/run.mjs --only c --paced-seconds 0 --profile /tmp/prof`, then
// this script on the file written to /tmp/prof.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

process.stdout.on('error', () => process.exit(0)); // e.g. piped into head

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, 'busy-only': { type: 'boolean', default: false } },
});
if (positionals.length !== 1) {
  process.stderr.write('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top 30] [--busy-only]\n');
  process.exit(64);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

// Self time per node: sample counts weighted by the time deltas.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

function where(frame) {
  const url = frame.url ?? '';
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native/builtin)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `node_modules/${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}
const label = (frame) => `${frame.functionName || '(anonymous)'} ${where(frame)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;

let total = 0;
let idle = 0;
const byFunction = new Map();
const byFile = new Map();
for (const [id, us] of selfUs) {
  const frame = nodes.get(id).callFrame;
  total += us;
  if (frame.functionName === '(idle)') idle += us;
  const fn = label(frame);
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  const file = where(frame);
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
const base = values['busy-only'] ? total - idle : total;

// Inclusive time of our own functions (dist/): a function counted once per sample even when recursive.
const inclusive = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const seen = new Set();
  for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const frame = nodes.get(id).callFrame;
    if (!(frame.url ?? '').includes('/dist/')) continue;
    const key = label(frame);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
}

// Where the daemon's time goes, by stage: each sample goes to the stage of the leaf-most
// frame that matches a rule (so pino called from settle() counts as logging, not settling).
const STAGES = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['idle', (f) => f.functionName === '(idle)'],
  ['logging (pino, redaction, fd write)', (f) => /node_modules\/(pino|@pinojs|sonic-boom|fast-redact)/.test(f.url) || /observability\/(logger|failure-log)/.test(f.url)],
  ['metrics (prom-client)', (f) => /node_modules\/prom-client/.test(f.url) || /observability\/metrics/.test(f.url)],
  ['MSH-10 derivation (crypto hash)', (f) => f.functionName === 'controlIdFor'],
  ['decode: UTF-8 check, JSON.parse, schema (ajv), dates', (f) => /event\/decode-event/.test(f.url) || /node_modules\/ajv/.test(f.url)],
  ['route (window, events, when)', (f) => /routing\//.test(f.url)],
  ['map: buildMessages (HL7 encoder)', (f) => /mapping\/|hl7\/(segment|escape|timestamp)/.test(f.url)],
  ['MLLP: read, deframe, parse ACK', (f) => /mllp-client|mllp-framing/.test(f.url) || /hl7\/ack/.test(f.url)],
  ['settle: receipt JSON + publish, ack (our code)', (f) => /runner\/settler|amqp\/amqp-session/.test(f.url)],
  ['amqplib: frame codec, channel, socket I/O', (f) => /node_modules\/amqplib/.test(f.url)],
  ['delivery: lanes, dispatcher, outcomes', (f) => /delivery\//.test(f.url)],
  // runner/: the runner, prepareEvent, telemetry (onAttempt, settle bookkeeping); the settler matched above.
  ['runner: onDelivery, onAttempt, settle bookkeeping', (f) => /runner\//.test(f.url)],
];
const NODE_INTERNALS = 'node internals (streams, timers, net, promises), no daemon frame above';
const UNATTRIBUTED = '(program) / unattributed native';
const byStage = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  let stage;
  let sawNode = false;
  // A socket write is a syscall: name it apart from the JavaScript of whoever called it.
  const leaf = nodes.get(profile.samples[i]).callFrame.functionName;
  const isWrite = /^(writeBuffer|writev|writeUtf8String|writeLatin1String|writeAsciiString|writeUcs2String)$/.test(leaf);
  for (let id = profile.samples[i]; id !== undefined && !stage; id = parent.get(id)) {
    const frame = nodes.get(id).callFrame;
    if ((frame.url ?? '').startsWith('node:')) sawNode = true;
    for (const [name, test] of STAGES) {
      if (test(frame)) {
        stage = isWrite && name.startsWith('MLLP') ? 'MLLP: socket write (syscall)' : isWrite && name.startsWith('amqplib') ? 'amqplib: socket write (syscall)' : name;
        break;
      }
    }
  }
  stage ??= sawNode ? NODE_INTERNALS : UNATTRIBUTED;
  byStage.set(stage, (byStage.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

const ms = (us) => (us / 1000).toFixed(1).padStart(9);
const pct = (us) => `${((100 * us) / base).toFixed(1).padStart(5)}%`;
const print = (title, map, n) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].filter(([key]) => !(values['busy-only'] && (key.startsWith('(idle)') || key === 'idle'))).sort((a, b) => b[1] - a[1]).slice(0, n)) {
    process.stdout.write(`${ms(us)} ms ${pct(us)}  ${key}\n`);
  }
};
const seconds = (profile.endTime - profile.startTime) / 1e6;
process.stdout.write(
  `profile ${positionals[0]}: ${seconds.toFixed(1)} s wall, ${(total / 1e6).toFixed(1)} s sampled, idle ${(idle / 1e6).toFixed(1)} s, ` +
    `busy ${((total - idle) / 1e6).toFixed(1)} s; percentages of ${values['busy-only'] ? 'busy' : 'all sampled'} time\n`,
);
print('by stage (leaf-most matching frame)', byStage, STAGES.length + 2);
print(`top ${top} functions by self time`, byFunction, top);
print('self time by file / package', byFile, 25);
print('inclusive time of the daemon\'s own functions (dist/)', inclusive, 25);
