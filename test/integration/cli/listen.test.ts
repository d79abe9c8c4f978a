import { afterEach, describe, expect, it } from 'vitest';
import { MllpClient, type SendResult } from '../../../src/transport/mllp-client.js';
import { encodeFrame } from '../../../src/transport/mllp-framing.js';
import { CliProcess } from '../../helpers/cli.js';
import { makePki } from '../../helpers/certs.js';

const running: CliProcess[] = [];
const clients: MllpClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const listener of running.splice(0)) await listener.stop();
});

/** Starts `mllp-dispatcher listen --port 0 ...args` and returns it with the port it bound. */
async function listen(args: string[] = []): Promise<{ listener: CliProcess; port: number }> {
  const listener = new CliProcess(['listen', '--port', '0', ...args]);
  running.push(listener);
  const match = await listener.waitForOutput(/listening for MLLP(?: over TLS)? on 127\.0\.0\.1:(\d+), answering (\w+), in [\w-]+\n/);
  return { listener, port: Number(match[1]) };
}

function client(port: number, options: { secure?: boolean; host?: string; tls?: ConstructorParameters<typeof MllpClient>[0]['tls']; ackTimeoutMs?: number } = {}): MllpClient {
  const instance = new MllpClient({
    endpoint: { host: options.host ?? '127.0.0.1', port, secure: options.secure ?? false },
    ...(options.tls ? { tls: options.tls } : {}),
    connectTimeoutMs: 5_000,
    ackTimeoutMs: options.ackTimeoutMs ?? 5_000,
  });
  clients.push(instance);
  return instance;
}

function adtA01(controlId: string): string {
  return [
    `MSH|^~\\&|SEND_APP|SEND_FAC|RECV_APP|RECV_FAC|20260315143022+0100||ADT^A01^ADT_A01|${controlId}|P|2.5`,
    'EVN||20260315143022+0100',
    'PID|1||PAT-1^^^ACME&1.2.3&ISO^PI||Testperson^Anne||19840312|F',
    'PV1|1|N',
  ].join('\r') + '\r';
}

function send(sender: MllpClient, controlId: string): Promise<SendResult> {
  return sender.send(encodeFrame(adtA01(controlId)), controlId);
}

