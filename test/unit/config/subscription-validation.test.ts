import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configDir, load, minimalSubscription, problemsOf, type ConfigDir } from './config-fixtures.js';

let dir: ConfigDir;
beforeEach(() => {
  dir = configDir();
});
afterEach(() => dir.cleanup());

/** The problems of a configuration with these subscriptions. */
function problemsFor(...subscriptions: unknown[]): string[] {
  return problemsOf({ configFile: dir.write('config.json', { subscriptions }) });
}

/** The problems of one subscription named `s` with these fields on top of a valid one. */
function problemsWith(fields: Record<string, unknown>): string[] {
  return problemsFor(minimalSubscription('s', fields));
}

const P = 'subscriptions[0] (s)';

describe('a valid subscription', () => {
  it('loads with every documented field (the contract example)', () => {
    dir.write('client.pem', 'x');
    dir.write('client.key', 'x');
    const configFile = dir.write('config.json', {
      subscriptions: [
        {
          name: 'pix-feed',
          description: 'PIX feed to the regional HIE',
          supportContact: 'hie-ops@example.org',
          events: ['create', 'update', 'merge'],
          when: ['patient.gender=female', 'source.application=!APP_THAT_SENDS_STUFF'],
          notBefore: '2026-01-01T00:00:00Z',
          notAfter: null,
          endpoint: 'sllp://127.0.0.1:2575',
          dispatcher: 'hl7-pat-id-source',
          settings: { MSH34: 'ACME_EHR|ACME_HOSP', MSH56: 'PIX_MGR|REGION_HIE', MSH8: 's3cret', Transport: 'sllp', SendAs: 'Server', Version: '2.3.1' },
          triggers: { create: 'A04', delete: 'skip' },
          tls: { ca: 'client.pem', cert: 'client.pem', key: 'client.key', servername: 'pix.example.org', minVersion: 'TLSv1.3' },
          lanes: 4,
          timeouts: { connectMs: 5000, ackMs: 10000 },
          retry: { initialDelayMs: 500, maxDelayMs: 60000, maxAttempts: 10 },
          policy: { rejected: 'dead-letter' },
        },
      ],
    });
    const [sub] = load({ configFile }).subscriptions;
    expect(sub).toMatchObject({
      name: 'pix-feed',
      endpoint: { host: '127.0.0.1', port: 2575, secure: true },
      lanes: 4,
      timeouts: { connectMs: 5000, ackMs: 10000 },
      retry: { initialDelayMs: 500, maxDelayMs: 60000, maxAttempts: 10 },
      policy: { rejected: 'dead-letter', 'application-error': 'dead-letter', unreachable: 'retry' },
      tls: { ca: `${dir.dir}/client.pem`, cert: `${dir.dir}/client.pem`, key: `${dir.dir}/client.key`, servername: 'pix.example.org', minVersion: 'TLSv1.3' },
      mapping: {
        sendingApplication: 'ACME_EHR',
        sendingFacility: 'ACME_HOSP',
        receivingApplication: 'PIX_MGR',
        receivingFacility: 'REGION_HIE',
        security: 's3cret',
        version: '2.3.1',
        triggers: { create: 'A04', update: 'A08', merge: 'A40', delete: 'skip', unmerge: 'skip' },
      },
    });
    expect([...sub!.events]).toEqual(['create', 'update', 'merge']);
    expect(sub!.notBefore?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(sub!.notAfter).toBeUndefined();
  });

  it('accepts mllp:// and mllps:// as aliases and a description of exactly 1024 characters', () => {
    const configFile = dir.write('config.json', {
      subscriptions: [
        minimalSubscription('plain', { endpoint: 'mllp://host:1', settings: { Transport: 'llp' }, description: 'd'.repeat(1024) }),
        minimalSubscription('secure', { endpoint: 'mllps://host:2', settings: { Transport: 'sllp' } }),
      ],
    });
    const subs = load({ configFile }).subscriptions;
    expect(subs.map((sub) => sub.endpoint)).toEqual([
      { host: 'host', port: 1, secure: false },
      { host: 'host', port: 2, secure: true },
    ]);
  });
});

describe('each subscription problem, named by its key path', () => {
  it('name: required, [a-zA-Z0-9_-]+', () => {
    expect(problemsFor({ endpoint: 'llp://h:1' })).toEqual(['subscriptions[0].name: is required']);
    expect(problemsFor(minimalSubscription('pix feed'))).toEqual(['subscriptions[0] (pix feed).name: must match [a-zA-Z0-9_-]+']);
    expect(problemsFor(minimalSubscription('pix.feed'))).toEqual(['subscriptions[0] (pix.feed).name: must match [a-zA-Z0-9_-]+']);
    expect(problemsFor(minimalSubscription(''))).toEqual(['subscriptions[0].name: must not be empty']);
    expect(problemsFor('pix-feed')).toEqual(['subscriptions[0]: must be an object']);
  });

  it('name: unique, even when the duplicate has other problems', () => {
    expect(problemsFor(minimalSubscription('dup'), minimalSubscription('other'), minimalSubscription('dup'))).toEqual([
      'subscriptions[2] (dup).name: "dup" is already used by subscriptions[0]; names must be unique (they name queues and metrics)',
    ]);
    expect(problemsFor(minimalSubscription('dup'), minimalSubscription('dup', { lanes: 0 }))).toEqual([
      'subscriptions[1] (dup).lanes: must be an integer from 1 to 64',
      'subscriptions[1] (dup).name: "dup" is already used by subscriptions[0]; names must be unique (they name queues and metrics)',
    ]);
  });

  it('description: at most 1024 characters', () => {
    expect(problemsWith({ description: 'd'.repeat(1025) })).toEqual([`${P}.description: must be at most 1024 characters (has 1025)`]);
  });

  it('unknown keys of the subscription and of settings', () => {
    expect(problemsWith({ endpiont: 'llp://h:2' })).toEqual([`${P}.endpiont: is not a known setting`]);
    expect(problemsWith({ settings: { MSH35: 'A|B', SendAs: 'Client' } })).toEqual([
      `${P}.settings.MSH35: is not a setting of hl7-pat-id-source (known: MSH34, MSH56, MSH8, MSH8File, Transport, SendAs, Version, ProcessingId, Charset, Unrepresentable, Lengths, AcceptAck, ApplicationAck)`,
    ]);
  });

  it('settings: Version, SendAs, Transport, ProcessingId, MSH34', () => {
    expect(problemsWith({ settings: { Version: '2.7' } })).toEqual([`${P}.settings.Version: must be one of 2.3.1, 2.4, 2.5, 2.5.1, 2.6`]);
    expect(problemsWith({ settings: { Version: 2.5 } })).toEqual([`${P}.settings.Version: must be one of 2.3.1, 2.4, 2.5, 2.5.1, 2.6`]);
    expect(problemsWith({ settings: { SendAs: 'client' } })).toEqual([`${P}.settings.SendAs: must be one of Client, Server`]);
    expect(problemsWith({ settings: { Transport: 'tcp' } })).toEqual([`${P}.settings.Transport: must be one of llp, sllp`]);
    expect(problemsWith({ settings: { ProcessingId: 'X' } })).toEqual([`${P}.settings.ProcessingId: must be one of P, T, D`]);
    expect(problemsWith({ settings: { MSH34: '|FACILITY' } })).toEqual([`${P}.settings.MSH34: must be "APPLICATION|FACILITY" with a non-empty application`]);
    expect(problemsWith({ settings: 'Client' })).toEqual([`${P}.settings: must be an object`]);
  });

  it('settings.Transport must agree with the endpoint scheme', () => {
    expect(problemsWith({ endpoint: 'llp://h:1', settings: { Transport: 'sllp' } })).toEqual([
      `${P}.settings.Transport: is sllp but the endpoint scheme is plain (llp)`,
    ]);
    expect(problemsWith({ endpoint: 'mllps://h:1', settings: { Transport: 'llp' } })).toEqual([
      `${P}.settings.Transport: is llp but the endpoint scheme is secure (sllp)`,
    ]);
  });

  it('endpoint: required, a URL with an MLLP scheme, a host and a port and nothing else', () => {
    expect(problemsFor({ name: 's' })).toEqual([`${P}.endpoint: is required`]);
    const cases: Array<[string, string]> = [
      ['127.0.0.1:2575', 'must be a URL such as llp://host:2575 or sllp://host:2575'],
      ['localhost:2575', 'scheme "localhost" is not one of llp, sllp, mllp, mllps'],
      ['not a url', 'must be a URL such as llp://host:2575 or sllp://host:2575'],
      ['tcp://h:2575', 'scheme "tcp" is not one of llp, sllp, mllp, mllps'],
      ['llp://h', 'has no port (MLLP has no default port; 2575 is customary)'],
      ['llp://h:2575/path', 'must be scheme://host:port with nothing after the port'],
      ['llp://h:99999', 'must be a URL such as llp://host:2575 or sllp://host:2575'],
    ];
    for (const [endpoint, reason] of cases) {
      expect(problemsWith({ endpoint }), endpoint).toEqual([`${P}.endpoint: ${reason}`]);
    }
  });

  it('triggers: a known trigger that fits the event type, or skip', () => {
    expect(problemsWith({ triggers: { create: 'A99' } })).toEqual([`${P}.triggers.create: must be one of A01, A04, A08, A28, A31, skip`]);
    expect(problemsWith({ triggers: { create: 'A40' } })).toEqual([
      `${P}.triggers.create: A40 does not fit a create event (allowed: A01, A04, A08, A28, A31, skip)`,
    ]);
    expect(problemsWith({ triggers: { merge: 'A01' } })).toEqual([`${P}.triggers.merge: A01 does not fit a merge event (allowed: A40, skip)`]);
    expect(problemsWith({ triggers: { delete: 'A08' } })).toEqual([`${P}.triggers.delete: A08 does not fit a delete event (allowed: A38, skip)`]);
    expect(problemsWith({ triggers: { admit: 'A01' } })).toEqual([`${P}.triggers.admit: is not a known setting`]);
  });

  it('events: known types, at least one', () => {
    expect(problemsWith({ events: ['create', 'discharge'] })).toEqual([
      `${P}.events: "discharge" is not one of create, update, delete, merge, unmerge`,
    ]);
    expect(problemsWith({ events: [] })).toEqual([`${P}.events: must name at least one of create, update, delete, merge, unmerge`]);
    expect(problemsWith({ events: 'create' })).toEqual([`${P}.events: must be a list of strings`]);
  });

  it('tls: cert and key together, TLS settings only on sllp, known keys and versions', () => {
    expect(problemsWith({ endpoint: 'sllp://h:1', tls: { cert: 'client.pem' } })).toEqual([`${P}.tls: cert and key must be given together (mutual TLS)`]);
    expect(problemsWith({ endpoint: 'sllp://h:1', tls: { key: 'client.key' } })).toEqual([`${P}.tls: cert and key must be given together (mutual TLS)`]);
    expect(problemsWith({ endpoint: 'llp://h:1', tls: { ca: 'ca.pem' } })).toEqual([`${P}.tls: is set but the endpoint is plain llp; use sllp:// to send over TLS`]);
    expect(problemsWith({ endpoint: 'sllp://h:1', tls: { minVersion: 'TLSv1.1' } })).toEqual([`${P}.tls.minVersion: must be one of TLSv1.2, TLSv1.3`]);
    expect(problemsWith({ endpoint: 'sllp://h:1', tls: { passphrase: 'x' } })).toEqual([`${P}.tls.passphrase: is not a known setting`]);
  });

  it('when: an expression that does not parse names the subscription, the expression and the position', () => {
    const problems = problemsWith({ when: ['patient.gender=female', 'patient.gender ~~ female'] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe(
      `${P}.when[1]: invalid when expression "patient.gender ~~ female" at column 15: unknown operator "~~": expected =, =!, <, >, <=, >= or =:(age)`,
    );
    const [age] = problemsWith({ when: ['patient.birthDate=:(age)<P10' ] });
    expect(age).toMatch(new RegExp(`^${escape(P)}\\.when\\[0\\]: invalid when expression "patient\\.birthDate=:\\(age\\)<P10" at column \\d+: `));
    expect(problemsWith({ when: 'patient.gender=female' })).toEqual([`${P}.when: must be a list of strings`]);
  });

  it('notBefore / notAfter: RFC 3339 with a zone, notBefore before notAfter', () => {
    expect(problemsWith({ notBefore: '2026-02-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z' })).toEqual([`${P}.notAfter: must be later than notBefore`]);
    expect(problemsWith({ notBefore: '2026-01-01T01:00:00+01:00', notAfter: '2026-01-01T00:00:00Z' })).toEqual([`${P}.notAfter: must be later than notBefore`]);
    expect(problemsWith({ notBefore: '2026-01-01T00:00:00' })).toEqual([
      `${P}.notBefore: must be an RFC 3339 date-time with a zone, e.g. 2026-01-01T00:00:00Z`,
    ]);
    expect(problemsWith({ notAfter: '2026-13-45T00:00:00Z' })).toEqual([`${P}.notAfter: is not a valid date-time`]);
  });

  it('timeouts and retry: positive integers, maxDelayMs >= initialDelayMs, known keys', () => {
    expect(problemsWith({ timeouts: { connectMs: 0, ackMs: '10s' } })).toEqual([
      `${P}.timeouts.connectMs: must be an integer >= 1`,
      `${P}.timeouts.ackMs: must be an integer >= 1`,
    ]);
    expect(problemsWith({ timeouts: { ackTimeoutMs: 10 } })).toEqual([`${P}.timeouts.ackTimeoutMs: is not a known setting`]);
    expect(problemsWith({ retry: { initialDelayMs: 1000, maxDelayMs: 500, maxAttempts: 1.5 } })).toEqual([
      `${P}.retry.maxAttempts: must be an integer >= 1`,
      `${P}.retry.maxDelayMs: must be >= initialDelayMs`,
    ]);
    expect(problemsWith({ retry: { initialDelayMs: -5, maxAttempts: 0, backoff: 2 } })).toEqual([
      `${P}.retry.initialDelayMs: must be an integer >= 1`,
      `${P}.retry.maxAttempts: must be an integer >= 1`,
      `${P}.retry.backoff: is not a known setting`,
    ]);
  });

  it('policy: retry or dead-letter for the policy outcomes only', () => {
    expect(problemsWith({ policy: { rejected: 'drop' } })).toEqual([`${P}.policy.rejected: must be one of retry, dead-letter`]);
    expect(problemsWith({ policy: { accepted: 'retry' } })).toEqual([`${P}.policy.accepted: is not a known setting`]);
  });

  it('lanes and dispatcher', () => {
    expect(problemsWith({ lanes: 0 })).toEqual([`${P}.lanes: must be an integer from 1 to 64`]);
    expect(problemsWith({ lanes: 65 })).toEqual([`${P}.lanes: must be an integer from 1 to 64`]);
    expect(problemsWith({ dispatcher: 'fhir-rest' })).toEqual([`${P}.dispatcher: must be one of hl7-pat-id-source`]);
  });

  it('holdPatientOnDeadLetter: true or false, default false', () => {
    expect(problemsWith({ holdPatientOnDeadLetter: 'yes' })).toEqual([`${P}.holdPatientOnDeadLetter: must be true or false`]);
    expect(problemsWith({ holdPatientOnDeadLetter: 1 })).toEqual([`${P}.holdPatientOnDeadLetter: must be true or false`]);
    const held = load({ configFile: dir.write('held.json', { subscriptions: [minimalSubscription('s', { holdPatientOnDeadLetter: true })] }) }).subscriptions[0]!;
    const plain = load({ configFile: dir.write('plain.json', { subscriptions: [minimalSubscription('s')] }) }).subscriptions[0]!;
    expect([held.holdPatientOnDeadLetter, plain.holdPatientOnDeadLetter]).toEqual([true, false]);
  });

  it('MSH8File: readable, and not together with MSH8', () => {
    expect(problemsWith({ settings: { MSH8File: 'missing.txt' } })).toEqual([`${P}.settings.MSH8File: cannot be read (ENOENT)`]);
    dir.write('msh8.txt', 'x');
    expect(problemsWith({ settings: { MSH8: 'y', MSH8File: 'msh8.txt' } })).toEqual([`${P}.settings.MSH8File: cannot be combined with MSH8`]);
  });
});

describe('every problem at once', () => {
  it('reports all problems of all subscriptions (and of the global keys) in one error, each with its key path', () => {
    const configFile = dir.write('config.json', {
      amqp: { prefetch: -1, queueType: 'stream' },
      subscriptions: [
        minimalSubscription('bad name'),
        minimalSubscription('dup'),
        {
          name: 'dup',
          description: 'x'.repeat(2000),
          endpoint: 'ftp://h:1',
          surprise: true,
          settings: { Version: '2.7', SendAs: 'Proxy', Transport: 'tcp', Foo: 'x' },
          triggers: { create: 'A40', update: 'A99' },
          when: ['patient.gender=female', 'patient.gender ~~ x'],
          notBefore: '2026-02-01T00:00:00Z',
          notAfter: '2026-01-01T00:00:00Z',
          timeouts: { connectMs: 0 },
          retry: { maxAttempts: 0 },
          policy: { rejected: 'explode' },
        },
        { name: 'tls-half', endpoint: 'sllp://h:1', settings: { Transport: 'llp' }, tls: { cert: 'c.pem' } },
      ],
    });
    const problems = problemsOf({ configFile });
    const D = 'subscriptions[2] (dup)';
    expect(problems).toEqual([
      expect.stringMatching(/^amqp\.prefetch: /),
      expect.stringMatching(/^amqp\.queueType: must be one of the possible values: \["classic","quorum"\]/),
      'subscriptions[0] (bad name).name: must match [a-zA-Z0-9_-]+',
      `${D}.description: must be at most 1024 characters (has 2000)`,
      `${D}.when[1]: invalid when expression "patient.gender ~~ x" at column 15: unknown operator "~~": expected =, =!, <, >, <=, >= or =:(age)`,
      `${D}.notAfter: must be later than notBefore`,
      `${D}.endpoint: scheme "ftp" is not one of llp, sllp, mllp, mllps`,
      `${D}.settings.Transport: must be one of llp, sllp`,
      `${D}.settings.SendAs: must be one of Client, Server`,
      `${D}.settings.Version: must be one of 2.3.1, 2.4, 2.5, 2.5.1, 2.6`,
      `${D}.settings.Foo: is not a setting of hl7-pat-id-source (known: MSH34, MSH56, MSH8, MSH8File, Transport, SendAs, Version, ProcessingId, Charset, Unrepresentable, Lengths, AcceptAck, ApplicationAck)`,
      `${D}.triggers.create: A40 does not fit a create event (allowed: A01, A04, A08, A28, A31, skip)`,
      `${D}.triggers.update: must be one of A08, A31, skip`,
      `${D}.timeouts.connectMs: must be an integer >= 1`,
      `${D}.retry.maxAttempts: must be an integer >= 1`,
      `${D}.policy.rejected: must be one of retry, dead-letter`,
      `${D}.surprise: is not a known setting`,
      `${D}.name: "dup" is already used by subscriptions[1]; names must be unique (they name queues and metrics)`,
      'subscriptions[3] (tls-half).settings.Transport: is llp but the endpoint scheme is secure (sllp)',
      'subscriptions[3] (tls-half).tls: cert and key must be given together (mutual TLS)',
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
