import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, receiptOf, startDelivery, takeDeadLetters, waitReceipts } from '../../helpers/delivery.js';
import { patientEvent } from '../../helpers/events.js';
import { segmentField } from '../../helpers/subscriptions.js';
import { waitFor } from '../../helpers/wait.js';
import { MllpFrameDecoder, frameBytes } from '../../../src/transport/mllp-framing.js';
import { buildAck, readHeader } from '../../../src/hl7/build-ack.js';
import { assertValidHl7 } from '../../helpers/hl7-validator/index.js';
import { MllpClient } from '../../../src/transport/mllp-client.js';
import { encodeFrame } from '../../../src/transport/mllp-framing.js';

/**
 * Character sets on the wire (README "Versions, character sets and lengths"): a name with
 * letters outside ASCII reaches receivers that read ISO-8859-1 and Windows-1252 byte for
 * byte in their charset, with the MSH-18 their HL7 version defines; a receiver whose
 * charset cannot hold a name and whose subscription says `reject` never gets the event:
 * it is dead-lettered with a reason that names the field.
 */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const FAMILY = 'Ødegård-Müller';
const GIVEN = 'Zoë';

/**
 * A receiver that keeps every frame's raw bytes and reads them with its own decoder (not the
 * daemon's): Node's latin1 for ISO-8859-1, the WHATWG decoder for Windows-1252. Its ACKs
 * are written in the same charset (they are ASCII).
 */
class ByteReceiver {
  readonly frames: Buffer[] = [];
  readonly texts: string[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(decode: (bytes: Buffer) => string) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const decoder = new MllpFrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const item of decoder.push(chunk)) {
          if (item.kind !== 'frame') continue;
          const bytes = Buffer.from(item.payload);
          const text = decode(bytes);
          this.frames.push(bytes);
          this.texts.push(text);
          const header = readHeader(text);
          if (header) socket.write(frameBytes(Buffer.from(buildAck(header, { code: 'AA' }), 'latin1')));
        }
      });
    });
  }

  static async start(decode: (bytes: Buffer) => string): Promise<ByteReceiver> {
    const receiver = new ByteReceiver(decode);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    cleanups.add(() => receiver.close());
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const zoeEvent = (): Record<string, unknown> => ({
  ...patientEvent({ type: 'create' }),
  patient: {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:1.2.3.4.5.6.1', value: 'PAT-ZOE-1', assigner: { display: 'ACME_MPI' } }],
    name: [{ use: 'official', family: FAMILY, given: [GIVEN] }],
  },
});

describe('charsets on the wire', () => {
  it.each([
    ['ISO-8859-1', '2.4', (bytes: Buffer) => bytes.toString('latin1')],
    ['Windows-1252', '2.5', (bytes: Buffer) => new TextDecoder('windows-1252').decode(bytes)],
  ] as const)('delivers %s byte-exact to a receiver reading that charset (HL7 %s)', async (charset, version, decode) => {
    const receiver = await ByteReceiver.start(decode);
    const harness = await startDelivery({ prefix: 'charset', port: receiver.port, cleanups, entry: { settings: { MSH34: 'TEST_APP|TEST_FAC', Version: version, Charset: charset } } });
    const event = zoeEvent();
    await harness.broker.publish(event);
    await waitReceipts(harness, 1);
    expect(receiptOf(harness, String(event.id))).toMatchObject({ outcome: 'accepted', ackCode: 'AA' });
    await waitFor(() => receiver.frames.length === 1, { message: 'one frame' });

    const bytes = receiver.frames[0]!;
    // `Ødegård-Müller^Zoë` as single bytes: Ø=D8 å=E5 ü=FC ë=EB in both charsets.
    const name = Buffer.from([0xd8, 0x64, 0x65, 0x67, 0xe5, 0x72, 0x64, 0x2d, 0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x5e, 0x5a, 0x6f, 0xeb]);
    expect(bytes.includes(name)).toBe(true);
    expect(bytes.every((byte) => byte !== 0xc3)).toBe(true); // no UTF-8 lead byte anywhere
    const text = receiver.texts[0]!;
    expect(segmentField(text, 'PID', 5)).toBe(`${FAMILY}^${GIVEN}^^^^^L`);
    expect(segmentField(text, 'MSH', 12)).toBe(version);
    expect(segmentField(text, 'MSH', 18)).toBe('8859/1');
    expect(Buffer.from(text, 'latin1').equals(bytes)).toBe(true); // one byte per character, nothing lost or added
    assertValidHl7(text);
  });

  it('Unrepresentable reject: a name ASCII cannot hold is dead-lettered as invalid-event naming the field, and the next event flows', async () => {
    const receiver = await ByteReceiver.start((bytes) => bytes.toString('latin1'));
    const harness = await startDelivery({
      prefix: 'charset-reject',
      port: receiver.port,
      cleanups,
      entry: { settings: { MSH34: 'TEST_APP|TEST_FAC', Charset: 'ASCII', Unrepresentable: 'reject' } },
    });
    const bad = zoeEvent();
    const good = patientEvent({ type: 'create', family: 'Smith' });
    await harness.broker.publish(bad);
    await harness.broker.publish(good);
    const [letter] = await takeDeadLetters(harness, 1);
    expect(letter!.headers).toMatchObject({
      'x-mllp-outcome': 'invalid-event',
      'x-mllp-reason': 'PID-5.1 has a character that ASCII cannot represent (settings.Unrepresentable: reject)',
    });
    expect(JSON.parse(letter!.body.toString('utf8'))).toMatchObject({ id: bad.id });
    await waitReceipts(harness, 2);
    expect(receiptOf(harness, String(bad.id))).toMatchObject({ outcome: 'invalid-event', attempts: 0 });
    expect(receiptOf(harness, String(good.id))).toMatchObject({ outcome: 'accepted' });
    expect(receiver.texts).toHaveLength(1);
    expect(segmentField(receiver.texts[0]!, 'PID', 5)).toBe('Smith^Anne^^^^^L');
    const logs = JSON.stringify(harness.daemon.logs);
    expect(logs).not.toContain('degård');
  });

  it('reads ACKs in the subscription charset: MSA-3 text in ISO-8859-1 comes back intact', async () => {
    const server = net.createServer((socket) => {
      const decoder = new MllpFrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const item of decoder.push(chunk)) {
          if (item.kind !== 'frame') continue;
          const header = readHeader(Buffer.from(item.payload).toString('latin1'))!;
          socket.write(frameBytes(Buffer.from(buildAck(header, { code: 'AE', text: 'Reçu, mais refusé' }), 'latin1')));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.add(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const message = 'MSH|^~\\&|A|F|||20260315143022+0100||ADT^A01^ADT_A01|CTRL-ACK-1|P|2.5\rPID|1||X^^^A&1.2&ISO||Zoë\r';
    for (const [charset, expected] of [
      ['ISO-8859-1', 'Reçu, mais refusé'],
      ['UTF-8', 'Re\ufffdu, mais refus\ufffd'],
    ] as const) {
      const client = new MllpClient({ endpoint: { host: '127.0.0.1', port, secure: false }, connectTimeoutMs: 2000, ackTimeoutMs: 2000, charset });
      cleanups.add(() => client.close());
      const result = await client.send(encodeFrame(message, charset), 'CTRL-ACK-1');
      expect(result.kind === 'ack' && result.ack.text).toBe(expected);
    }
  });
});
