import { afterEach, describe, expect, it } from 'vitest';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

// Recognisable patient data: none of it may reach a log line unless log.phi is on.
const FAMILY = 'Quixotically';
const GIVEN = 'Zephyrine';
const IDENTIFIER = 'PHI-ID-90817263';
const SECRET = 'msh8-s3cret-value';

function phiEvent(overrides: Record<string, unknown> = {}) {
  const event = patientEvent({ patientId: IDENTIFIER, family: FAMILY, ...overrides });
  (event.patient as { name: Array<{ given: string[] }> }).name[0]!.given = [GIVEN];
  return event;
}

async function runTraffic(logPhi: boolean) {
  let call = 0;
  // Every way a message can end: AA, AE with an error text that echoes the patient (as real
  // receivers do), garbage, silence, refusal.
  const receiver = await ScriptedReceiver.start((message) => {
    call++;
    if (message.text.includes('ADT^A08')) return { kind: 'ack', code: 'AE', text: `Patient ${FAMILY} ${IDENTIFIER} unknown` };
    if (message.text.includes('ADT^A40') && call < 4) return { kind: 'raw', data: Buffer.from(`garbage ${FAMILY}\r\n`) };
    if (message.text.includes('ADT^A38') && call < 7) return { kind: 'none' };
    return { kind: 'ack', code: 'AA' };
  });
  cleanups.push(() => receiver.close());
  const broker = await TestBroker.open(testTopology('phi'));
  cleanups.push(() => broker.close());
  const name = uniqueName('phi');
  broker.ownSubscription(name);
  const receipts = await broker.captureReceipts();
  const daemon = await InProcessDaemon.start(
    configFor(
      broker.topology,
      [
        subscriptionEntry(name, receiver.port, {
          settings: { MSH34: 'TEST_APP|TEST_FAC', MSH8: SECRET, SendAs: 'Server' },
          timeouts: { connectMs: 500, ackMs: 300 },
          retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 5 },
        }),
      ],
      { log: { level: logPhi ? 'debug' : 'trace', phi: logPhi } },
    ),
  );
  cleanups.push(() => daemon.stop());
  const events = [
    phiEvent({ type: 'create' }),
    phiEvent({ type: 'update' }),
    phiEvent({ type: 'merge' }),
    phiEvent({ type: 'delete' }),
    // Invalid: no authority on the identifier; the reason must not quote it.
    { ...phiEvent(), patient: { resourceType: 'Patient', identifier: [{ value: IDENTIFIER }], name: [{ family: FAMILY }] } },
    // Invalid: wrong type for a field holding patient data.
    { ...phiEvent(), patient: { ...(phiEvent().patient as object), birthDate: `${FAMILY}-1984` } },
  ];
  await broker.publishAll(events);
  await broker.publish(Buffer.from(`{"id":"x","patient":"${FAMILY}"`), { messageId: 'broken-json' });
  await waitFor(() => receipts.length === events.length + 1, { timeoutMs: 20_000, message: 'every event settled' });
  await daemon.stop();
  return daemon.logs.map((line) => JSON.stringify(line));
}

describe('patient data in logs', () => {
  it('never appears at any level (trace) without log.phi, whatever happens to the messages', async () => {
    const lines = await runTraffic(false);
    expect(lines.length).toBeGreaterThan(10);
    // The scenario really produced failures worth logging.
    const all = lines.join('\n');
    expect(all).toContain('"outcome":"application-error"');
    expect(all).toContain('"outcome":"invalid-event"');
    expect(all).toMatch(/"outcome":"(uncertain|invalid-ack)"/);
    for (const secret of [FAMILY, GIVEN, IDENTIFIER, SECRET, 'MSH|']) {
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });

  it('shows HL7 bodies at debug level only when log.phi is on', async () => {
    const lines = await runTraffic(true);
    const bodies = lines.filter((line) => line.includes('"msg":"built HL7 message"'));
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies.some((line) => line.includes(FAMILY) && line.includes('MSH|'))).toBe(true);
    // Credentials stay out even then: MSH-8 is masked in the logged bodies.
    expect(lines.filter((line) => line.includes(SECRET))).toEqual([]);
    expect(bodies.some((line) => line.includes('|********|ADT^'))).toBe(true);
  });
});
