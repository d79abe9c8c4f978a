import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError, loadConfig, type LoadOptions } from '../../../src/config/load-config.js';

/** A temp directory for one test's config files; `cleanup` removes it. */
export interface ConfigDir {
  dir: string;
  /** Writes `name` (JSON unless a string is given) and returns its absolute path. */
  write(name: string, content: unknown): string;
  cleanup(): void;
}

export function configDir(): ConfigDir {
  const dir = mkdtempSync(join(tmpdir(), 'mllp-config-'));
  return {
    dir,
    write(name, content) {
      const file = join(dir, name);
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The smallest valid subscription. */
export function minimalSubscription(name = 'pix-feed', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, endpoint: 'llp://127.0.0.1:2575', ...overrides };
}

/** Loads with an explicit (empty unless given) environment: process.env never leaks in. */
export function load(options: LoadOptions & { env?: NodeJS.ProcessEnv } = {}) {
  return loadConfig({ env: {}, ...options });
}

/** The problems a configuration is refused with; fails the test when it loads. */
export function problemsOf(options: LoadOptions): string[] {
  try {
    loadConfig({ env: {}, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}
