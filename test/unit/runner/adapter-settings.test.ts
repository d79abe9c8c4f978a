import { afterAll, describe, expect, it } from 'vitest';
import { sessionSettings, streamSettings } from '../../../src/runner/adapter-settings.js';
import { configDir, load, minimalSubscription } from '../config/config-fixtures.js';

const dir = configDir();
afterAll(() => dir.cleanup());

function config(overrides: Record<string, unknown> = {}, amqp: Record<string, unknown> = {}) {
  const file = dir.write(`config-${Math.random().toString(36).slice(2)}.json`, { amqp, subscriptions: [minimalSubscription('feed', overrides)] });
  return load({ configFile: file });
}

describe('adapter settings of a subscription', () => {
  it('the stream: lanes, timeouts, charset, and a receiver profile’s framing and rate limit; no TLS or enhanced mode unless configured', () => {
    const { subscriptions } = config({ lanes: 2, framing: { start: '0b', end: '1c0d' }, rateLimit: { perSecond: 5 } });
    const settings = streamSettings(subscriptions[0]!);
    expect(settings).toMatchObject({ subscription: 'feed', lanes: 2, charset: 'UTF-8', perSecond: 5, framing: { start: [0x0b], end: [0x1c, 0x0d] } });
    expect(settings.connectTimeoutMs).toBeGreaterThan(0);
    expect(settings.ackTimeoutMs).toBeGreaterThan(0);
    expect('tls' in settings).toBe(false);
    expect('enhanced' in settings).toBe(false);
  });

  it('enhanced acknowledgment when the mapping asks for it, with the application ACK timeout', () => {
    const sub = config({ settings: { AcceptAck: 'AL' } }).subscriptions[0]!;
    expect(streamSettings(sub).enhanced).toEqual({ mode: sub.mapping.acknowledgment, applicationAckTimeoutMs: sub.timeouts.applicationAckMs });
    expect(sub.mapping.acknowledgment).toBeDefined();
  });

  it('the session: the subscription’s queue and prefetch; the topology is declared unless amqp.declare is false', () => {
    const declared = config();
    expect(sessionSettings(declared.subscriptions[0]!, declared.amqp)).toMatchObject({ connectionName: 'mllp-dispatcher feed', queue: 'mllp.feed', prefetch: declared.subscriptions[0]!.prefetch });
    expect(typeof sessionSettings(declared.subscriptions[0]!, declared.amqp).declare).toBe('function');
    const undeclared = config({}, { declare: false });
    expect(sessionSettings(undeclared.subscriptions[0]!, undeclared.amqp).declare).toBeUndefined();
  });
});
