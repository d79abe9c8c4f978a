#!/usr/bin/env node
// A minimal raw-socket MLLP ACKer for the benchmark (issue 6): the receiver must not be what
// is measured, so it does as little as possible. Per frame it finds MSH-10 (and MSH-9.2)
// in the first segment and answers, framed:
//   MSH|^~\&|BENCH_ACKER|BENCH|||<now>||ACK^<MSH-9.2>^ACK|<MSH-10>|P|2.5\rMSA|AA|<MSH-10>\r
//
// Options:
//   --port P        listen port (0 = any free port; default 0)
//   --host H        listen address (default 127.0.0.1)
//   --delay-ms D    wait D ms before each ACK (a slow receiver). Implemented per connection
//                   with a timer, so several connections (lanes) overlap their delays, and
//                   frames of one connection are answered in order, each D ms after the
//                   previous answer or its own arrival, whichever is later.
//
// Run under the benchmark (child_process.fork) it reports {type:'listening', port} over IPC
// and answers IPC requests: {type:'stats'} -> {type:'stats', received, acked, connections,
// turnaroundMs, turnarounds, turnaroundHistogram} (turnaround: ACK written -> next frame in),
// {type:'pause'} (hold every ACK until resumed), {type:'resume'}, {type:'set-delay', ms}.
// Run by hand it prints "listening <port>" and a summary when stopped.
import net from 'node:net';
import { parseArgs } from 'node:util';

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

const server = net.createServer((socket) => {
  connections++;
  socket.setNoDelay(true);
  let pending; // bytes of an incomplete frame
  /** Answers waiting for their delay, in order; one timer per connection. */
  const queue = [];
  let timer;
  let readyAt = 0; // when the previous answer went out (delayed mode)

  const state = {
    flush() {
      if (paused) return;
      if (delayMs <= 0) {
        while (queue.length > 0) write(queue.shift().header);
      } else if (!timer && queue.length > 0) {
        schedule();
      }
    },
  };

  let lastAckAt = 0;
  function write(header) {
    if (socket.destroyed) return;
    socket.write(ackFrame(header));
    acked++;
    lastAckAt = performance.now();
  }

  function schedule() {
    const head = queue[0];
    const dueAt = Math.max(head.arrivedAt, readyAt) + delayMs;
    const fire = () => {
      timer = undefined;
      // Timers have millisecond granularity and may fire a little early: never answer
      // before the full delay has passed.
      const early = dueAt - performance.now();
      if (early > 0) {
        timer = setTimeout(fire, Math.ceil(early));
        return;
      }
      if (paused) {
        heldBack.add(state);
        return;
      }
      const item = queue.shift();
      readyAt = performance.now();
      write(item.header);
      if (queue.length > 0) schedule();
    };
    timer = setTimeout(fire, Math.ceil(Math.max(0, dueAt - performance.now())));
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
    clearTimeout(timer);
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
      process.send({ type: 'stats', received, acked, connections, turnaroundMs, turnarounds, turnaroundHistogram });
      break;
    case 'pause':
      paused = true;
      process.send({ type: 'paused' });
      break;
    case 'resume': {
      paused = false;
      const states = [...heldBack];
      heldBack.clear();
      for (const state of states) state.flush();
      process.send({ type: 'resumed' });
      break;
    }
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
