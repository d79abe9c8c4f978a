import { afterEach, describe, expect, it } from 'vitest';
import { AMQP_URL, TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { scrape } from '../../helpers/metrics.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

interface ReadyBody {
  ready: boolean;
  subscriptions: Array<{ name: string; problems: string[]; role: string; receiverUp: boolean }>;
}

async function readyz(port: number): Promise<{ status: number; body: ReadyBody }> {
  const { status, body } = await scrape(port, '/readyz');
  return { status, body: JSON.parse(body) as ReadyBody };
}

describe('/readyz means something', () => {
  it('flips to 503 when the broker goes away and back to 200 when it returns', async () => {
    const brokerPort = Number(new URL(AMQP_URL).port || 5672);
    const proxy = await TcpProxy.start(brokerPort);
    cleanups.push(() => proxy.close());
    const receiver = await ScriptedReceiver.start();
    cleanups.push(() => receiver.close());
    const broker = await TestBroker.open(testTopology('ready'));
    cleanups.push(() => broker.close());
    const name = uniqueName('ready');
    broker.ownSubscription(name);
    const url = new URL(AMQP_URL);
    url.port = String(proxy.port);
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [subscriptionEntry(name, receiver.port)], { amqp: { url: url.toString() } }),
    );
    cleanups.push(() => daemon.stop());
    const port = daemon.daemon.port!;
    expect((await scrape(port, '/healthz')).status).toBe(200);
    expect((await readyz(port)).status).toBe(200);

    await proxy.pause();
    const down = await waitFor(async () => {
      const answer = await readyz(port);
      return answer.status === 503 ? answer : undefined;
    }, { message: 'readyz 503 while the broker is away' });
    expect(down.body.ready).toBe(false);
    expect(down.body.subscriptions[0]!.problems.join(' ')).toMatch(/broker/);
    expect((await scrape(port, '/healthz')).status).toBe(200);

    await proxy.resume();
    await waitFor(async () => (await readyz(port)).status === 200, { message: 'readyz 200 after the broker is back' });
    // And it really consumes again.
    const receipts = await broker.captureReceipts();
    await broker.publish(patientEvent());
    await waitFor(() => receipts.length === 1, { message: 'delivery after reconnect' });
  });

  it('flips to 503 while the receiver is unreachable, naming it, and back when it returns', async () => {
    const receiver = await ScriptedReceiver.start();
    const receiverPort = receiver.port;
    await receiver.close();
    const broker = await TestBroker.open(testTopology('ready-rx'));
    cleanups.push(() => broker.close());
    const name = uniqueName('ready-rx');
    broker.ownSubscription(name);
    const receipts = await broker.captureReceipts();
    const daemon = await InProcessDaemon.start(configFor(broker.topology, [subscriptionEntry(name, receiverPort)]));
    cleanups.push(() => daemon.stop());
    const port = daemon.daemon.port!;
    expect((await readyz(port)).status).toBe(200);

    await broker.publish(patientEvent());
    const down = await waitFor(async () => {
      const answer = await readyz(port);
      return answer.status === 503 ? answer : undefined;
    }, { message: 'readyz 503 while the receiver is down' });
    expect(down.body.subscriptions[0]!.receiverUp).toBe(false);
    expect(down.body.subscriptions[0]!.problems.join(' ')).toMatch(/receiver unreachable since .*ECONNREFUSED/);

    const back = await ScriptedReceiver.start(undefined, undefined, receiverPort);
    cleanups.push(() => back.close());
    await waitFor(() => receipts.length === 1, { message: 'event delivered once the receiver is back' });
    expect((await readyz(port)).status).toBe(200);
  });

  it('stays ready with a receiver down when http.readinessIncludesReceivers is false', async () => {
    const receiver = await ScriptedReceiver.start();
    const receiverPort = receiver.port;
    await receiver.close();
    const broker = await TestBroker.open(testTopology('ready-off'));
    cleanups.push(() => broker.close());
    const name = uniqueName('ready-off');
    broker.ownSubscription(name);
    const daemon = await InProcessDaemon.start(
      configFor(broker.topology, [subscriptionEntry(name, receiverPort)], { http: { port: 0, host: '127.0.0.1', readinessIncludesReceivers: false } }),
    );
    cleanups.push(() => daemon.stop());
    await broker.publish(patientEvent());
    await waitFor(() => daemon.logs.some((line) => line.msg === 'receiver unreachable'), {
      message: 'receiver unreachable logged',
    });
    const answer = await readyz(daemon.daemon.port!);
    expect(answer.status).toBe(200);
    expect(answer.body.subscriptions[0]!.receiverUp).toBe(false);
  });
});
