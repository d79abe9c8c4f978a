import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Hl7Server, type Hl7Connection, type Hl7MessageEvent } from '@medplum/hl7';
import type { Hl7Message } from '@medplum/core';
import { waitFor } from './wait.js';

/**
 * Real third-party MLLP receivers from npm, started on a free port for interop tests:
 * @medplum/hl7 4.5.2 (`Hl7Server`) and simple-hl7 3.3.0 (`tcp()`), both dev dependencies.
 */

/** One message as a third-party receiver's handler saw it. */
export interface ThirdPartyReceived {
  controlId: string;
  /** MSH-15 / MSH-16 as received. */
  acceptAck: string;
  applicationAck: string;
}

/**
 * What @medplum/hl7's handler answers for a message: an application ACK code, when
 * (`release` resolves; immediately when absent), or nothing.
 */
export type MedplumAnswer = { code: 'AA' | 'AE' | 'AR'; after?: Promise<void> } | { code: 'none' };

export interface MedplumReceiver {
  port: number;
  received: ThirdPartyReceived[];
  /** Application ACKs written, in order: `${code} ${controlId}`. */
  answered: string[];
  connections: number;
  close(): Promise<void>;
}

/**
 * @medplum/hl7's Hl7Server. In enhanced mode (`start(port, encoding, true)`) its connection
 * answers every message it reads with a commit ACK `MSA|CA|<MSH-10>` at once, before the
 * handler runs (read in node_modules/@medplum/hl7: Hl7Connection's own 'message' listener is
 * registered first); the handler then sends the application ACK as a message of its own,
 * with `message.buildAck({ ackCode })` (MSH-15 empty: it wants no commit ACK back).
 */
export async function startMedplumReceiver(options: { enhanced: boolean; answer: (message: ThirdPartyReceived, index: number) => MedplumAnswer }): Promise<MedplumReceiver> {
  const received: ThirdPartyReceived[] = [];
  const answered: string[] = [];
  const state = { connections: 0 };
  const connections = new Set<Hl7Connection>();
  const server = new Hl7Server((connection) => {
    state.connections++;
    connections.add(connection);
    connection.addEventListener('message', (event: Event) => {
      const message: Hl7Message = (event as Hl7MessageEvent).message;
      const msh = message.getSegment('MSH');
      // The enhanced-mode connection also hands the handler any ACK it reads; only ADTs are answered.
      if (msh?.getField(9)?.getComponent(1) !== 'ADT') return;
      const item: ThirdPartyReceived = {
        controlId: msh.getField(10)?.toString() ?? '',
        acceptAck: msh.getField(15)?.toString() ?? '',
        applicationAck: msh.getField(16)?.toString() ?? '',
      };
      const index = received.push(item) - 1;
      const answer = options.answer(item, index);
      if (answer.code === 'none') return;
      const { code } = answer;
      void (answer.after ?? Promise.resolve()).then(() => {
        if (connection.isClosed()) return;
        connection.send(message.buildAck({ ackCode: code }));
        answered.push(`${code} ${item.controlId}`);
      });
    });
  });
  server.start(0, undefined, options.enhanced);
  const listening = server.server!;
  await waitFor(() => listening.listening, { message: '@medplum/hl7 server listening' });
  return {
    port: (listening.address() as AddressInfo).port,
    received,
    answered,
    get connections() {
      return state.connections;
    },
    async close() {
      for (const connection of connections) await connection.close().catch(() => {});
      await server.stop({ forceDrainTimeoutMs: 100 }).catch(() => {});
    },
  };
}

export interface SimpleHl7Receiver {
  port: number;
  received: string[];
  close(): Promise<void>;
}

/** simple-hl7's TCP server (original mode): `res.ack` is its AA; `code` may turn it into AE/AR. */
export async function startSimpleHl7Receiver(code: (controlId: string, index: number) => 'AA' | 'AE' | 'AR'): Promise<SimpleHl7Receiver> {
  const hl7 = createRequire(import.meta.url)('simple-hl7') as SimpleHl7Module;
  const received: string[] = [];
  const app = hl7.tcp();
  app.use((req, res) => {
    const controlId = req.msg.header.getField(8);
    const index = received.push(controlId) - 1;
    res.ack.getSegment('MSA').setField(1, code(controlId, index));
    res.end();
  });
  const server = app.start(0);
  await waitFor(() => server.server.listening, { message: 'simple-hl7 server listening' });
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    close: () => new Promise<void>((resolve) => server.server.close(() => resolve())),
  };
}

/** The part of simple-hl7 (CommonJS, no types) these tests use. */
interface SimpleHl7Module {
  tcp(): {
    use(handler: (req: SimpleHl7Request, res: SimpleHl7Response) => void): void;
    start(port: number): { server: import('node:net').Server };
  };
}
interface SimpleHl7Request {
  msg: { header: { getField(index: number): string } };
}
interface SimpleHl7Response {
  ack: { getSegment(name: string): { setField(index: number, value: string): void } };
  end(): void;
}