describe('mllp-dispatcher listen', () => {
  it('--port 0: receives a message, prints it one segment per line, and answers AA with MSA-2 = MSH-10', async () => {
    const { listener, port } = await listen();
    expect(listener.stdout).toContain('answering AA');
    const sender = client(port);
    const result = await send(sender, 'CTRL-LISTEN-1');
    expect(result.kind).toBe('ack');
    if (result.kind !== 'ack') return;
    expect(result.ack).toMatchObject({ messageType: 'ACK', ackCode: 'AA', controlId: 'CTRL-LISTEN-1' });
    await listener.waitForOutput(/<-- AA for CTRL-LISTEN-1\n/);
    expect(listener.stdout).toMatch(/--- message 1 \(127\.0\.0\.1, connection 1\) ---\nMSH\|\^~\\&\|SEND_APP\|.*\|CTRL-LISTEN-1\|P\|2\.5\nEVN\|\|20260315143022\+0100\nPID\|1\|\|PAT-1.*\nPV1\|1\|N\n<-- AA for CTRL-LISTEN-1\n/);
    // A second message on the same connection is answered too.
    const second = await send(sender, 'CTRL-LISTEN-2');
    expect(second.kind === 'ack' && second.ack.controlId).toBe('CTRL-LISTEN-2');
    await listener.waitForOutput(/--- message 2 \(127\.0\.0\.1, connection 1\) ---/);
    // SIGTERM stops it cleanly.
    expect(await listener.stop()).toEqual({ code: 0, signal: null });
  });

  it('--ack AR and --ack AE answer with that code and an ERR segment', async () => {
    for (const code of ['AR', 'AE'] as const) {
      const { listener, port } = await listen(['--ack', code.toLowerCase()]);
      const result = await send(client(port), `CTRL-${code}`);
      expect(result.kind).toBe('ack');
      if (result.kind !== 'ack') return;
      expect(result.ack.ackCode).toBe(code);
      expect(result.ack.controlId).toBe(`CTRL-${code}`);
      expect(result.ack.errorCode).toBe('207');
      await listener.waitForOutput(new RegExp(`<-- ${code} for CTRL-${code}\\n`));
    }
  });

  it('--ack none reads the message and never answers: the sender sees no ACK (uncertain)', async () => {
    const { listener, port } = await listen(['--ack', 'none']);
    const result = await send(client(port, { ackTimeoutMs: 700 }), 'CTRL-NONE');
    expect(result).toEqual({ kind: 'uncertain', reason: 'no ACK within 700 ms' });
    await listener.waitForOutput(/MSH\|.*\|CTRL-NONE\|[\s\S]*<-- no ACK sent\n/);
    expect(listener.stdout).not.toContain('<-- AA');
  });

  it('--tls --cert --key: answers over TLS (sllp), verified against the CA; a plain client gets nothing', async () => {
    const pki = makePki();
    const { listener, port } = await listen(['--tls', '--cert', pki.serverCert, '--key', pki.serverKey]);
    expect(listener.stdout).toContain('listening for MLLP over TLS');
    const result = await send(client(port, { secure: true, host: 'localhost', tls: { ca: pki.ca, minVersion: 'TLSv1.2' } }), 'CTRL-TLS');
    expect(result.kind === 'ack' && result.ack.ackCode).toBe('AA');
    expect(result.kind === 'ack' && result.ack.controlId).toBe('CTRL-TLS');
    await listener.waitForOutput(/<-- AA for CTRL-TLS\n/);

    // An untrusting client (no CA) refuses the dev certificate: unreachable, not a timeout.
    const untrusting = await send(client(port, { secure: true, host: 'localhost', tls: { minVersion: 'TLSv1.2' } }), 'CTRL-UNTRUSTED');
    expect(untrusting.kind).toBe('unreachable');
    // A plain-TCP client gets no ACK from a TLS listener.
    const plain = await send(client(port, { ackTimeoutMs: 700 }), 'CTRL-PLAIN');
    expect(plain.kind).not.toBe('ack');
    expect(listener.stdout).not.toContain('CTRL-PLAIN');
  });

  it('--tls --ca: mutual TLS; prints the client certificate CN and refuses clients without one', async () => {
    const pki = makePki();
    const { listener, port } = await listen(['--tls', '--cert', pki.serverCert, '--key', pki.serverKey, '--ca', pki.ca]);
    const withCert = await send(
      client(port, { secure: true, host: 'localhost', tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, minVersion: 'TLSv1.2' } }),
      'CTRL-MTLS',
    );
    expect(withCert.kind === 'ack' && withCert.ack.ackCode).toBe('AA');
    await listener.waitForOutput(/--- message 1 \(127\.0\.0\.1, connection 1, client certificate CN=mllp-dispatcher dev client\) ---/);
    const withoutCert = await send(client(port, { secure: true, host: 'localhost', tls: { ca: pki.ca, minVersion: 'TLSv1.2' }, ackTimeoutMs: 2_000 }), 'CTRL-NOCERT');
    expect(withoutCert.kind).not.toBe('ack');
    expect(listener.stdout).not.toContain('CTRL-NOCERT');
  });

  it('--tls with a certificate file that does not exist: exit 64 naming the options', async () => {
    const listener = new CliProcess(['listen', '--port', '0', '--tls', '--cert', '/nonexistent/server.pem', '--key', '/nonexistent/server.key']);
    running.push(listener);
    const exited = await listener.exited;
    expect(exited.code).toBe(64);
    expect(listener.stderr).toContain('--tls needs a certificate and key (ENOENT reading them)');
  });

  it('--charset ISO-8859-1: reads each message in that charset and says so', async () => {
    const { listener, port } = await listen(['--charset', 'iso-8859-1']);
    expect(listener.stdout).toContain('answering AA, in ISO-8859-1');
    const text = adtA01('CTRL-LATIN1').replace('Testperson^Anne', 'Ødegård-Müller^Zoë');
    const result = await client(port).send(encodeFrame(text, 'ISO-8859-1'), 'CTRL-LATIN1');
    expect(result.kind === 'ack' && result.ack.ackCode).toBe('AA');
    await listener.waitForOutput(/<-- AA for CTRL-LATIN1\n/);
    expect(listener.stdout).toContain('PID|1||PAT-1^^^ACME&1.2.3&ISO^PI||Ødegård-Müller^Zoë||19840312|F');
  });
});
