import { readFile, stat } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, SecureVersion } from 'node:tls';

/** A subscription's `tls` block, with paths already resolved to absolute paths. */
export interface TlsFileSettings {
  /** PEM bundle of CAs that may sign the receiver's certificate; the system store when absent. */
  ca?: string;
  /** PEM client certificate (chain) for mutual TLS. */
  cert?: string;
  /** PEM private key of the client certificate. */
  key?: string;
  /** Name to verify the receiver's certificate against (and send as SNI); the host otherwise. */
  servername?: string;
  minVersion: SecureVersion;
}

export interface TlsMaterial {
  options: ConnectionOptions;
  /** tlsFilesStamp of the files as they were read (taken just before reading them). */
  stamp: string;
  /** notAfter of the client certificate, when one is configured. */
  clientCertificateExpiresAt?: Date;
}

/**
 * Reads the TLS files afresh. Called for every new connection, so certificates replaced on
 * disk (rotation) are used by the next connection without a restart, while a connection
 * already open keeps the material it was made with.
 *
 * Fails with an Error whose message names the file and the system error code; never
 * includes file contents.
 */
export async function loadTlsMaterial(settings: TlsFileSettings): Promise<TlsMaterial> {
  const stamp = await tlsFilesStamp(settings);
  const [ca, cert, key] = await Promise.all([
    readOptional(settings.ca, 'tls.ca'),
    readOptional(settings.cert, 'tls.cert'),
    readOptional(settings.key, 'tls.key'),
  ]);
  const options: ConnectionOptions = { minVersion: settings.minVersion, rejectUnauthorized: true };
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  if (settings.servername) options.servername = settings.servername;
  const material: TlsMaterial = { options, stamp };
  const expiresAt = cert ? certificateExpiry(cert) : undefined;
  if (expiresAt) material.clientCertificateExpiresAt = expiresAt;
  return material;
}

export function certificateExpiry(pem: Buffer | string): Date | undefined {
  try {
    return new Date(new X509Certificate(pem).validTo);
  } catch {
    return undefined;
  }
}

async function readOptional(path: string | undefined, key: string): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error';
    throw new Error(`cannot read ${key} file ${path}: ${code}`);
  }
}

/**
 * Identifies the current version of the TLS files (inode, size, modification time of each;
 * `stat` follows symbolic links, so a Kubernetes Secret update, which swaps a link, counts).
 * Two stamps differ when any file was replaced or rewritten.
 */
export async function tlsFilesStamp(settings: TlsFileSettings): Promise<string> {
  const parts = await Promise.all(
    [settings.ca, settings.cert, settings.key].map(async (path) => {
      if (!path) return '-';
      try {
        const info = await stat(path);
        return `${info.ino}:${info.size}:${info.mtimeMs}`;
      } catch {
        return 'missing';
      }
    }),
  );
  return parts.join('|');
}

/**
 * Notices rotated TLS files (README "TLS"): remembers the stamp of the files a connection
 * was made with, and compares it with the files on disk at most once per `intervalMs`.
 */
export class TlsRotationWatch {
  private stamp: string | undefined;
  private checkedAt = 0;

  constructor(
    private readonly settings: TlsFileSettings,
    private readonly intervalMs: number,
  ) {}

  /** The files a new connection was just made with. */
  connectedWith(stamp: string): void {
    this.stamp = stamp;
    this.checkedAt = Date.now();
  }

  /** Whether the files changed since the connection was made (false between checks). */
  async changed(): Promise<boolean> {
    const now = Date.now();
    if (now - this.checkedAt < this.intervalMs) return false;
    this.checkedAt = now;
    return (await tlsFilesStamp(this.settings)) !== this.stamp;
  }
}
