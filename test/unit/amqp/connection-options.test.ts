import { describe, expect, it } from 'vitest';
import { connectionOptions } from '../../../src/amqp/connection-options.js';
import { withPassword } from '../../../src/config/load-config.js';

describe('connectionOptions', () => {
  it('reads host, port, credentials, vhost and heartbeat from the URL', () => {
    expect(connectionOptions('amqp://user:pa%40ss@broker.example.org:5673/prod?heartbeat=10&frameMax=8192', 30)).toEqual({
      protocol: 'amqp',
      hostname: 'broker.example.org',
      port: 5673,
      username: 'user',
      password: 'pa@ss',
      vhost: 'prod',
      heartbeat: 10,
      frameMax: 8192,
    });
  });

  it('defaults: guest credentials, the default vhost, the configured heartbeat, 5671 for amqps', () => {
    expect(connectionOptions('amqps://[::1]', 30)).toMatchObject({ protocol: 'amqps', hostname: '::1', port: 5671, username: 'guest', vhost: '/', heartbeat: 30 });
    expect(connectionOptions('amqp://h/%2F', 30).vhost).toBe('/');
  });

  it('keeps a non-ASCII password exactly (amqplib would garble it from a URL)', () => {
    const url = withPassword('amqp://dispatcher@127.0.0.1:5672', 'Pässwörd€ 🔑/:@');
    expect(connectionOptions(url, 30).password).toBe('Pässwörd€ 🔑/:@');
  });
});
