import { afterEach, describe, expect, it } from 'vitest';
import { controlIdFor } from '../../../src/mapping/control-id.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { Cleanups, receiptOf, settleLineOf, startDelivery, takeDeadLetters, unackedAfterStop, waitReceipts } from '../../helpers/delivery.js';

/**
 * Bad input (README "Producing events"): each is dead-lettered at once as invalid-event with a
 * precise reason, never blocks the queue, and the good event behind it is still delivered.
 */

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const FAMILY = 'Zebedeequixote';
const PATIENT_ID = 'PAT-SECRET-4711';
const MAX_BYTES = 2048;

interface BadInput {
  label: string;
  body: Buffer;
  routingKey: string;
  reason: string;
}

function badInputs(): BadInput[] {
  const good = (overrides: Record<string, unknown> = {}) => patientEvent({ family: FAMILY, patientId: PATIENT_ID, ...overrides });
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const noType = good();
  delete noType.type;
  const oversized = json(good({ padding: `${FAMILY} `.repeat(200) }));
  return [
    { label: 'not JSON', body: Buffer.from(`{"id":"x","patient":{"name":"${FAMILY}"`), routingKey: 'patient.create', reason: 'body is not JSON' },
    {
      label: 'invalid UTF-8',
      body: Buffer.concat([Buffer.from(`{"id":"x","family":"${FAMILY}`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]),
      routingKey: 'patient.create',
      reason: 'body is not valid UTF-8',
    },
    { label: 'not an object', body: json([good()]), routingKey: 'patient.create', reason: 'body is not a JSON object' },
    {
      label: 'schema violation (gender)',
      body: json(good({ patient: { ...(good().patient as object), gender: FAMILY } })),
      routingKey: 'patient.create',
      reason: 'patient.gender must be one of male, female, other, unknown',
    },
    {
      label: 'schema violation (birthDate)',
      body: json(good({ patient: { ...(good().patient as object), birthDate: '12.03.1984' } })),
      routingKey: 'patient.update',
      reason: 'patient.birthDate must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)',
    },
    {
      label: 'occurredAt on a day that does not exist',
      body: json(good({ occurredAt: '2026-02-30T14:29:00+01:00' })),
      routingKey: 'patient.create',
      reason: 'occurredAt names a date that does not exist (day out of range for its month)',
    },
    { label: 'unknown type', body: json(good({ type: 'explode' })), routingKey: 'patient.create', reason: 'type is not one of create, update, delete, merge, unmerge' },
    { label: 'missing type', body: json(noType), routingKey: 'patient.create', reason: 'type is required' },
    {
      label: 'no identifier with an authority',
      body: json(good({ patient: { ...(good().patient as object), identifier: [{ value: PATIENT_ID }] } })),
      routingKey: 'patient.create',
      reason: 'patient.identifier: no identifier has both a value and an authority (system or assigner.display); PID-3 needs an assigning authority',
    },
    {
      label: 'merge with no replaced',
      body: json({ ...good({ type: 'merge' }), replaced: [] }),
      routingKey: 'patient.merge',
      reason: 'merge event has no replaced record (replaced must list at least one)',
    },
    {
      label: 'body over amqp.maxMessageBytes',
      body: oversized,
      routingKey: 'patient.create',
      reason: `body is ${oversized.length} bytes, over amqp.maxMessageBytes (${MAX_BYTES})`,
    },
  ];
}

describe('bad input', () => {
  it('dead-letters each bad event at once as invalid-event with a precise reason; the good event after each is delivered', async () => {
    const receiver = await ScriptedReceiver.start();
    cleanups.add(() => receiver.close());
    const harness = await startDelivery({ prefix: 'bad', port: receiver.port, cleanups, extra: { amqp: { maxMessageBytes: MAX_BYTES } } });
    const inputs = badInputs();
    expect(inputs.at(-1)!.body.length).toBeGreaterThan(MAX_BYTES);
    const goods: Array<Record<string, unknown>> = [];
    for (const [index, input] of inputs.entries()) {
      await harness.broker.publish(input.body, { routingKey: input.routingKey, messageId: `bad-${index}` });
      const good = patientEvent();
      goods.push(good);
      await harness.broker.publish(good);
    }

    const dead = await takeDeadLetters(harness, inputs.length);
    await waitReceipts(harness, inputs.length * 2);

    // Every good event reached the receiver, once each, in order.
    expect(receiver.controlIds()).toEqual(goods.map((event) => controlIdFor(String(event.id), harness.name, 0)));
    for (const good of goods) expect(receiptOf(harness, String(good.id))).toMatchObject({ outcome: 'accepted', attempts: 1 });

    expect(dead).toHaveLength(inputs.length);
    dead.forEach((letter, index) => {
      const input = inputs[index]!;
      expect({ label: input.label, reason: letter.headers['x-mllp-reason'] }).toEqual({ label: input.label, reason: input.reason });
      expect(letter.headers).toMatchObject({
        'x-mllp-outcome': 'invalid-event',
        'x-mllp-attempts': 0,
        'x-mllp-ack-code': '',
        'x-mllp-control-id': '',
      });
      expect(letter.body.equals(input.body)).toBe(true);
      expect(letter.properties.messageId).toBe(`bad-${index}`);
      expect(String(letter.headers['x-mllp-reason'])).not.toContain(FAMILY);
      expect(String(letter.headers['x-mllp-reason'])).not.toContain(PATIENT_ID);
      const receipt = receiptOf(harness, `bad-${index}`);
      expect(receipt).toMatchObject({ outcome: 'invalid-event', controlId: null, trigger: null, attempts: 0 });
      expect(settleLineOf(harness.daemon, `bad-${index}`)).toMatchObject({ level: 'warn', msg: 'event dead-lettered', outcome: 'invalid-event', reason: input.reason });
    });
    expect(harness.receipts.filter((receipt) => receipt.routingKey === `${harness.name}.invalid-event`)).toHaveLength(inputs.length);
    // Logged without patient data.
    const logs = JSON.stringify(harness.daemon.logs);
    expect(logs).not.toContain(FAMILY);
    expect(logs).not.toContain(PATIENT_ID);
    expect(await unackedAfterStop(harness)).toBe(0);
  });
});
