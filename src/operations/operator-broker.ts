import { connect, type ChannelModel, type Channel, type GetMessage } from 'amqplib';
import type { AppConfig } from '../config/load-config.js';
import { maskUrlPassword } from '../config/load-config.js';
import { connectionOptions } from '../amqp/connection-options.js';

/** The broker could not be reached, or refused what an operator command asked of it. */
export class OperatorBrokerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorBrokerError';
  }
}

/** An error text with the password of every broker URL in it masked. */
export function maskUrls(text: string): string {
  return text.replace(/amqps?:\/\/\S+/g, (url) => maskUrlPassword(url));
}

/**
 * A short-lived connection for an operator command (`dead-letters`, `replay`), to the first
 * configured node that answers. Named `mllp-dispatcher <what>` in the broker's connection list.
 */
export async function connectForOperator(amqp: AppConfig['amqp'], name: string): Promise<ChannelModel> {
  const failures: string[] = [];
  for (const url of amqp.urls) {
    try {
      // noDelay: one get, publish and ack at a time are small frames that Nagle's algorithm
      // would hold back behind the broker's delayed ACKs (about 40 ms per dead letter).
      const model = await connect(connectionOptions(url, amqp.heartbeatSeconds), { clientProperties: { connection_name: `mllp-dispatcher ${name}` }, noDelay: true, timeout: 10_000 });
      model.on('error', () => {});
      return model;
    } catch (error) {
      failures.push(`${maskUrlPassword(url)}: ${maskUrls((error as Error).message)}`);
    }
  }
  throw new OperatorBrokerError(`cannot connect to the broker (${failures.join('; ')})`);
}

/** Ready messages of `queue`, on a channel of its own (a missing queue closes the channel it is asked on). */
export async function readyCount(model: ChannelModel, queue: string): Promise<number> {
  const channel = await model.createChannel();
  channel.on('error', () => {});
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } catch (error) {
    if (/NOT_FOUND|404/.test((error as Error).message)) {
      throw new OperatorBrokerError(`queue ${queue} does not exist on the broker (the daemon declares it when it first runs the subscription)`);
    }
    throw error;
  } finally {
    await channel.close().catch(() => {});
  }
}

/**
 * Takes the first `count` messages of `queue` one by one, unacknowledged, and hands each to
 * `visit`; stops early when `visit` says so or `signal` aborts. Messages are fetched with
 * basic.get on the caller's channel, so a `visit` that acks on that channel has its ack
 * processed by the broker before the next message is handed out (frames of one channel are
 * handled in order). Whatever was not acked returns to its place in the queue when the
 * channel closes. Returns how many messages were visited.
 */
export async function scanQueue(
  channel: Channel,
  queue: string,
  count: number,
  visit: (message: GetMessage, index: number) => Promise<'continue' | 'stop'>,
  signal?: AbortSignal,
): Promise<number> {
  let visited = 0;
  while (visited < count && !signal?.aborted) {
    const message = await channel.get(queue, { noAck: false });
    if (message === false) break;
    visited++;
    if ((await visit(message, visited - 1)) === 'stop') break;
  }
  return visited;
}
