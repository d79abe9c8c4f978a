import { afterEach, describe, expect, it } from 'vitest';
import { configDir, load, minimalSubscription, problemsOf, type ConfigDir } from './config-fixtures.js';

let dir: ConfigDir;
afterEach(() => dir?.cleanup());

describe('fhirSources configuration', () => {
  it('resolves a valid source: base URL normalised with a trailing slash, files relative to the config file', () => {
    dir = configDir();
    dir.write('token', 'abc');
    const file = dir.write('config.json', {
      subscriptions: [minimalSubscription()],
      fhirSources: [
        { name: 'ehealth', baseUrl: 'https://fhir.example.org/fhir', bearerTokenFile: 'token', tls: { ca: 'ca.pem', cert: 'client.pem', key: 'client.key' }, timeoutMs: 2500 },
        { name: 'local', baseUrl: 'http://127.0.0.1:8080/fhir/' },
      ],
    });
    const config = load({ configFile: file });
    expect(config.fhirSources).toEqual([
      {
        name: 'ehealth',
        baseUrl: 'https://fhir.example.org/fhir/',
        bearerTokenFile: `${dir.dir}/token`,
        tls: { minVersion: 'TLSv1.2', ca: `${dir.dir}/ca.pem`, cert: `${dir.dir}/client.pem`, key: `${dir.dir}/client.key` },
        timeoutMs: 2500,
      },
      { name: 'local', baseUrl: 'http://127.0.0.1:8080/fhir/', timeoutMs: 5000 },
    ]);
  });

  it('has no sources by default', () => {
    dir = configDir();
    expect(load({ configFile: dir.write('config.json', { subscriptions: [minimalSubscription()] }) }).fhirSources).toEqual([]);
  });

  it('reports every problem at once, by key, without echoing values', () => {
    dir = configDir();
    const file = dir.write('config.json', {
      subscriptions: [minimalSubscription()],
      fhirSources: [
        { name: 'bad name', baseUrl: 'ftp://secret-host.example/fhir', timeoutMs: 0 },
        { name: 'b', baseUrl: 'http://user:pw@fhir.example.org/', bearerTokenFile: 'missing-token', tls: { ca: 'ca.pem' } },
        { name: 'b', baseUrl: 'https://fhir.example.org/fhir?x=1', colour: 'blue' },
        { baseUrl: 'not a url' },
        'just a string',
      ],
    });
    const problems = problemsOf({ configFile: file, env: {} });
    expect(problems).toEqual([
      'fhirSources[0] (bad name).name: must match [a-zA-Z0-9_-]+',
      'fhirSources[0] (bad name).baseUrl: must be an absolute http:// or https:// URL',
      'fhirSources[0] (bad name).timeoutMs: must be an integer from 1 to 600000',
      'fhirSources[1] (b).baseUrl: must not hold credentials (use bearerTokenFile)',
      'fhirSources[1] (b).bearerTokenFile: cannot be read (ENOENT)',
      'fhirSources[2] (b).name: is used by another FHIR source',
      'fhirSources[2] (b).baseUrl: must not have a query or fragment',
      'fhirSources[2] (b).colour: is not a known setting',
      'fhirSources[3].name: is required',
      'fhirSources[3].baseUrl: must be an absolute http:// or https:// URL',
      'fhirSources[4]: must be an object',
    ]);
    expect(problems.join('\n')).not.toContain('secret-host');
    expect(problems.join('\n')).not.toContain('pw');
  });

  it('refuses tls on a plain http source and a list that is not a list', () => {
    dir = configDir();
    expect(problemsOf({ configFile: dir.write('a.json', { subscriptions: [minimalSubscription()], fhirSources: [{ name: 'a', baseUrl: 'http://fhir.example.org/', tls: { ca: 'ca.pem' } }] }), env: {} })).toEqual([
      'fhirSources[0] (a).tls: is set but baseUrl is plain http; use https://',
    ]);
    expect(problemsOf({ configFile: dir.write('b.json', { subscriptions: [minimalSubscription()], fhirSources: { name: 'a' } }), env: {} })).toEqual([
      'fhirSources: must be a list (JSON array) of FHIR sources',
    ]);
  });
});
