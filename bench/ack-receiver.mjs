#!/usr/bin/env node
// A minimal raw-socket MLLP ACKer for the benchmark (issue 6): the receiver must not be what
// is measured, so it does as little as possible. Per frame it finds MSH-10 (and MSH-9.2)
// in the first segment and answers, framed:
//   MSH|^~\&|BENCH_ACKER|BENCH|||<now>||ACK^<MSH-9.2>^ACK|<MSH-10>|P|2.5\rMSA|AA|<MSH-10>\r
//
// Options:
//   --port P        listen port (0 = any free port; default 0)
//   --host H        listen address (default 127.0.0.1)
//   --delay-ms D    wait D ms before each ACK (a slow receiver). Several connections (lanes)
//                   overlap their delays; frames of one connection are answered in order,
//                   each D ms after the previous answer or its own arrival, whichever is
//                   later. The wake-ups come from an alarm thread (Atomics.wait, sub-millisecond)
//                   rather than from timers: Node's timers have a 1 ms resolution, and with
//                   several connections a timer that fires a fraction of a millisecond early
//                   could only be re-armed for a whole millisecond more, which held ACKs
//                   2.4 ms (1 connection) to 3.1 ms (8) instead of 2.
//
// Run under the benchmark (child_process.fork) it reports {type:'listening', port} over IPC
// and answers IPC requests: {type:'stats'} -> {type:'stats', received, acked, connections,
// turnaroundMs, turnarounds, turnaroundHistogram, holdMs, holds} (turnaround: ACK written ->
// next frame in; hold: a delayed frame's arrival, or the previous answer, -> its ACK),
// {type:'pause'} (hold every ACK until resumed), {type:'resume'}, {type:'set-delay', ms},
// {type:'notify-at', count} -> {type:'reached', count, at} once `count` ACKs have been
// written in all (at: performance.timeOrigin + performance.now(), comparable across processes).
// Run by hand it prints "listening <port>" and a summary when stopped.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'delay-ms': { type: 'string', default: '0' },
  },
});

let delayMs = Number(values['delay-ms']);
let paused = false;
let received = 0;
let acked = 0;
let connections = 0;
/**
 * Turnaround: time from writing an ACK to receiving the next frame on that connection,
 * i.e. how long the client took to act on an ACK and send its next message. Summed over
 * connections; `busy` is the time a connection had a message being delayed/answered.
 */
let turnaroundMs = 0;
let turnarounds = 0;
const turnaroundHistogram = new Array(16).fill(0); // bucket i: [2^(i-1), 2^i) x 0.1 ms
/** `notify-at`: the ACK count at which to tell the parent (once), -1 for none. */
let notifyAt = -1;
/** Sum and count of the delays actually applied (delayed mode). */
let holdMs = 0;
let holds = 0;
let resumedAt = 0;
/** Connections with ACKs held by `pause`, to answer on `resume`. */
const heldBack = new Set();

const START = 0x0b;
const END = 0x1c;
const CR = 0x0d;
const PIPE = 0x7c;

function hl7Now() {
  const d = new Date();
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}
// The ACK's MSH-7 is refreshed once a second: formatting a date per ACK is needless work.
let now = hl7Now();
setInterval(() => (now = hl7Now()), 1000).unref();

/** MSH-10 and MSH-9.2 of a frame payload, read from the bytes of the first segment only. */
function headerOf(payload) {
  let segmentEnd = payload.indexOf(CR);
  if (segmentEnd === -1) segmentEnd = payload.length;
  // MSH|^~\&|3|4|5|6|7|8|9|10: MSH-n starts after the (n-1)th field separator.
  let field = 1;
  let at = 3; // the first '|'
  let start9 = -1;
  let end9 = -1;
  let start10 = -1;
  let end10 = -1;
  while (at !== -1 && at < segmentEnd) {
    const next = payload.indexOf(PIPE, at + 1);
    const end = next === -1 || next > segmentEnd ? segmentEnd : next;
    field++;
    if (field === 9) {
      start9 = at + 1;
      end9 = end;
    } else if (field === 10) {
      start10 = at + 1;
      end10 = end;
      break;
    }
    at = next;
  }
  const controlId = start10 === -1 ? '' : payload.latin1Slice(start10, end10);
  let trigger = 'A01';
  if (start9 !== -1) {
    const type = payload.latin1Slice(start9, end9).split('^');
    if (type[1]) trigger = type[1];
  }
  return { controlId, trigger };
}

function ackFrame({ controlId, trigger }) {
  const text = `MSH|^~\\&|BENCH_ACKER|BENCH|||${now}||ACK^${trigger}^ACK|${controlId}|P|2.5\rMSA|AA|${controlId}\r`;
  const length = Buffer.byteLength(text, 'latin1');
  const frame = Buffer.allocUnsafe(length + 3);
  frame[0] = START;
  frame.latin1Write(text, 1);
  frame[length + 1] = END;
  frame[length + 2] = CR;
  return frame;
}

/**
 * Calls `onAlarm` at (or just after) the earliest time asked for with `at(ms)`
 * (performance.now() of this thread). A helper thread sleeps in Atomics.wait until then.
 */
