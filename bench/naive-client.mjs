#!/usr/bin/env node
// Case (d) of the benchmark: "the alternative a user would write". A straightforward
// amqplib + node-hl7-client 3.2.0 script, written the way its README and typings suggest:
//
//   - consume the queue with prefetch 1 (one event at a time, in order);
//   - JSON.parse the event, build an ADT^A01/A08 with node-hl7-client's Message builder
//     (MSH, EVN, PID with every identifier, name, address and telecom, PV1);
//   - `await connection.sendMessage(message)`, then wait for the connection's response
//     handler to be called (the next frame the receiver sends), and only then ack the event.
//
// Why "send, then wait for the handler": node-hl7-client's sendMessage resolves as soon as
// the bytes are written, not on the ACK. A script that acks the AMQP event when sendMessage
// resolves ("ack on write") is not only unsafe, it does not work with 3.2.0: the second
// sendMessage, called while the first still waits for its ACK, is queued in memory and opens
// a second socket; the queue is then flushed into itself in an endless microtask loop (the
// process spins at 100% CPU and never sends the rest) while every event has already been
// acked on the broker. Measured with 5,000 messages: all 5,000 sendMessage calls resolved
// (so all 5,000 events would have been acked), 1 message was sent, 4,999 stayed in memory,
// then the process spun for good (timers never fired again). So the script measured here is
// the most correct one the library allows:
// it acks after the handler fired with MSA-1 = AA. What it still gets wrong, and the daemon
// does not:
//   - the ACK is not correlated: any frame that arrives counts as the answer (MSA-2 is not
//     compared with MSH-10; this script counts mismatches only so the benchmark can report
//     them);
//   - there is no ACK timeout: a receiver that never answers hangs the script for ever;
//   - a frame split over two reads, or two frames in one read, are mangled by its codec
//     (it processes the whole buffer once it contains 0x1C and 0x0D);
//   - no reconnect-and-resend policy, no dead letters, no receipts, no metrics.
//
// The benchmark drives it over IPC: it connects, says {type:'ready'}, and on {type:'go', n}
// consumes n events and answers {type:'done', elapsedMs, acked, mismatches, notAA}.
// Run by hand: node bench/naive-client.mjs --queue Q --port P [--n N] (consumes N, prints).
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import amqp from 'amqplib';
import { Client, Message } from 'node-hl7-client';

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    url: { type: 'string', default: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' },
    n: { type: 'string', default: '0' },
  },
});

// ---------------------------------------------------------------- the user's script
const TRIGGERS = { create: 'A01', update: 'A08', delete: 'A23' };
const SEX = { male: 'M', female: 'F', other: 'O', unknown: 'U' };
const hl7Date = (value) => (value ?? '').replace(/[-:T]/g, '').replace(/\+.*$/, '');

function toHl7(event) {
  const trigger = TRIGGERS[event.type] ?? 'A08';
  const message = new Message({
    messageHeader: { msh_9_1: 'ADT', msh_9_2: trigger, msh_10: event.id, msh_11_1: 'P' },
  });
  message.set('MSH.3', event.source?.application ?? 'ACME_EHR');
  message.set('MSH.4', event.source?.facility ?? 'ACME_HOSP');
  message.set('MSH.5', 'PIX_MGR');
  message.set('MSH.6', 'REGION_HIE');
  const evn = message.addSegment('EVN');
  evn.set('2', hl7Date(new Date().toISOString()).slice(0, 14));
  evn.set('6', hl7Date(event.occurredAt));
  const patient = event.patient;
  const pid = message.addSegment('PID');
  pid.set('1', '1');
  patient.identifier.forEach((id, i) => {
    const components = [id.value, '', '', id.assigner?.display ?? id.system ?? '', id.type?.coding?.[0]?.code ?? ''];
    if (i === 0) pid.set('3', components);
    else pid.set('3').set(i, components);
  });
  (patient.name ?? []).forEach((name, i) => {
    const components = [name.family ?? '', name.given?.[0] ?? '', name.given?.[1] ?? '', '', name.prefix?.[0] ?? ''];
    if (i === 0) pid.set('5', components);
    else pid.set('5').set(i, components);
  });
  pid.set('7', hl7Date(patient.birthDate));
  pid.set('8', SEX[patient.gender] ?? 'U');
  (patient.address ?? []).forEach((address, i) => {
    const components = [address.line?.[0] ?? '', address.line?.[1] ?? '', address.city ?? '', address.state ?? '', address.postalCode ?? '', address.country ?? ''];
    if (i === 0) pid.set('11', components);
    else pid.set('11').set(i, components);
  });
  (patient.telecom ?? []).forEach((telecom, i) => {
    const components = telecom.system === 'email' ? ['', 'NET', 'Internet', telecom.value] : [telecom.value, telecom.use === 'mobile' ? 'PRS' : 'PRN', 'PH'];
    if (i === 0) pid.set('13', components);
    else pid.set('13').set(i, components);
  });
  const pv1 = message.addSegment('PV1');
  pv1.set('1', '1');
  pv1.set('2', event.visit?.class ?? 'N');
  if (event.visit?.number) pv1.set('19', event.visit.number);
  return message;
}

const broker = await amqp.connect(values.url);
const channel = await broker.createChannel();
await channel.prefetch(1);

const client = new Client({ host: values.host });
let answer; // resolves the wait for "the" ACK
const hl7 = client.createConnection({ port: Number(values.port) }, async (response) => {
  const resolve = answer;
  answer = undefined;
  resolve?.(response.getMessage());
});
await once(hl7, 'connect');

async function handle(delivery) {
  const event = JSON.parse(delivery.content.toString());
  const message = toHl7(event);
  const acked = new Promise((resolve) => (answer = resolve));
  await hl7.sendMessage(message);
  const ack = await acked;
  if (ack.get('MSA.1').toString() === 'AA') {
    channel.ack(delivery);
    onAcked(event.id, ack.get('MSA.2').toString(), true);
  } else {
    channel.nack(delivery, false, true);
    onAcked(event.id, ack.get('MSA.2').toString(), false);
  }
}
// ---------------------------------------------------------------- benchmark control

let run; // { n, acked, mismatches, notAA, started, consumerTag, done }
function onAcked(eventId, msa2, aa) {
  if (!run) return;
  if (msa2 !== eventId) run.mismatches++;
  if (!aa) {
    run.notAA++;
    return;
  }
  if (++run.acked === run.n) run.done();
}

async function consume(n) {
  return new Promise((resolve) => {
    run = { n, acked: 0, mismatches: 0, notAA: 0, started: performance.now() };
    run.done = () => {
      const elapsedMs = performance.now() - run.started;
      const result = { type: 'done', elapsedMs, acked: run.acked, mismatches: run.mismatches, notAA: run.notAA };
      channel.cancel(run.consumerTag).then(() => resolve(result));
    };
    channel.consume(values.queue, (delivery) => void handle(delivery), { noAck: false }).then(({ consumerTag }) => (run.consumerTag = consumerTag));
  });
}

async function shutdown(code) {
  await hl7.close().catch(() => {});
  client.closeAll();
  await broker.close().catch(() => {});
  process.exit(code);
}

if (process.send) {
  process.on('message', async (message) => {
    if (message?.type === 'go') process.send(await consume(message.n));
    else if (message?.type === 'stop') await shutdown(0);
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready' });
} else {
  const result = await consume(Number(values.n));
  process.stdout.write(`${JSON.stringify({ ...result, perSec: Math.round((result.acked / result.elapsedMs) * 1000) })}\n`);
  await shutdown(0);
}
