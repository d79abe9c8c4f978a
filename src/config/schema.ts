import convict from 'convict';

/**
 * The convict schema: the one home of every global default (README "Configuration").
 * `config/default.json` mirrors these values for operators to read; a unit test keeps the
 * two equal. Subscriptions are validated separately (subscription.ts) because convict
 * treats arrays as opaque values and we want every problem reported at once, by path.
 *
 * Precedence: schema defaults < config/default.json < --config FILE or
 * MLLP_DISPATCHER_CONFIG < environment variables.
 */

/**
 * Environment values are strings: only plain decimal digits count as a number. `Number()`
 * alone would read an empty `HTTP_PORT=` as 0 (a random port) and accept `0x1F` or `1e3`.
 */
const decimal = (value: string) => (/^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN);

const positiveInt = (name: string) => ({
  name,
  validate(value: unknown) {
    if (!Number.isInteger(value) || (value as number) < 1) throw new Error('must be an integer >= 1');
  },
  coerce: decimal,
});

convict.addFormat(positiveInt('positive-int'));
convict.addFormat({
  name: 'port',
  validate(value: unknown) {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535) {
      throw new Error('must be a TCP port number 0-65535 (0 picks a free port)');
    }
  },
  coerce: decimal,
});
convict.addFormat({
  name: 'amqp-urls',
  // One URL or a list of cluster nodes, tried in order; the environment gives a
  // comma-separated list. Never echoes the value: URLs carry passwords.
  validate(value: unknown) {
    const urls = Array.isArray(value) ? value : [value];
    if (urls.length === 0) throw new Error('must name at least one amqp:// or amqps:// URL');
    for (const url of urls) {
      if (typeof url !== 'string' || !/^amqps?:\/\/[^/]/.test(url)) {
        throw new Error('must be an amqp:// or amqps:// URL, or a list of them');
      }
      try {
        new URL(url);
      } catch {
        throw new Error('must be an amqp:// or amqps:// URL, or a list of them');
      }
    }
  },
  coerce: (value: string) => (value.includes(',') ? value.split(',').map((url) => url.trim()) : value),
});
convict.addFormat({
  name: 'string-map',
  validate(value: unknown) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('must be an object');
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== 'string' || entry === '') throw new Error(`entry "${key}" must be a non-empty string`);
    }
  },
});
convict.addFormat({
  name: 'subscription-list',
  validate(value: unknown) {
    if (!Array.isArray(value)) throw new Error('must be a list of subscriptions');
  },
});

export const configSchema = {
  amqp: {
    url: {
      doc: 'Broker URL, or a list of cluster node URLs tried in order.',
      format: 'amqp-urls',
      default: 'amqp://guest:guest@127.0.0.1:5672' as string | string[],
      env: 'AMQP_URL',
      sensitive: true,
    },
    password: {
      doc: 'Overrides the password in the URL(s); keeps it out of the URL.',
      format: String,
      default: '',
      env: 'AMQP_PASSWORD',
      sensitive: true,
    },
    passwordFile: {
      doc: 'File holding the broker password (e.g. a mounted secret); read at start.',
      format: String,
      default: '',
    },
    exchange: { doc: 'Topic exchange producers publish patient events to.', format: String, default: 'patient.events' },
    deadLetterExchange: { doc: 'Direct exchange for dead letters.', format: String, default: 'mllp.dead' },
    receiptsExchange: { doc: 'Topic exchange for receipts.', format: String, default: 'mllp.receipts' },
    receipts: { doc: 'Publish a receipt for every event.', format: Boolean, default: true },
    prefetch: {
      doc: 'Unacknowledged events per subscription; 0 derives it from lanes (16 per lane, at least 64).',
      format: 'nat',
      default: 0,
    },
    declare: { doc: 'Declare exchanges, queues and bindings at start.', format: Boolean, default: true },
    queueType: { doc: 'Type of the subscription queues.', format: ['classic', 'quorum'], default: 'classic' },
    heartbeatSeconds: { doc: 'AMQP heartbeat.', format: 'nat', default: 30 },
    maxMessageBytes: { doc: 'Events larger than this are dead-lettered as invalid.', format: 'positive-int', default: 1_048_576 },
    queuePollMs: {
      doc: 'How often queue depths are read from the broker (metrics, standby detection).',
      format: 'positive-int',
      default: 5_000,
    },
    reconnect: {
      initialDelayMs: { doc: 'First broker reconnect delay.', format: 'positive-int', default: 500 },
      maxDelayMs: { doc: 'Cap of the broker reconnect delay.', format: 'positive-int', default: 30_000 },
    },
  },
  http: {
    port: { doc: 'Port of /healthz, /readyz and /metrics; 0 picks a free port.', format: 'port', default: 9464, env: 'HTTP_PORT' },
    host: { doc: 'Address the HTTP server listens on.', format: String, default: '0.0.0.0' },
    readinessIncludesReceivers: {
      doc: '/readyz fails while a subscription cannot reach its receiver (set false when pod readiness must not depend on remote systems).',
      format: Boolean,
      default: true,
    },
  },
  log: {
    level: {
      doc: 'Log level.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LOG_LEVEL',
    },
    phi: {
      doc: 'Allow patient data (HL7 bodies at debug level, receiver error texts) in logs.',
      format: Boolean,
      default: false,
    },
  },
  hl7: {
    sendingApplication: { doc: 'MSH-3 when a subscription has no MSH34 setting.', format: String, default: 'MLLP_DISPATCHER' },
    sendingFacility: { doc: 'MSH-4 when a subscription has no MSH34 setting.', format: String, default: '' },
    assigningAuthorities: {
      doc: 'FHIR identifier system -> HD-1 namespace id, for identifiers without assigner.display.',
      format: 'string-map',
      default: {} as Record<string, string>,
    },
  },
  shutdown: {
    graceMs: { doc: 'How long SIGTERM waits for messages in flight before requeueing them.', format: 'nat', default: 10_000 },
  },
  subscriptions: {
    doc: 'The subscriptions (see README "Subscriptions").',
    format: 'subscription-list',
    default: [] as unknown[],
  },
};

export function createConfig(env: NodeJS.ProcessEnv) {
  return convict(configSchema, { env, args: [] });
}