function createAlarm(onAlarm) {
  const shared = new SharedArrayBuffer(16);
  const due = new Float64Array(shared, 0, 1); // absolute ms (timeOrigin + now); Infinity = none
  const signal = new Int32Array(shared, 8, 1); // bumped whenever `due` changes
  due[0] = Infinity;
  const thread = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const due = new Float64Array(workerData, 0, 1);
     const signal = new Int32Array(workerData, 8, 1);
     for (;;) {
       const seen = Atomics.load(signal, 0);
       const wait = due[0] - (performance.timeOrigin + performance.now());
       if (wait <= 0) { due[0] = Infinity; parentPort.postMessage(0); continue; }
       Atomics.wait(signal, 0, seen, Number.isFinite(wait) ? wait : undefined);
     }`,
    { eval: true, workerData: shared },
  );
  thread.unref();
  thread.on('message', onAlarm);
  return {
    at(ms) {
      const absolute = performance.timeOrigin + ms;
      if (absolute >= due[0]) return;
      due[0] = absolute;
      Atomics.add(signal, 0, 1);
      Atomics.notify(signal, 0);
    },
  };
}

/** Connections with delayed answers waiting (delayed mode). */
const waiting = new Set();
const alarm = createAlarm(answerDue);

/** Answers every delayed frame that is due, then asks the alarm for the next one. */
function answerDue() {
  const now = performance.now();
  let next = Infinity;
  for (const state of waiting) {
    if (paused) {
      heldBack.add(state);
      continue;
    }
    next = Math.min(next, state.answerDue(now));
    if (!state.hasQueue()) waiting.delete(state);
  }
  if (next !== Infinity) alarm.at(next);
}

const server = net.createServer((socket) => {
  connections++;
  socket.setNoDelay(true);
  let pending; // bytes of an incomplete frame
  /** Answers waiting for their delay, in order. */
  const queue = [];
  let readyAt = 0; // when the previous answer went out (delayed mode)
  const dueAt = () => Math.max(queue[0].arrivedAt, readyAt) + delayMs;

  const state = {
    flush() {
      if (paused) return;
      if (delayMs <= 0) {
        while (queue.length > 0) write(queue.shift().header);
      } else if (queue.length > 0) {
        waiting.add(state);
        alarm.at(dueAt());
      }
    },
    hasQueue: () => queue.length > 0,
    /** Answers what is due at `now`; returns when the next answer is due (Infinity: none). */
    answerDue(now) {
      while (queue.length > 0) {
        const due = dueAt();
        if (due > now) return due;
        const item = queue.shift();
        // Frames that arrived before the last `resume` were held by `pause`, not by the delay.
        if (item.arrivedAt >= resumedAt) {
          holdMs += now - (due - delayMs);
          holds++;
        }
        readyAt = now;
        write(item.header);
      }
      return Infinity;
    },
  };

  let lastAckAt = 0;
  function write(header) {
    if (socket.destroyed) return;
    socket.write(ackFrame(header));
    acked++;
    lastAckAt = performance.now();
    if (acked === notifyAt) {
      notifyAt = -1;
      process.send?.({ type: 'reached', count: acked, at: performance.timeOrigin + lastAckAt });
    }
  }

  socket.on('data', (chunk) => {
    const data = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    let offset = 0;
    const arrivedAt = performance.now();
    if (lastAckAt !== 0 && queue.length === 0) {
      const ms = arrivedAt - lastAckAt;
      turnaroundMs += ms;
      turnarounds++;
      turnaroundHistogram[Math.min(15, Math.ceil(Math.log2(1 + ms * 10)))]++;
      lastAckAt = 0;
    }
    while (offset < data.length) {
      const start = data.indexOf(START, offset);
      if (start === -1) break;
      let end = data.indexOf(END, start + 1);
      while (end !== -1 && end + 1 < data.length && data[end + 1] !== CR) end = data.indexOf(END, end + 1);
      if (end === -1 || end + 1 >= data.length) {
        pending = data.subarray(start);
        break;
      }
      received++;
      queue.push({ header: headerOf(data.subarray(start + 1, end)), arrivedAt });
      offset = end + 2;
    }
    if (paused) heldBack.add(state);
    else state.flush();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    connections--;
    waiting.delete(state);
    heldBack.delete(state);
    queue.length = 0;
  });
});

server.listen(Number(values.port), values.host, () => {
  const { port } = server.address();
  if (process.send) process.send({ type: 'listening', port });
  else process.stdout.write(`listening ${port} (ACK delay ${delayMs} ms)\n`);
});

process.on('message', (message) => {
  switch (message?.type) {
    case 'stats':
      process.send({ type: 'stats', received, acked, connections, turnaroundMs, turnarounds, turnaroundHistogram, holdMs, holds });
      break;
    case 'pause':
      paused = true;
      process.send({ type: 'paused' });
      break;
    case 'resume': {
      paused = false;
      resumedAt = performance.now();
      const states = [...heldBack];
      heldBack.clear();
      for (const state of states) state.flush();
      process.send({ type: 'resumed' });
      break;
    }
    case 'notify-at':
      // Tells the parent when the ACK count reaches `count` (its time, as timeOrigin + now).
      notifyAt = Number(message.count);
      process.send({ type: 'notify-armed' });
      break;
    case 'set-delay':
      delayMs = Number(message.ms);
      process.send({ type: 'delay', ms: delayMs });
      break;
    case 'reset':
      received = 0;
      acked = 0;
      turnaroundMs = 0;
      turnarounds = 0;
      turnaroundHistogram.fill(0);
      process.send({ type: 'reset' });
      break;
    default:
  }
});
// The benchmark's end (or its crash) ends the receiver.
process.on('disconnect', () => process.exit(0));

const stop = () => {
  if (!process.send) process.stdout.write(`received ${received}, acked ${acked}\n`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
