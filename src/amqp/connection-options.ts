import type { Options } from 'amqplib';

/**
 * An `amqp://` / `amqps://` URL as amqplib connection options. Passing an object rather than
 * the URL keeps the credentials exactly as configured: amqplib decodes URL credentials with
 * `unescape`, which garbles non-ASCII passwords (e.g. one read from `amqp.passwordFile`).
 * Query parameters amqplib understands are carried over; `heartbeat` defaults to
 * `heartbeatSeconds` unless the URL sets it.
 */
export function connectionOptions(url: string, heartbeatSeconds: number): Options.Connect {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'amqps:';
  const query = parsed.searchParams;
  const options: Options.Connect = {
    protocol: secure ? 'amqps' : 'amqp',
    hostname: parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 5671 : 5672,
    username: parsed.username ? decodeURIComponent(parsed.username) : 'guest',
    password: parsed.password ? decodeURIComponent(parsed.password) : 'guest',
    // An empty path is the default vhost "/"; "/%2F" names it explicitly.
    vhost: parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : '/',
    heartbeat: query.has('heartbeat') ? Number(query.get('heartbeat')) : heartbeatSeconds,
  };
  for (const key of ['frameMax', 'channelMax'] as const) {
    const value = query.get(key);
    if (value !== null) options[key] = Number(value);
  }
  const locale = query.get('locale');
  if (locale !== null) options.locale = locale;
  return options;
}
