import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConfig } from '../../../src/config/schema.js';
import { describeConfig, maskUrlPassword } from '../../../src/config/load-config.js';
import { DEFAULTS_FILE } from '../../../src/package-paths.js';
import { configDir, load, minimalSubscription, problemsOf, type ConfigDir } from './config-fixtures.js';

let dir: ConfigDir;
beforeEach(() => {
  dir = configDir();
});
afterEach(() => dir.cleanup());

describe('config/default.json', () => {
  it('equals the convict schema defaults, key for key, so the two cannot drift', () => {
    const schemaDefaults = createConfig({}).getProperties();
    const shipped = JSON.parse(readFileSync(DEFAULTS_FILE, 'utf8')) as unknown;
    expect(shipped).toEqual(schemaDefaults);
  });

  it('is what the daemon runs with for every key a config file leaves out', () => {
    const file = dir.write('config.json', { subscriptions: [minimalSubscription()] });
    const config = load({ configFile: file });
    const { subscriptions: _ignored, ...expected } = createConfig({}).getProperties() as Record<string, unknown>;
    const { subscriptions: _raw, ...actual } = config.raw;
    expect(actual).toEqual(expected);
    expect(config.amqp.urls).toEqual(['amqp://guest:guest@127.0.0.1:5672']);
    expect(config.shutdownGraceMs).toBe(10_000);
  });
});

