import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TlsOptions } from 'node:tls';
import { buildAck, readHeader } from '../hl7/build-ack.js';
import { MllpReceiver } from '../receiver/mllp-receiver.js';
import { PACKAGE_ROOT } from '../package-paths.js';
import { UsageError } from './exit-codes.js';
import type { Charset } from '../hl7/charset.js';

export interface ListenOptions {
  port: number;
  host: string;
  tls: boolean;
  /** AA, AE, AR, or none (read and never answer). */
  ack: 'AA' | 'AE' | 'AR' | 'none';
  cert?: string | undefined;
  key?: string | undefined;
  /** CA for client certificates; with it, clients must present one (mutual TLS). */
  ca?: string | undefined;
  /** Charset messages are read and ACKs written in (`--charset`, default UTF-8). */
  charset?: Charset | undefined;
}

/** Default TLS files: what `npm run certs` writes to certs/dev/. */
export const DEV_CERT_DIR = resolve(PACKAGE_ROOT, 'certs', 'dev');

/**
 * `mllp-dispatcher listen`: a local MLLP test receiver. Prints every message it gets, one
 * segment per line, and answers with the chosen ACK code. This is a developer tool: it
 * prints patient data by design. Runs until SIGINT/SIGTERM.
 */
export async function listenCommand(options: ListenOptions, out: NodeJS.WritableStream = process.stdout): Promise<MllpReceiver> {
  let tlsOptions: TlsOptions | undefined;
  if (options.tls) {
    const cert = options.cert ?? resolve(DEV_CERT_DIR, 'server.pem');
    const key = options.key ?? resolve(DEV_CERT_DIR, 'server.key');
    try {
      tlsOptions = { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' };
      if (options.ca) tlsOptions = { ...tlsOptions, ca: readFileSync(options.ca), requestCert: true, rejectUnauthorized: true };
    } catch (error) {
      throw new UsageError(`--tls needs a certificate and key (${(error as NodeJS.ErrnoException).code ?? 'error'} reading them); run "npm run certs" or pass --cert and --key`);
    }
  }
  let count = 0;
  const receiver = new MllpReceiver({
    port: options.port,
    host: options.host,
    ...(tlsOptions ? { tls: tlsOptions } : {}),
    charset: options.charset ?? 'UTF-8',
    onMessage: ({ text, connection, remoteAddress, clientCertificateSubject }) => {
      count++;
      const who = `${remoteAddress}, connection ${connection}${clientCertificateSubject ? `, client certificate CN=${clientCertificateSubject}` : ''}`;
      out.write(`--- message ${count} (${who}) ---\n${text.split(/\r\n|\r|\n/).filter(Boolean).join('\n')}\n`);
      const header = readHeader(text);
      if (options.ack === 'none' || !header) {
        out.write(`<-- no ACK sent${header ? '' : ' (no MSH segment)'}\n`);
        return undefined;
      }
      out.write(`<-- ${options.ack} for ${header.controlId}\n`);
      return buildAck(header, { code: options.ack, ...(options.ack === 'AA' ? {} : { text: 'rejected by mllp-dispatcher listen --ack' }) });
    },
    onError: (error) => out.write(`!!! ${error.message}\n`),
  });
  const port = await receiver.listen();
  out.write(`listening for MLLP${options.tls ? ' over TLS' : ''} on ${options.host}:${port}, answering ${options.ack}, in ${options.charset ?? 'UTF-8'}\n`);
  return receiver;
}
