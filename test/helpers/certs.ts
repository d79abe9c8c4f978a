import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-paths.js';

export interface DevPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  read(file: string): Buffer;
}

/** Runs certs/make-dev-certs.sh into a fresh temp directory (test keys are never committed). */
export function makePki(env: Record<string, string> = {}): DevPki {
  const dir = mkdtempSync(join(tmpdir(), 'mllp-pki-'));
  execFileSync('sh', [join(PACKAGE_ROOT, 'certs', 'make-dev-certs.sh'), dir], { env: { ...process.env, ...env }, stdio: 'pipe' });
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    read: (file) => readFileSync(file),
  };
}
