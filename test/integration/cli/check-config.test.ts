import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';
import { runCli } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mllp-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

const SECRETS = ['url-pw-8812', 'msh8-pw-8813', 'amqp-pw-8814', 'file-msh8-8815'];

function validConfig(): Record<string, unknown> {
  write('msh8.secret', 'file-msh8-8815\n');
  return {
    amqp: { url: 'amqp://svc:url-pw-8812@broker.example.org:5672', password: 'amqp-pw-8814' },
    http: { port: 0 },
    subscriptions: [
      { name: 'pix-feed', endpoint: 'llp://127.0.0.1:2575', settings: { MSH34: 'ACME|HOSP', MSH8: 'msh8-pw-8813' } },
      { name: 'lab-feed', endpoint: 'llp://127.0.0.1:2576', settings: { MSH8File: 'msh8.secret' } },
    ],
  };
}

describe('mllp-dispatcher check-config', () => {
  it('valid: exit 0, the effective configuration as JSON on stdout with every secret masked', async () => {
    const configFile = write('valid.json', validConfig());
    const result = await runCli(['check-config', '--config', configFile]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as {
      amqp: { url: string[]; password: string; exchange: string };
      http: { port: number };
      subscriptions: Array<{ name: string; settings: Record<string, string> }>;
    };
    expect(printed.amqp.url).toEqual(['amqp://svc:********@broker.example.org:5672']);
    expect(printed.amqp.password).toBe('********');
    expect(printed.amqp.exchange).toBe('patient.events');
    expect(printed.http.port).toBe(0);
    expect(printed.subscriptions.map((sub) => sub.name)).toEqual(['pix-feed', 'lab-feed']);
    expect(printed.subscriptions[0]!.settings.MSH8).toBe('********');
    expect(printed.subscriptions[1]!.settings.MSH8File).toBe('msh8.secret');
    for (const secret of SECRETS) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
    expect(result.stderr).toContain('configuration is valid: 2 subscription(s): pix-feed, lab-feed');
  });

  it('reads MLLP_DISPATCHER_CONFIG and lets AMQP_URL (a comma-separated cluster list) override the file', async () => {
    const configFile = write('env.json', validConfig());
    const result = await runCli(['check-config'], {
      env: { MLLP_DISPATCHER_CONFIG: configFile, AMQP_URL: 'amqp://u:env-pw-1@node-a:5672,amqp://u:env-pw-2@node-b:5672', HTTP_PORT: '9999', LOG_LEVEL: 'warn' },
    });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { amqp: { url: string[] }; http: { port: number }; log: { level: string } };
    expect(printed.amqp.url).toEqual(['amqp://u:********@node-a:5672', 'amqp://u:********@node-b:5672']);
    expect(printed.http.port).toBe(9999);
    expect(printed.log.level).toBe('warn');
    expect(result.stdout).not.toMatch(/env-pw-|amqp-pw-8814/);
  });

  it('invalid: exit 78 and every problem on stderr, each with its key; nothing on stdout', async () => {
    const configFile = write('invalid.json', {
      amqp: { url: 'amqp://svc:url-pw-8812@broker:5672', prefetch: 'lots' },
      log: { level: 'loud' },
      subscriptions: [
        { name: 'pix-feed', endpoint: 'llp://h:1', settings: { Version: '2.7', MSH8: 'msh8-pw-8813' }, when: ['patient.gender ~~ female'] },
        { name: 'pix-feed', endpoint: 'sllp://h:2', settings: { Transport: 'llp' }, retry: { maxAttempts: 0 } },
      ],
    });
    const result = await runCli(['check-config', '--config', configFile]);
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    const expected = [
      /- amqp\.prefetch: /,
      /- log\.level: must be one of the possible values/,
      /- subscriptions\[0\] \(pix-feed\)\.settings\.Version: must be one of 2\.3\.1, 2\.4, 2\.5, 2\.5\.1, 2\.6/,
      /- subscriptions\[0\] \(pix-feed\)\.when\[0\]: invalid when expression "patient\.gender ~~ female" at column 15/,
      /- subscriptions\[1\] \(pix-feed\)\.settings\.Transport: is llp but the endpoint scheme is secure \(sllp\)/,
      /- subscriptions\[1\] \(pix-feed\)\.retry\.maxAttempts: must be an integer >= 1/,
      /- subscriptions\[1\] \(pix-feed\)\.name: "pix-feed" is already used by subscriptions\[0\]/,
    ];
    for (const pattern of expected) expect(result.stderr).toMatch(pattern);
    expect(result.stderr).toContain(`${expected.length} problem(s) found`);
    for (const secret of SECRETS) expect(result.stderr).not.toContain(secret);
  });

  it('a config file that does not exist: exit 78 naming the file', async () => {
    const result = await runCli(['check-config', '--config', join(dir, 'nope.json')]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`config file ${join(dir, 'nope.json')}: cannot be read (ENOENT)`);
  });

  it('the shipped configurations pass (config/demo.json)', async () => {
    const result = await runCli(['check-config', '--config', join(PACKAGE_ROOT, 'config', 'demo.json')]);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { subscriptions: Array<{ name: string }> }).subscriptions.map((sub) => sub.name)).toEqual(['demo-pix']);
  });
});

describe('mllp-dispatcher run with a bad configuration', () => {
  it('exits 78 before connecting anywhere, and stderr names the key and the reason', async () => {
    const configFile = write('run-invalid.json', {
      amqp: { url: 'amqp://guest:guest@127.0.0.1:5672' },
      http: { port: 0 },
      subscriptions: [{ name: 'pix-feed', endpoint: 'llp://127.0.0.1:2575', timeouts: { ackMs: -1 } }],
    });
    const started = Date.now();
    const result = await runCli(['run', '--config', configFile]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('subscriptions[0] (pix-feed).timeouts.ackMs: must be an integer >= 1');
    // No log line claims it started.
    expect(result.stdout).not.toContain('mllp-dispatcher started');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('exits 78 for an invalid environment value (HTTP_PORT) and for an unknown key, default command run', async () => {
    const configFile = write('run-env.json', { subscriptions: [{ name: 'pix-feed', endpoint: 'llp://127.0.0.1:2575' }], amqp: { exchnage: 'x' } });
    const result = await runCli(['--config', configFile], { env: { HTTP_PORT: '123456' } });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/http\.port: must be a TCP port number/);
    expect(result.stderr).toContain('amqp.exchnage: is not a known setting');
  });
});

describe('command line usage', () => {
  it('unknown command: exit 64 with the usage', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: mllp-dispatcher');
  });

  it('unknown option: exit 64 naming it', async () => {
    const result = await runCli(['check-config', '--confgi', 'x.json']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("Unknown option '--confgi'");
  });

  it('malformed arguments: exit 64', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['render'], /render needs exactly 1 argument/],
      [['check-config', 'extra'], /check-config takes no arguments/],
      [['listen', '--port', 'eighty'], /--port must be a port number/],
      [['listen', '--port', ''], /--port must be a port number/],
      [['listen', '--port', '70000'], /--port must be a port number/],
      [['listen', '--ack', 'XX'], /--ack must be AA, AE, AR or none/],
      [['render', 'e.json', '--now', 'yesterday'], /--now must be an ISO 8601 date-time/],
      [['check-config', '--config'], /argument missing|--config/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(64);
      expect(result.stderr, args.join(' ')).toMatch(pattern);
    }
  });

  it('--help exits 0 with the usage on stdout; --version prints the package version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mllp-dispatcher \[command\] \[options\]/);
    for (const command of ['run', 'check-config', 'render <event.json>', 'listen']) expect(help.stdout).toContain(command);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
