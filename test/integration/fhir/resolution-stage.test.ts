import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Delivery } from '../../../src/amqp/amqp-session.js';
import { createEventDecoder } from '../../../src/event/decode-event.js';
import { ResolutionStage, referenceOf, type Resolved } from '../../../src/fhir/resolution-stage.js';
import { TestFhirServer, fhirPatient, simpleEvent } from '../../helpers/fhir-server.js';
import { patientEvent } from '../../helpers/events.js';
import { waitFor } from '../../helpers/wait.js';
import type { Cleanups } from './support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function delivery(body: Record<string, unknown>, generation = 1, messageId?: string): Delivery {
  return {
    message: { content: Buffer.from(JSON.stringify(body)), properties: { headers: {}, ...(messageId ? { messageId } : {}) }, fields: {} },
    generation,
  } as unknown as Delivery;
}

async function stageFor(options: { lanes: number; current?: () => number }) {
  const fhir = await TestFhirServer.start();
  cleanups.push(() => fhir.close());
  const handed: Array<{ delivery: Delivery; resolved: Resolved }> = [];
  const stage = new ResolutionStage({
    subscription: { name: 'i17-stage', lanes: options.lanes, retry: { initialDelayMs: 10, maxDelayMs: 50, maxAttempts: 3 } },
    decodeEvent: createEventDecoder({ maxMessageBytes: 1_048_576 }),
    fhirSources: [{ name: 'test', baseUrl: fhir.baseUrl, timeoutMs: 1000 }],
    isCurrent: (generation) => generation === (options.current?.() ?? 1),
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
    onResolved: (handedOn, resolved) => handed.push({ delivery: handedOn, resolved }),
  });
  cleanups.push(async () => stage.stop());
  return { fhir, stage, handed };
}

describe('the resolution stage', () => {
  it('reads ahead (up to the lanes) but hands every event on in queue order, envelope events included', async () => {
    const { fhir, stage, handed } = await stageFor({ lanes: 4 });
    for (let index = 0; index < 6; index++) fhir.put(fhirPatient(`s${index}`, `Family-${index}`));
    // The first reads answer last.
    fhir.delayMs = (id) => (id === 's0' ? 150 : id === 's1' ? 100 : 0);
    const deliveries = [
      delivery(simpleEvent('created', fhir.reference('s0'), '1'), 1, 'e0'),
      delivery(simpleEvent('created', fhir.reference('s1'), '1'), 1, 'e1'),
      delivery(patientEvent({ id: 'envelope-1', type: 'create' })),
      delivery(simpleEvent('created', fhir.reference('s2'), '1'), 1, 'e2'),
      delivery(simpleEvent('created', fhir.reference('s3'), '1'), 1, 'e3'),
      delivery(simpleEvent('created', fhir.reference('s4'), '1'), 1, 'e4'),
    ];
    for (const entry of deliveries) stage.push(entry, Date.now());
    await waitFor(() => handed.length === 6, { message: 'all handed on' });
    expect(handed.map((entry) => entry.delivery)).toEqual(deliveries);
    expect(handed.map((entry) => (entry.resolved.ok ? entry.resolved.event.id : 'failed'))).toEqual(['e0', 'e1', 'envelope-1', 'e2', 'e3', 'e4']);
    expect(fhir.maxInFlight).toBeGreaterThan(1);
    expect(fhir.maxInFlight).toBeLessThanOrEqual(4);
    expect(referenceOf(deliveries[0]!)).toBe(`${fhir.reference('s0')}/_history/1`);
    expect(referenceOf(deliveries[2]!)).toBeUndefined();
  });

  it('with one lane reads one event at a time', async () => {
    const { fhir, stage, handed } = await stageFor({ lanes: 1 });
    for (let index = 0; index < 4; index++) fhir.put(fhirPatient(`o${index}`, `Family-${index}`));
    fhir.delayMs = () => 20;
    for (let index = 0; index < 4; index++) stage.push(delivery(simpleEvent('updated', fhir.reference(`o${index}`), '1')), Date.now());
    await waitFor(() => handed.length === 4, { message: 'all handed on' });
    expect(fhir.maxInFlight).toBe(1);
  });

  it('drops events of a lost broker connection (the broker redelivers them) instead of waiting for them', async () => {
    let generation = 1;
    const { fhir, stage, handed } = await stageFor({ lanes: 2, current: () => generation });
    fhir.status = 503;
    stage.push(delivery(simpleEvent('created', fhir.reference('x1'), '1')), Date.now());
    stage.push(delivery(patientEvent({ id: 'behind-the-wait', type: 'create' })), Date.now());
    await waitFor(() => stage.wait, { message: 'waiting' });
    expect(handed).toHaveLength(0);
    generation = 2;
    const fresh = delivery(patientEvent({ id: 'after-reconnect', type: 'create' }), 2);
    stage.push(fresh, Date.now());
    await waitFor(() => handed.length === 1, { message: 'fresh event handed on' });
    expect(handed[0]!.delivery).toBe(fresh);
    expect(stage.wait).toBeUndefined();
  });
});
