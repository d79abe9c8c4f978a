import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TestBroker, testTopology, uniqueName } from '../../helpers/broker.js';
import { configFor, DaemonProcess, InProcessDaemon, subscriptionEntry } from '../../helpers/daemon.js';
import { patientEvent } from '../../helpers/events.js';
import { ScriptedReceiver } from '../../helpers/scripted-receiver.js';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

/** Runs the HEALTHCHECK script (asynchronously: the daemon under test answers from this process). */
function healthcheck(port: number, path?: string): Promise<number | null> {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'healthcheck.mjs')], {
    env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(port), ...(path ? { HEALTHCHECK_PATH: path } : {}) },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/**
 * What the Dockerfile ships (dist, config, schemas, package.json, production dependencies),
 * copied into a directory the test then makes read-only.
 */
function stageImageFiles(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mllp-image-'));
  for (const entry of ['dist', 'config', 'schemas', 'package.json']) cpSync(join(PACKAGE_ROOT, entry), join(dir, entry), { recursive: true });
  const production = execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: PACKAGE_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((path) => path.includes(`${PACKAGE_ROOT}/node_modules/`));
  for (const path of production) cpSync(path, join(dir, relative(PACKAGE_ROOT, path)), { recursive: true });
  return dir;
}

function makeReadOnly(path: string): void {
  const stats = statSync(path);
  if (stats.isDirectory()) {
    for (const entry of readdirSync(path)) makeReadOnly(join(path, entry));
    chmodSync(path, 0o555);
  } else {
    chmodSync(path, 0o444);
  }
}

describe('container concerns', () => {
  it('the HEALTHCHECK script passes on a live daemon and fails when nothing answers', async () => {
    const broker = await TestBroker.open(testTopology('hc'));
    cleanups.push(() => broker.close());
    const receiver = await ScriptedReceiver.start();
    cleanups.push(() => receiver.close());
    const name = uniqueName('hc');
    broker.ownSubscription(name);
    const daemon = await InProcessDaemon.start(configFor(broker.topology, [subscriptionEntry(name, receiver.port)]));
    const port = daemon.daemon.port!;
    expect(await healthcheck(port)).toBe(0);
    expect(await healthcheck(port, '/readyz')).toBe(0);
    await daemon.stop();
    expect(await healthcheck(port)).toBe(1);
  });

  it('runs from a read-only directory as an unprivileged user and delivers', async () => {
    const root = stageImageFiles();
    const broker = await TestBroker.open(testTopology('ro'));
    cleanups.push(() => broker.close());
    const receiver = await ScriptedReceiver.start();
    cleanups.push(() => receiver.close());
    const name = uniqueName('ro');
    broker.ownSubscription(name);
    const configDir = join(root, 'etc');
    mkdirSync(configDir);
    const configFile = join(configDir, 'config.json');
    writeFileSync(configFile, JSON.stringify(configFor(broker.topology, [subscriptionEntry(name, receiver.port)])));
    makeReadOnly(root);
    chmodSync(root, 0o555);
    // The process cannot write anywhere in its directory tree, nor in a temp dir.
    const daemon = new DaemonProcess(configFile, { TMPDIR: join(root, 'etc'), HOME: root }, 'run', {
      command: 'setpriv',
      args: [...NOBODY, process.execPath, join(root, 'dist', 'cli', 'main.js')],
      cwd: root,
    });
    cleanups.push(async () => {
      daemon.kill('SIGKILL');
      await daemon.exited;
    });
    await daemon.waitReady();
    const receipts = await broker.captureReceipts();
    await broker.publish(patientEvent());
    await waitFor(() => receipts.length === 1, { message: 'delivered' });
    expect(receipts[0]!.json().outcome).toBe('accepted');
    daemon.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    expect(daemon.stderr.join('')).not.toMatch(/EACCES|EROFS|permission denied/i);
  });
});
