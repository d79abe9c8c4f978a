import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { createConfig } from './schema.js';
import { resolveSubscriptions, type SubscriptionConfig } from './subscription.js';
import { DEFAULTS_FILE } from '../package-paths.js';

/** The validated configuration the daemon runs with. Only config/ reads files and env for it. */
export interface AppConfig {
  amqp: {
    /** Cluster nodes in the order they are tried; passwords already applied. */
    urls: string[];
    exchange: string;
    deadLetterExchange: string;
    receiptsExchange: string;
    receipts: boolean;
    declare: boolean;
    queueType: 'classic' | 'quorum';
    heartbeatSeconds: number;
    maxMessageBytes: number;
    reconnect: { initialDelayMs: number; maxDelayMs: number };
  };
  http: { port: number; host: string };
  log: { level: string; phi: boolean };
  shutdownGraceMs: number;
  subscriptions: SubscriptionConfig[];
  /** The merged raw values, for check-config (secrets are masked by describeConfig). */
  raw: Record<string, unknown>;
}

/** A configuration that cannot run: each problem names the key and the reason. Exit 78. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** --config FILE; falls back to env MLLP_DISPATCHER_CONFIG. */
  configFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Defaults file; config/default.json of this package when unset. */
  defaultsFile?: string;
  /** Subscriptions may be absent (check-config of a partial file, render). */
  allowNoSubscriptions?: boolean;
}

/** Loads, merges and validates; throws ConfigError listing every problem found. */
export function loadConfig(options: LoadOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const config = createConfig(env);
  const problems: string[] = [];
  const defaultsFile = options.defaultsFile ?? DEFAULTS_FILE;
  loadJsonInto(config, defaultsFile, problems);
  const configFile = options.configFile ?? (env.MLLP_DISPATCHER_CONFIG || undefined);
  const configPath = configFile ? resolvePath(configFile) : undefined;
  if (configPath) loadJsonInto(config, configPath, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  try {
    config.validate({ allowed: 'strict' });
  } catch (error) {
    problems.push(...(error as Error).message.split('\n').filter(Boolean).map(rewordConvictProblem));
  }
  const props = config.getProperties() as unknown as RawConfig;
  const password = readPassword(props, configPath, problems);

  const { subscriptions, problems: subscriptionProblems } = resolveSubscriptions(
    Array.isArray(props.subscriptions) ? props.subscriptions : [],
    {
      sendingApplication: props.hl7.sendingApplication,
      sendingFacility: props.hl7.sendingFacility,
      assigningAuthorities: props.hl7.assigningAuthorities,
      prefetch: props.amqp.prefetch,
      baseDir: configPath ? dirname(configPath) : process.cwd(),
    },
  );
  problems.push(...subscriptionProblems);
  if (subscriptions.length === 0 && subscriptionProblems.length === 0 && !options.allowNoSubscriptions) {
    problems.push('subscriptions: at least one subscription is required');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const urls = (Array.isArray(props.amqp.url) ? props.amqp.url : [props.amqp.url]).map((url) => withPassword(url, password));
  return {
    amqp: {
      urls,
      exchange: props.amqp.exchange,
      deadLetterExchange: props.amqp.deadLetterExchange,
      receiptsExchange: props.amqp.receiptsExchange,
      receipts: props.amqp.receipts,
      declare: props.amqp.declare,
      queueType: props.amqp.queueType,
      heartbeatSeconds: props.amqp.heartbeatSeconds,
      maxMessageBytes: props.amqp.maxMessageBytes,
      reconnect: props.amqp.reconnect,
    },
    http: props.http,
    log: props.log,
    shutdownGraceMs: props.shutdown.graceMs,
    subscriptions,
    raw: props as unknown as Record<string, unknown>,
  };
}

interface RawConfig {
  amqp: {
    url: string | string[];
    password: string;
    passwordFile: string;
    exchange: string;
    deadLetterExchange: string;
    receiptsExchange: string;
    receipts: boolean;
    prefetch: number;
    declare: boolean;
    queueType: 'classic' | 'quorum';
    heartbeatSeconds: number;
    maxMessageBytes: number;
    reconnect: { initialDelayMs: number; maxDelayMs: number };
  };
  http: { port: number; host: string };
  log: { level: string; phi: boolean };
  hl7: { sendingApplication: string; sendingFacility: string; assigningAuthorities: Record<string, string> };
  shutdown: { graceMs: number };
  subscriptions: unknown[];
}

function loadJsonInto(config: ReturnType<typeof createConfig>, file: string, problems: string[]): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`config file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // JSON.parse messages can quote the file's text (secrets); report the position only.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    problems.push(`config file ${file}: is not valid JSON${position ? ` (error at character ${position})` : ''}`);
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`config file ${file}: must hold a JSON object`);
    return;
  }
  config.load(value);
}

/** "configuration param 'x.y' not declared in the schema" -> "x.y: is not a known setting". */
function rewordConvictProblem(problem: string): string {
  const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(problem);
  return undeclared ? `${undeclared[1]}: is not a known setting` : problem;
}

function readPassword(props: RawConfig, configPath: string | undefined, problems: string[]): string | undefined {
  if (props.amqp.passwordFile) {
    const file = resolvePath(configPath ? dirname(configPath) : process.cwd(), props.amqp.passwordFile);
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      problems.push(`amqp.passwordFile: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  return props.amqp.password || undefined;
}

function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

const MASK = '********';

/** The effective configuration with secrets masked, for check-config and start-up logs. */
export function describeConfig(config: AppConfig): Record<string, unknown> {
  const raw = structuredClone(config.raw) as RawConfig & Record<string, unknown>;
  raw.amqp.url = config.amqp.urls.map(maskUrlPassword);
  if (raw.amqp.password) raw.amqp.password = MASK;
  raw.subscriptions = raw.subscriptions.map((entry) => {
    if (!entry || typeof entry !== 'object') return entry;
    const copy = entry as { settings?: Record<string, unknown> };
    if (copy.settings && typeof copy.settings.MSH8 === 'string') copy.settings.MSH8 = MASK;
    return copy;
  });
  return raw;
}

export function maskUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    return parsed.toString();
  } catch {
    return MASK;
  }
}
