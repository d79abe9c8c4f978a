import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs `rabbitmqctl ...args` against the local broker and returns its stdout. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export interface BrokerConnection {
  pid: string;
  /** The client-provided connection name (amqplib `clientProperties.connection_name`). */
  name: string | undefined;
}

/** The broker's AMQP connections with their client-provided names. */
export async function brokerConnections(): Promise<BrokerConnection[]> {
  // The table format prints pids as close_connection takes them (`<rabbit@host.1.2.3>`);
  // the JSON formatter does not.
  const output = await rabbitmqctl('list_connections', 'pid', 'client_properties', '--quiet', '--no-table-headers');
  return output
    .split('\n')
    .filter((line) => line.startsWith('<'))
    .map((line) => {
      const [pid = '', properties = ''] = line.split('\t');
      const name = /\{"connection_name","((?:[^"\\]|\\.)*)"\}/.exec(properties)?.[1];
      return { pid, name };
    });
}

/**
 * The broker closes the connections whose client-provided name satisfies `match`, exactly as
 * `rabbitmqctl close_all_connections` does for each connection (connection.close with
 * `reason`, code 320 CONNECTION_FORCED). Returns how many matching connections it closed.
 *
 * With `all`, it runs `rabbitmqctl close_all_connections REASON` itself, which also closes
 * every other client of the shared broker (other tests, the test's own TestBroker): only
 * for the disruptive tests, which run apart and in series.
 */
export async function brokerClosesConnections(match: (name: string | undefined) => boolean, reason = 'test', options: { all?: boolean } = {}): Promise<number> {
  const targets = (await brokerConnections()).filter((connection) => match(connection.name));
  if (options.all) {
    await rabbitmqctl('close_all_connections', reason);
    return targets.length;
  }
  for (const target of targets) await rabbitmqctl('close_connection', target.pid, reason);
  return targets.length;
}

/** Ready and unacknowledged message counts of a queue (undefined when it does not exist). */
export async function queueCounts(queue: string, vhost = '/'): Promise<{ ready: number; unacked: number } | undefined> {
  const output = await rabbitmqctl('list_queues', '-p', vhost, 'name', 'messages_ready', 'messages_unacknowledged', '--quiet', '--no-table-headers');
  for (const line of output.split('\n')) {
    const [name, ready, unacked] = line.split('\t');
    if (name === queue) return { ready: Number(ready), unacked: Number(unacked) };
  }
  return undefined;
}