describe('loadConfig precedence: schema defaults < config/default.json < --config file < environment', () => {
  function layers() {
    const defaultsFile = dir.write('defaults.json', {
      amqp: { exchange: 'from-defaults-file', deadLetterExchange: 'dead-from-defaults-file' },
      http: { port: 1111 },
      log: { level: 'warn' },
    });
    const configFile = dir.write('config.json', {
      amqp: { url: 'amqp://file:filepw@file-host:5672', exchange: 'from-config-file' },
      http: { port: 2222 },
      log: { level: 'error' },
      subscriptions: [minimalSubscription()],
    });
    return { defaultsFile, configFile };
  }

  it('lets each layer override only the keys it sets', () => {
    const { defaultsFile, configFile } = layers();
    const config = load({ defaultsFile, configFile });
    // Schema default: no layer sets it.
    expect(config.amqp.receiptsExchange).toBe('mllp.receipts');
    // Defaults file over the schema default.
    expect(config.amqp.deadLetterExchange).toBe('dead-from-defaults-file');
    // Config file over the defaults file.
    expect(config.amqp.exchange).toBe('from-config-file');
    expect(config.http.port).toBe(2222);
    expect(config.log.level).toBe('error');
    expect(config.amqp.urls).toEqual(['amqp://file:filepw@file-host:5672']);
  });

  it('lets AMQP_URL, LOG_LEVEL and HTTP_PORT override the config file', () => {
    const { defaultsFile, configFile } = layers();
    const config = load({
      defaultsFile,
      configFile,
      env: { AMQP_URL: 'amqp://env:envpw@env-host:5673', LOG_LEVEL: 'debug', HTTP_PORT: '3333' },
    });
    expect(config.amqp.urls).toEqual(['amqp://env:envpw@env-host:5673']);
    expect(config.log.level).toBe('debug');
    expect(config.http.port).toBe(3333);
    // Keys without an environment variable keep the file's value.
    expect(config.amqp.exchange).toBe('from-config-file');
  });

  it('lets the environment override the defaults file when no config file sets the key', () => {
    const defaultsFile = dir.write('defaults.json', { http: { port: 1111 }, log: { level: 'warn' } });
    const configFile = dir.write('config.json', { subscriptions: [minimalSubscription()] });
    const config = load({ defaultsFile, configFile, env: { HTTP_PORT: '0' } });
    expect(config.http.port).toBe(0);
    expect(config.log.level).toBe('warn');
  });

  it('reads the file named by MLLP_DISPATCHER_CONFIG when no --config is given', () => {
    const { defaultsFile, configFile } = layers();
    const config = load({ defaultsFile, env: { MLLP_DISPATCHER_CONFIG: configFile } });
    expect(config.amqp.exchange).toBe('from-config-file');
    expect(config.subscriptions.map((sub) => sub.name)).toEqual(['pix-feed']);
  });

  it('prefers --config over MLLP_DISPATCHER_CONFIG', () => {
    const { defaultsFile, configFile } = layers();
    const other = dir.write('other.json', { amqp: { exchange: 'from-other-file' }, subscriptions: [minimalSubscription('other-feed')] });
    const config = load({ defaultsFile, configFile: other, env: { MLLP_DISPATCHER_CONFIG: configFile } });
    expect(config.amqp.exchange).toBe('from-other-file');
    expect(config.subscriptions.map((sub) => sub.name)).toEqual(['other-feed']);
  });

  it('refuses invalid environment values, naming the key', () => {
    const configFile = dir.write('config.json', { subscriptions: [minimalSubscription()] });
    const problems = problemsOf({ configFile, env: { HTTP_PORT: 'eighty', LOG_LEVEL: 'verbose' } });
    expect(problems).toHaveLength(2);
    expect(problems.some((problem) => problem.startsWith('http.port: must be a TCP port number'))).toBe(true);
    expect(problems.some((problem) => problem.startsWith('log.level: must be one of the possible values'))).toBe(true);
  });

  it('reads numbers from the environment as plain decimals only: an empty HTTP_PORT is an error, not port 0', () => {
    const configFile = dir.write('config.json', { subscriptions: [minimalSubscription()] });
    for (const value of ['', ' ', '0x1F', '1e3', '80.5', '-1']) {
      const problems = problemsOf({ configFile, env: { HTTP_PORT: value } });
      expect(problems, JSON.stringify(value)).toEqual([expect.stringMatching(/^http\.port: must be a TCP port number 0-65535/)]);
    }
    expect(load({ configFile, env: { HTTP_PORT: ' 8080 ' } }).http.port).toBe(8080);
  });

  it('reports a config file that is missing or not JSON by its path, without quoting it', () => {
    expect(problemsOf({ configFile: `${dir.dir}/missing.json` })).toEqual([`config file ${dir.dir}/missing.json: cannot be read (ENOENT)`]);
    const broken = dir.write('broken.json', '{ "amqp": { "password": "json-secret-42" ');
    const problems = problemsOf({ configFile: broken });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^config file ${broken}: is not valid JSON`));
    expect(problems.join('\n')).not.toContain('json-secret-42');
    const notObject = dir.write('list.json', '[1, 2]');
    expect(problemsOf({ configFile: notObject })).toEqual([`config file ${notObject}: must hold a JSON object`]);
  });

  it('requires at least one subscription to run', () => {
    const configFile = dir.write('config.json', {});
    expect(problemsOf({ configFile })).toEqual(['subscriptions: at least one subscription is required']);
    expect(load({ configFile, allowNoSubscriptions: true }).subscriptions).toEqual([]);
  });
});

describe('amqp.url: one broker or a cluster', () => {
  it('takes a list of node URLs from the file, in order', () => {
    const configFile = dir.write('config.json', {
      amqp: { url: ['amqp://u:p@node-a:5672', 'amqps://u:p@node-b:5671', 'amqp://u:p@node-c:5672'] },
      subscriptions: [minimalSubscription()],
    });
    expect(load({ configFile }).amqp.urls).toEqual(['amqp://u:p@node-a:5672', 'amqps://u:p@node-b:5671', 'amqp://u:p@node-c:5672']);
  });

  it('takes a comma-separated AMQP_URL (spaces allowed), which replaces the file list', () => {
    const configFile = dir.write('config.json', { amqp: { url: ['amqp://file-a:5672', 'amqp://file-b:5672'] }, subscriptions: [minimalSubscription()] });
    const config = load({ configFile, env: { AMQP_URL: 'amqp://u:p@env-a:5672, amqp://u:p@env-b:5672,amqp://u:p@env-c:5672' } });
    expect(config.amqp.urls).toEqual(['amqp://u:p@env-a:5672', 'amqp://u:p@env-b:5672', 'amqp://u:p@env-c:5672']);
  });

  it('refuses anything but amqp:// and amqps:// URLs, without echoing the value', () => {
    const configFile = dir.write('config.json', { subscriptions: [minimalSubscription()] });
    for (const url of ['http://u:url-secret@host:5672', 'amqp://u:p@good:5672,ftp://u:url-secret@bad', 'not a url url-secret']) {
      const problems = problemsOf({ configFile, env: { AMQP_URL: url } });
      expect(problems).toEqual(['amqp.url: must be an amqp:// or amqps:// URL, or a list of them']);
    }
    const empty = dir.write('empty.json', { amqp: { url: [] }, subscriptions: [minimalSubscription()] });
    expect(problemsOf({ configFile: empty })).toEqual(['amqp.url: must name at least one amqp:// or amqps:// URL']);
  });
});

describe('broker password: amqp.password and amqp.passwordFile', () => {
  it('reads passwordFile relative to the config file, trims the newline, and applies it to every node', () => {
    dir.write('amqp-password', 'file-pw-7731\n');
    const configFile = dir.write('config.json', {
      amqp: { url: ['amqp://svc:url-pw@node-a:5672', 'amqp://svc@node-b:5672'], passwordFile: 'amqp-password' },
      subscriptions: [minimalSubscription()],
    });
    const config = load({ configFile });
    expect(config.amqp.urls).toEqual(['amqp://svc:file-pw-7731@node-a:5672', 'amqp://svc:file-pw-7731@node-b:5672']);
    const described = JSON.stringify(describeConfig(config));
    expect(described).not.toContain('file-pw-7731');
    expect(described).not.toContain('url-pw');
    expect((describeConfig(config).amqp as { url: string[] }).url).toEqual(['amqp://svc:********@node-a:5672', 'amqp://svc:********@node-b:5672']);
  });

  it('reports an unreadable passwordFile by key and error code', () => {
    const configFile = dir.write('config.json', { amqp: { passwordFile: 'no-such-file' }, subscriptions: [minimalSubscription()] });
    expect(problemsOf({ configFile })).toEqual(['amqp.passwordFile: cannot be read (ENOENT)']);
  });

  it('applies amqp.password, URL-encoded, over the password in the URL', () => {
    const configFile = dir.write('config.json', {
      amqp: { url: 'amqp://svc:old@broker:5672', password: 'p@ss/w:rd' },
      subscriptions: [minimalSubscription()],
    });
    const config = load({ configFile });
    expect(config.amqp.urls).toEqual(['amqp://svc:p%40ss%2Fw%3Ard@broker:5672']);
    expect(decodeURIComponent(new URL(config.amqp.urls[0]!).password)).toBe('p@ss/w:rd');
    const described = describeConfig(config) as { amqp: { password: string; url: string[] } };
    expect(described.amqp.password).toBe('********');
    expect(JSON.stringify(described)).not.toMatch(/p@ss|p%40ss|old@/);
  });
});

describe('secrets never appear in describeConfig output or in problems', () => {
  const SECRETS = ['url-secret-111', 'password-secret-222', 'msh8-secret-333', 'msh8file-secret-444', 'pwfile-secret-555'];

  it('describeConfig masks the URL password, amqp.password and MSH8, and never reads MSH8File into the output', () => {
    dir.write('msh8.txt', 'msh8file-secret-444\n');
    const configFile = dir.write('config.json', {
      amqp: { url: ['amqp://svc:url-secret-111@node-a:5672', 'amqp://svc:url-secret-111@node-b:5672'], password: 'password-secret-222' },
      subscriptions: [
        minimalSubscription('with-msh8', { settings: { MSH8: 'msh8-secret-333' } }),
        minimalSubscription('with-msh8-file', { settings: { MSH8File: 'msh8.txt' } }),
      ],
    });
    const config = load({ configFile });
    // The runtime configuration does carry the secrets (they were loaded)...
    expect(config.subscriptions[0]!.mapping.security).toBe('msh8-secret-333');
    expect(config.subscriptions[1]!.mapping.security).toBe('msh8file-secret-444');
    expect(config.amqp.urls[0]).toContain('password-secret-222');
    // ...and the description shows none of them.
    const described = describeConfig(config);
    const text = JSON.stringify(described);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    const subscriptions = described.subscriptions as Array<{ settings: Record<string, string> }>;
    expect(subscriptions[0]!.settings.MSH8).toBe('********');
    expect(subscriptions[1]!.settings.MSH8File).toBe('msh8.txt');
    expect((described.amqp as { password: string }).password).toBe('********');
    // describeConfig does not modify the configuration it describes.
    expect(config.amqp.urls[0]).toContain('password-secret-222');
  });

  it('problems of an invalid configuration full of secrets quote none of them', () => {
    dir.write('msh8.txt', 'msh8file-secret-444');
    dir.write('pw.txt', 'pwfile-secret-555');
    const configFile = dir.write('config.json', {
      amqp: { url: 'amqp://svc:url-secret-111@broker:5672', password: 12345, passwordFile: 'pw.txt', prefetch: -1 },
      http: { port: 'url-secret-111' },
      subscriptions: [
        { name: 'bad name', endpoint: 'llp://svc:url-secret-111@host:2575', settings: { MSH8: 'msh8-secret-333', MSH8File: 'msh8.txt', Version: 'msh8-secret-333' } },
        { name: 'second', endpoint: 'llp://h:1', settings: { MSH8: ['msh8-secret-333'], msh8: 'msh8-secret-333' }, description: 42 },
      ],
    });
    const problems = problemsOf({ configFile });
    const text = problems.join('\n');
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toContain('12345');
    expect(problems).toEqual(
      expect.arrayContaining([
        'amqp.password: must be of type String',
        expect.stringMatching(/^amqp\.prefetch: /),
        expect.stringMatching(/^http\.port: must be a TCP port number/),
        'subscriptions[0] (bad name).name: must match [a-zA-Z0-9_-]+',
        'subscriptions[0] (bad name).endpoint: must be scheme://host:port with nothing after the port',
        'subscriptions[0] (bad name).settings.MSH8File: cannot be combined with MSH8',
        'subscriptions[0] (bad name).settings.Version: must be one of 2.3.1, 2.4, 2.5, 2.5.1, 2.6',
        'subscriptions[1] (second).settings.MSH8: must be a string',
        expect.stringMatching(/^subscriptions\[1\] \(second\)\.settings\.msh8: is not a setting of hl7-pat-id-source/),
        'subscriptions[1] (second).description: must be a string',
      ]),
    );
  });

  it('a secret put where a value does not belong is not echoed either', () => {
    const configFile = dir.write('config.json', {
      amqp: { pasword: 'password-secret-222', url: { secret: 'url-secret-111' } },
      subscriptions: { name: 'x', settings: { MSH8: 'msh8-secret-333' } },
    });
    const problems = problemsOf({ configFile });
    for (const secret of SECRETS) expect(problems.join('\n')).not.toContain(secret);
    expect(problems).toEqual([
      expect.stringMatching(/^amqp\.url: must be a single value, not an object/),
      'amqp.pasword: is not a known setting',
      'subscriptions: must be a list (JSON array) of subscriptions',
    ]);
  });

  it('maskUrlPassword keeps the user and host and hides only the password', () => {
    expect(maskUrlPassword('amqps://svc:s3cret@broker.example.org:5671/vhost')).toBe('amqps://svc:********@broker.example.org:5671/vhost');
    expect(maskUrlPassword('amqp://broker:5672')).toBe('amqp://broker:5672');
    expect(maskUrlPassword('not a url with s3cret')).toBe('********');
  });
});

describe('structural problems convict cannot report well', () => {
  it('accepts hl7.assigningAuthorities keyed by dotted FHIR systems and validates each entry', () => {
    const configFile = dir.write('config.json', {
      hl7: { assigningAuthorities: { 'urn:oid:1.2.3.4.5.6.1': 'ACME_MPI', 'http://hospital.example.org/mrn': 'ACME_MRN' } },
      subscriptions: [minimalSubscription()],
    });
    const config = load({ configFile });
    expect(config.subscriptions[0]!.mapping.assigningAuthorities).toEqual({ 'urn:oid:1.2.3.4.5.6.1': 'ACME_MPI', 'http://hospital.example.org/mrn': 'ACME_MRN' });
    expect((describeConfig(config).hl7 as { assigningAuthorities: unknown }).assigningAuthorities).toEqual(config.subscriptions[0]!.mapping.assigningAuthorities);

    const bad = dir.write('bad.json', { hl7: { assigningAuthorities: { 'urn:oid:1.2.3': '', 'urn:oid:4.5': 7 } }, subscriptions: [minimalSubscription()] });
    expect(problemsOf({ configFile: bad })).toEqual([
      'hl7.assigningAuthorities["urn:oid:1.2.3"]: must be a non-empty string',
      'hl7.assigningAuthorities["urn:oid:4.5"]: must be a non-empty string',
    ]);
  });

  it('names the key when an object stands where a value belongs, or a value where a group belongs', () => {
    const configFile = dir.write('config.json', { http: { port: { value: 80 } }, log: 'debug', subscriptions: [minimalSubscription()] });
    expect(problemsOf({ configFile })).toEqual([
      expect.stringMatching(/^http\.port: must be a single value, not an object/),
      'log: must be an object with the keys level, phi',
    ]);
  });

  it('names unknown keys at any depth', () => {
    const configFile = dir.write('config.json', {
      amqp: { reconnect: { initialDelayMs: 10, maxDelayMS: 100 } },
      htttp: { port: 1 },
      subscriptions: [minimalSubscription()],
    });
    expect(problemsOf({ configFile }).sort()).toEqual(['amqp.reconnect.maxDelayMS: is not a known setting', 'htttp.port: is not a known setting']);
  });
});
