import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestBroker, testTopology, uniqueName, type CapturedMessage } from '../../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import type { TestFhirServer } from '../../helpers/fhir-server.js';

export type Cleanups = Array<() => Promise<unknown>>;

export interface ReferenceSetup {
  broker: TestBroker;
  receiver: ScriptedReceiver;
  daemon: InProcessDaemon;
  name: string;
  receipts: CapturedMessage[];
  /** Publishes a reference event body as an eHealth bridge would: no patient data, `patient.<type>`. */
  publish(body: Record<string, unknown>, options?: { messageId?: string; headers?: Record<string, unknown>; routingKey?: string }): Promise<void>;
  deadLetters(): Promise<CapturedMessage[]>;
}

const ROUTING: Record<string, string> = { created: 'patient.create', updated: 'patient.update', deleted: 'patient.delete' };

/** A broker on its own exchanges, an AA receiver and the daemon with one `i17-` subscription reading from `fhirSources`. */
export async function startReferenceFeed(
  cleanups: Cleanups,
  fhirSources: Array<Record<string, unknown>>,
  subscription: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Promise<ReferenceSetup> {
  const broker = await TestBroker.open(testTopology('i17'));
  cleanups.push(() => broker.close());
  const receiver = await ScriptedReceiver.start();
  cleanups.push(() => receiver.close());
  const name = uniqueName('i17');
  broker.ownSubscription(name);
  const receipts = await broker.captureReceipts();
  const daemon = await InProcessDaemon.start(configFor(broker.topology, [subscriptionEntry(name, receiver.port, subscription)], { fhirSources, ...extra }));
  cleanups.push(() => daemon.stop());
  return {
    broker,
    receiver,
    daemon,
    name,
    receipts,
    publish: (body, options = {}) =>
      broker.publish(Buffer.from(JSON.stringify(body)), {
        routingKey: options.routingKey ?? ROUTING[String(body.eventType)] ?? 'patient.update',
        ...(options.messageId ? { messageId: options.messageId } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
      }),
    deadLetters: () => broker.drain(`mllp.${name}.dead`),
  };
}

/** A `fhirSources` entry for a test server, with short timeouts. */
export function sourceFor(server: TestFhirServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'test-fhir', baseUrl: server.baseUrl, timeoutMs: 1000, ...extra };
}

/** Writes a token file in a fresh temporary directory. */
export function tokenFile(token: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'i17-token-')), 'token');
  writeFileSync(file, `${token}\n`);
  return file;
}

/** PID-5.1 (family name) of a message. */
export function familyOf(text: string): string | undefined {
  return text.split('\r').find((segment) => segment.startsWith('PID|'))?.split('|')[5]?.split('^')[0];
}
