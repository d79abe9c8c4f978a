import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';
import { CLI, runCli, runProcess } from '../../helpers/cli.js';

/**
 * `npx mllp-dispatcher` from the repository root must run this package's own bin
 * (package.json "bin"), never a package of that name from the registry: `--no-install`
 * makes npx fail instead of downloading anything if it could not resolve it locally.
 */
describe('npx mllp-dispatcher from the repository root', () => {
  it('package.json declares the bin that the build produces, with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
    expect(pkg.bin).toEqual({ 'mllp-dispatcher': 'dist/cli/main.js' });
    expect(realpathSync(join(PACKAGE_ROOT, pkg.bin['mllp-dispatcher']!))).toBe(realpathSync(CLI));
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('--help prints the same usage as the built CLI and exits 0', async () => {
    const viaNpx = await runProcess('npx', ['--no-install', 'mllp-dispatcher', '--help'], { cwd: PACKAGE_ROOT, timeoutMs: 90_000 });
    expect(viaNpx.stderr).not.toMatch(/npm error/);
    expect(viaNpx.code).toBe(0);
    const direct = await runCli(['--help']);
    expect(viaNpx.stdout).toBe(direct.stdout);
    expect(viaNpx.stdout).toMatch(/^Usage: mllp-dispatcher/);
  });

  it('--version prints this checkout\'s version', async () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runProcess('npx', ['--no-install', 'mllp-dispatcher', '--version'], { cwd: PACKAGE_ROOT, timeoutMs: 90_000 });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });
});
