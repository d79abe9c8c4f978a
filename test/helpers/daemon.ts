import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { Daemon } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { PACKAGE_ROOT } from '../../src/package-paths.js';
import { AMQP_URL, type TestTopology } from './broker.js';
import { waitFor } from './wait.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** A subscription entry as an operator writes it, with test-friendly timeouts. */
export function subscriptionEntry(name: string, port: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    endpoint: `llp://127.0.0.1:${port}`,
    settings: { MSH34: 'TEST_APP|TEST_FAC', MSH56: 'RECV_APP|RECV_FAC', SendAs: 'Server' },
    timeouts: { connectMs: 1000, ackMs: 1000 },
    retry: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 3 },
    ...overrides,
  };
}

/** A whole configuration file for a test, on its own exchanges, HTTP on a free port. */
export function configFor(topology: TestTopology, subscriptions: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { amqp: amqpExtra, ...rest } = extra as { amqp?: Record<string, unknown> };
  return {
    amqp: { url: AMQP_URL, ...topology, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, ...(amqpExtra ?? {}) },
    http: { port: 0, host: '127.0.0.1' },
    log: { level: 'debug' },
    shutdown: { graceMs: 2000 },
    subscriptions,
    ...rest,
  };
}

export function writeConfig(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mllp-test-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** The daemon in this process, with its log lines captured as parsed JSON. */
export class InProcessDaemon {
  readonly logs: LogLine[] = [];
  readonly fatal: Error[] = [];
  readonly daemon: Daemon;

  constructor(config: Record<string, unknown>) {
    const loaded = loadConfig({ configFile: writeConfig(config), env: {} });
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line) this.logs.push(JSON.parse(line) as LogLine);
        callback();
      },
    });
    const logger = createLogger(loaded.log, sink);
    this.daemon = new Daemon({ config: loaded, logger, onFatal: (error) => this.fatal.push(error) });
  }

  static async start(config: Record<string, unknown>, options: { waitConsuming?: boolean } = {}): Promise<InProcessDaemon> {
    const instance = new InProcessDaemon(config);
    await instance.daemon.start();
    if (options.waitConsuming ?? true) await waitFor(() => instance.daemon.readiness().ready, { message: 'daemon ready' });
    return instance;
  }

  /** Settled-event log lines ("event settled" / "event dead-lettered"). */
  settled(): LogLine[] {
    return this.logs.filter((line) => line.msg === 'event settled' || line.msg === 'event dead-lettered');
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}

/** The built daemon (dist/) as a real child process, for crash and signal tests. */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  /**
   * `launcher` replaces `node dist/cli/main.js` (e.g. a wrapper such as setpriv running
   * another copy of the app); the command and `--config FILE` are appended to its args.
   */
  constructor(configFile: string, env: NodeJS.ProcessEnv = {}, command = 'run', launcher?: { command: string; args: string[]; cwd?: string }) {
    const program = launcher?.command ?? process.execPath;
    const args = [...(launcher?.args ?? [join(PACKAGE_ROOT, 'dist', 'cli', 'main.js')]), command, '--config', configFile];
    this.child = spawn(program, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(launcher?.cwd ? { cwd: launcher.cwd } : {}),
    });
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line) {
          try {
            this.lines.push(JSON.parse(line) as LogLine);
          } catch {
            this.lines.push({ msg: line, raw: true });
          }
        }
        newline = buffered.indexOf('\n');
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15_000, message = 'log line'): Promise<LogLine> {
    return waitFor(() => this.lines.find(predicate), { timeoutMs, message });
  }

  async waitReady(timeoutMs = 15_000): Promise<void> {
    await this.waitForLog((line) => line.msg === 'broker session consuming', timeoutMs, 'consuming');
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  settled(): LogLine[] {
    return this.lines.filter((line) => line.msg === 'event settled' || line.msg === 'event dead-lettered');
  }
}
