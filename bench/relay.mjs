#!/usr/bin/env node
// Case (b2) of the benchmark: the AMQP work the daemon does per event, and nothing else, in a
// process of its own like the daemon: consume the queue (prefetch 64, manual acks), publish a
// receipt (the daemon's receipt JSON, persistent, publisher confirm) to the receipts exchange,
// and ack the event once the broker confirmed the receipt. No JSON parsing of the event, no
// HL7, no MLLP, no logging, no metrics. Its drain rate is the ceiling the daemon can reach with
// receipts on, and its publish -> receipt latency is the floor of the daemon's.
//
// Driven by the benchmark over IPC: says {type:'ready'}; {type:'consume'} starts consuming,
// {type:'cancel'} stops (-> {type:'cancelled'}), {type:'stop'} exits.
import { parseArgs } from 'node:util';
import amqp from 'amqplib';

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    exchange: { type: 'string' },
    url: { type: 'string', default: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' },
    prefetch: { type: 'string', default: '64' },
  },
});

const connection = await amqp.connect(values.url, { noDelay: true });
const consumer = await connection.createChannel();
await consumer.prefetch(Number(values.prefetch));
const confirms = await connection.createConfirmChannel();
let consumerTag;

function onDelivery(message) {
  const eventId = message.properties.messageId ?? null;
  const receipt = {
    eventId,
    subscription: 'bench-relay',
    controlId: 'ABCDEFGHJKMNPQRSTVWX',
    trigger: 'A01',
    outcome: 'accepted',
    ackCode: 'AA',
    attempts: 1,
    latencyMs: 0.4,
    at: new Date().toISOString(),
  };
  confirms.publish(
    values.exchange,
    'bench-relay.accepted',
    Buffer.from(JSON.stringify(receipt)),
    { contentType: 'application/json', persistent: true, ...(eventId ? { correlationId: eventId } : {}) },
    (error) => {
      if (!error) consumer.ack(message);
    },
  );
}

process.on('message', async (message) => {
  switch (message?.type) {
    case 'consume':
      ({ consumerTag } = await consumer.consume(values.queue, onDelivery, { noAck: false }));
      process.send({ type: 'consuming' });
      break;
    case 'cancel':
      if (consumerTag) await consumer.cancel(consumerTag);
      consumerTag = undefined;
      process.send({ type: 'cancelled' });
      break;
    case 'stop':
      await connection.close().catch(() => {});
      process.exit(0);
      break;
    default:
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
