import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import { configDir, load, minimalSubscription, problemsOf, type ConfigDir } from './config-fixtures.js';
import { loadEvent, MARCH_15 } from '../mapping/mapping-fixtures.js';

let dir: ConfigDir;
beforeEach(() => {
  dir = configDir();
});
afterEach(() => dir.cleanup());

const P = 'subscriptions[0] (s)';

function subscriptionWith(fields: Record<string, unknown>) {
  const config = load({ configFile: dir.write('config.json', { subscriptions: [minimalSubscription('s', fields)] }) });
  return config.subscriptions[0]!;
}

function problemsWith(fields: Record<string, unknown>): string[] {
  return problemsOf({ configFile: dir.write('config.json', { subscriptions: [minimalSubscription('s', fields)] }) });
}

describe('settings.AcceptAck / settings.ApplicationAck and timeouts.applicationAckMs', () => {
  it('default: original mode (MSH-15/16 empty), application ACK timeout 30 s', () => {
    const sub = subscriptionWith({});
    expect(sub.mapping.acknowledgment).toBeUndefined();
    expect(sub.timeouts).toEqual({ connectMs: 5_000, ackMs: 10_000, applicationAckMs: 30_000 });
    expect(subscriptionWith({ settings: { AcceptAck: '', ApplicationAck: '' } }).mapping.acknowledgment).toBeUndefined();
  });

  it('one of them set: enhanced mode, the other AL', () => {
    expect(subscriptionWith({ settings: { ApplicationAck: 'ER' } }).mapping.acknowledgment).toEqual({ accept: 'AL', application: 'ER' });
    expect(subscriptionWith({ settings: { AcceptAck: 'NE' } }).mapping.acknowledgment).toEqual({ accept: 'NE', application: 'AL' });
    expect(subscriptionWith({ settings: { AcceptAck: 'SU', ApplicationAck: 'SU' }, timeouts: { applicationAckMs: 5 } })).toMatchObject({
      mapping: { acknowledgment: { accept: 'SU', application: 'SU' } },
      timeouts: { applicationAckMs: 5 },
    });
  });

  it('values of table 0155 only, a pair that answers success, a positive timeout', () => {
    expect(problemsWith({ settings: { AcceptAck: 'ALWAYS' } })).toEqual([`${P}.settings.AcceptAck: must be one of , AL, NE, ER, SU`]);
    expect(problemsWith({ settings: { AcceptAck: 'ER', ApplicationAck: 'NE' } })).toEqual([
      `${P}.settings.ApplicationAck: AcceptAck ER with ApplicationAck NE means a message that succeeds is never answered; set either to AL or SU`,
    ]);
    expect(problemsWith({ timeouts: { applicationAckMs: 0 } })).toEqual([`${P}.timeouts.applicationAckMs: must be an integer >= 1`]);
  });

  it('MSH-15 and MSH-16 carry them', () => {
    const { mapping } = subscriptionWith({ settings: { AcceptAck: 'AL', ApplicationAck: 'ER' } });
    const built = buildMessages(loadEvent('create-anne'), mapping, MARCH_15);
    if (built.kind !== 'messages') throw new Error(built.kind);
    const msh = built.messages[0]!.text.split('\r')[0]!.split('|');
    expect([msh[14], msh[15]]).toEqual(['AL', 'ER']);
    const original = buildMessages(loadEvent('create-anne'), subscriptionWith({}).mapping, MARCH_15);
    if (original.kind !== 'messages') throw new Error(original.kind);
    expect(original.messages[0]!.text.split('\r')[0]!.split('|').length).toBe(12);
  });
});
