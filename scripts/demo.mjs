#!/usr/bin/env node
// `npm run demo`: the daemon end to end on this machine, on defaults.
//  1. starts `mllp-dispatcher listen` (a local MLLP receiver that prints what it gets),
//  2. starts `mllp-dispatcher run` with config/demo.json pointed at it,
//  3. publishes the sample events in examples/events/ to the patient.events exchange,
//  4. prints the messages the receiver got, the ACKs, the receipt of every event, /readyz
//     and the daemon's metrics,
//  5. stops both (SIGTERM) and removes the demo's queues.
// Needs RabbitMQ at amqp://guest:guest@127.0.0.1:5672 (or AMQP_URL).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'main.js');
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const say = (text) => process.stdout.write(`${text}\n`);

if (!existsSync(cli)) {
  say('dist/ is missing: run "npm ci" (it builds) or "npm run build" first.');
  process.exit(1);
}

let broker;
try {
  broker = await connect(amqpUrl);
} catch (error) {
  say(`Cannot reach RabbitMQ at ${amqpUrl.replace(/:[^:@/]*@/, ':****@')}: ${error.message}`);
  say('Start one: "rabbitmq-server -detached" (Debian package rabbitmq-server), or');
  say('           "docker run -d -p 5672:5672 rabbitmq:3-management".');
  process.exit(1);
}

function startChild(args, onLine) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AMQP_URL: amqpUrl } });
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let at;
    while ((at = buffer.indexOf('\n')) !== -1) {
      onLine(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
    }
  });
  child.stderr.on('data', (chunk) => process.stderr.write(chunk));
  return child;
}

async function waitFor(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// 1. The receiver, on a free port.
const receiverLines = [];
const receiver = startChild(['listen', '--port', '0', '--ack', 'AA'], (line) => receiverLines.push(line));
const listening = await waitFor(() => receiverLines.find((line) => line.startsWith('listening')), 'the receiver');
const port = Number(/:(\d+),/.exec(listening)[1]);

// 2. The daemon, with the demo subscription pointed at the receiver.
const subscription = `demo-${process.pid}`;
const demo = JSON.parse(readFileSync(join(root, 'config', 'demo.json'), 'utf8'));
demo.subscriptions[0].name = subscription;
demo.subscriptions[0].endpoint = `llp://127.0.0.1:${port}`;
demo.http = { port: 0, host: '127.0.0.1' };
const configFile = join(mkdtempSync(join(tmpdir(), 'mllp-demo-')), 'demo.json');
writeFileSync(configFile, JSON.stringify(demo, null, 2));
const logs = [];
const daemon = startChild(['run', '--config', configFile], (line) => {
  try {
    logs.push(JSON.parse(line));
  } catch {
    logs.push({ msg: line });
  }
});
await waitFor(() => logs.find((line) => line.msg === 'broker session consuming'), 'the daemon to consume');
say(`daemon consuming queue mllp.${subscription}; receiver on 127.0.0.1:${port}\n`);

// 3. Receipts, then the sample events.
const channel = await broker.createConfirmChannel();
const { queue: receiptQueue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
await channel.bindQueue(receiptQueue, 'mllp.receipts', `${subscription}.*`);
const receipts = [];
await channel.consume(receiptQueue, (message) => receipts.push(JSON.parse(message.content.toString())), { noAck: true });

const files = readdirSync(join(root, 'examples', 'events')).filter((file) => file.endsWith('.json')).sort();
for (const file of files) {
  const body = readFileSync(join(root, 'examples', 'events', file));
  const event = JSON.parse(body);
  channel.publish('patient.events', `patient.${event.type}`, body, { contentType: 'application/json', messageId: event.id, persistent: true });
  say(`published ${event.id} (${event.type}) from examples/events/${file}`);
}
await channel.waitForConfirms();
await waitFor(() => receipts.length >= files.length, 'a receipt for every event');

// 4. What happened.
say('\n=== what the receiver got (mllp-dispatcher listen) ===');
say(receiverLines.filter((line) => !line.startsWith('listening')).join('\n'));
say('\n=== receipts (exchange mllp.receipts) ===');
for (const receipt of receipts) {
  say(
    `${receipt.eventId.padEnd(10)} ${receipt.outcome.padEnd(14)} ${(receipt.trigger ?? '-').padEnd(4)} ` +
      `MSH-10 ${(receipt.controlId ?? '-').padEnd(20)} ACK ${(receipt.ackCode ?? '-').padEnd(3)} attempts ${receipt.attempts}`,
  );
}
// The daemon writes its log lines in batches (at most 100 ms late): wait for the dead-letter lines.
const invalid = receipts.filter((receipt) => receipt.outcome === 'invalid-event').length;
await waitFor(() => logs.filter((line) => line.msg === 'event dead-lettered').length >= invalid, 'the dead-letter log lines', 3_000).catch(() => {});
const deadLettered = logs.filter((line) => line.msg === 'event dead-lettered');
for (const line of deadLettered) say(`dead-lettered ${line.eventId}: ${line.reason}`);
say(`\n${files.length} events published, ${receiverLines.filter((line) => line.startsWith('---')).length} messages sent, ` +
  `ACK codes: ${receiverLines.filter((line) => line.startsWith('<--')).map((line) => line.split(' ')[1]).join(', ')}`);

// What an operator sees: the daemon's own metrics for this feed (histogram buckets left out).
const started = logs.find((line) => line.msg === 'mllp-dispatcher started');
if (started?.httpPort) {
  const base = `http://127.0.0.1:${started.httpPort}`;
  const ready = await fetch(`${base}/readyz`);
  say(`\n=== GET /readyz: ${ready.status} ===\n${(await ready.text()).trim()}`);
  // Queue depths are polled from the broker (amqp.queuePollMs, 500 ms in the demo).
  const metrics = await waitFor(async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return text.includes('mllp_queue_messages{') ? text : undefined;
  }, 'the first queue-depth poll', 5_000).catch(() => fetch(`${base}/metrics`).then((response) => response.text()));
  say('\n=== GET /metrics (the mllp_* series; histogram buckets and process metrics omitted) ===');
  say(
    metrics
      .split('\n')
      .filter((line) => line.startsWith('mllp_') && !line.startsWith('mllp_dispatcher_process_') && !line.includes('_bucket{'))
      .join('\n'),
  );
}

// 5. Stop and clean up.
daemon.kill('SIGTERM');
const code = await new Promise((resolve) => daemon.on('exit', resolve));
receiver.kill('SIGTERM');
await channel.deleteQueue(`mllp.${subscription}`);
await channel.deleteQueue(`mllp.${subscription}.dead`);
await broker.close();
say(`daemon stopped on SIGTERM with exit code ${code}`);
process.exit(code === 0 ? 0 : 1);
