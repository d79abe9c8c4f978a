import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { configSchema, createConfig } from './schema.js';
import { resolveSubscriptions, type SubscriptionConfig } from './subscription.js';
import { applyProfiles } from './profiles.js';
import { DEFAULTS_FILE } from '../package-paths.js';
import { resolveFhirSources, type FhirSourceConfig } from '../fhir/fhir-sources-config.js';
import { isPlainObject, withoutMisshapenValues, type SchemaNode } from './convict-shape.js';

/** The `amqp` settings that pass through validation unchanged. */
interface AmqpSettings {
  exchange: string;
  deadLetterExchange: string;
  receiptsExchange: string;
  receipts: boolean;
  declare: boolean;
  queueType: 'classic' | 'quorum';
  heartbeatSeconds: number;
  maxMessageBytes: number;
  queuePollMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
}

/** The validated configuration the daemon runs with. Only config/ reads files and env for it. */
export interface AppConfig {
  amqp: AmqpSettings & {
    /** Cluster nodes in the order they are tried; passwords already applied. */
    urls: string[];
  };
  http: { port: number; host: string; readinessIncludesReceivers: boolean };
  log: { level: string; phi: boolean };
  shutdownGraceMs: number;
  subscriptions: SubscriptionConfig[];
  /** FHIR servers that reference events are resolved against (README, "Reference events"). */
  fhirSources: FhirSourceConfig[];
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
  const opaque: OpaqueValues = {};
  const defaultsFile = options.defaultsFile ?? DEFAULTS_FILE;
  // A file that cannot be read or parsed stops here: its keys cannot be checked.
  const fileProblems: string[] = [];
  loadJsonInto(config, defaultsFile, { file: fileProblems, values: problems }, opaque);
  const configFile = options.configFile ?? (env.MLLP_DISPATCHER_CONFIG || undefined);
  const configPath = configFile ? resolvePath(configFile) : undefined;
  if (configPath) loadJsonInto(config, configPath, { file: fileProblems, values: problems }, opaque);
  if (fileProblems.length > 0) throw new ConfigError(fileProblems);

  try {
    config.validate({ allowed: 'strict' });
  } catch (error) {
    problems.push(...(error as Error).message.split('\n').filter(Boolean).map(rewordConvictProblem));
  }
  const props = config.getProperties() as unknown as RawConfig;
  if (opaque.assigningAuthorities !== undefined) {
    const authorities = validateStringMap(opaque.assigningAuthorities, 'hl7.assigningAuthorities', problems);
    if (authorities) props.hl7.assigningAuthorities = authorities;
  }
  if (opaque.subscriptions !== undefined) {
    if (Array.isArray(opaque.subscriptions)) props.subscriptions = opaque.subscriptions;
    else problems.push('subscriptions: must be a list (JSON array) of subscriptions');
  }
  const password = readPassword(props, configPath, problems);

  const baseDir = configPath ? dirname(configPath) : process.cwd();
  const profiled = applyProfiles(Array.isArray(props.subscriptions) ? props.subscriptions : [], opaque.profiles, baseDir, problems);
  const { subscriptions, problems: subscriptionProblems } = resolveSubscriptions(
    profiled,
    {
      sendingApplication: props.hl7.sendingApplication,
      sendingFacility: props.hl7.sendingFacility,
      assigningAuthorities: props.hl7.assigningAuthorities,
      prefetch: props.amqp.prefetch,
      baseDir,
    },
  );
  problems.push(...subscriptionProblems);
  const fhir = resolveFhirSources(opaque.fhirSources, baseDir);
  problems.push(...fhir.problems);
  if (opaque.fhirSources !== undefined) props.fhirSources = opaque.fhirSources;
  const subscriptionsListed = opaque.subscriptions === undefined || Array.isArray(opaque.subscriptions);
  if (subscriptions.length === 0 && subscriptionProblems.length === 0 && subscriptionsListed && !options.allowNoSubscriptions) {
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
      queuePollMs: props.amqp.queuePollMs,
      reconnect: props.amqp.reconnect,
    },
    http: props.http,
    log: props.log,
    shutdownGraceMs: props.shutdown.graceMs,
    subscriptions,
    fhirSources: fhir.sources,
    raw: props as unknown as Record<string, unknown>,
  };
}

interface RawConfig {
  amqp: AmqpSettings & {
    url: string | string[];
    password: string;
    passwordFile: string;
    prefetch: number;
  };
  http: { port: number; host: string; readinessIncludesReceivers: boolean };
  log: { level: string; phi: boolean };
  hl7: { sendingApplication: string; sendingFacility: string; assigningAuthorities: Record<string, string> };
  shutdown: { graceMs: number };
  subscriptions: unknown[];
  fhirSources?: unknown;
}

/**
 * Values convict must not see: `hl7.assigningAuthorities` is a map whose keys are FHIR
 * systems such as `urn:oid:1.2.3`, and convict splits keys at dots; `subscriptions` is
 * validated by subscription.ts, and convict echoes invalid values in its messages (a
 * subscription holds the MSH-8 secret). A later file replaces an earlier file's value.
 */
interface OpaqueValues {
  assigningAuthorities?: unknown;
  subscriptions?: unknown;
  profiles?: unknown;
  /** Validated by fhir/fhir-sources-config.ts. */
  fhirSources?: unknown;
}

/** `problems.file`: the file cannot be used at all; `problems.values`: values of a usable file. */
function loadJsonInto(config: ReturnType<typeof createConfig>, file: string, problems: { file: string[]; values: string[] }, opaque: OpaqueValues): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.file.push(`config file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // JSON.parse messages can quote the file's text (secrets); report the position only.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    problems.file.push(`config file ${file}: is not valid JSON${position ? ` (error at character ${position})` : ''}`);
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.file.push(`config file ${file}: must hold a JSON object`);
    return;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if ('subscriptions' in copy) {
    opaque.subscriptions = copy.subscriptions;
    delete copy.subscriptions;
  }
  if ('profiles' in copy) {
    opaque.profiles = copy.profiles;
    delete copy.profiles;
  }
  if ('fhirSources' in copy) {
    opaque.fhirSources = copy.fhirSources;
    delete copy.fhirSources;
  }
  const hl7 = copy.hl7;
  if (isPlainObject(hl7) && 'assigningAuthorities' in hl7) {
    const { assigningAuthorities, ...rest } = hl7;
    opaque.assigningAuthorities = assigningAuthorities;
    copy.hl7 = rest;
  }
  config.load(withoutMisshapenValues(copy, configSchema as unknown as SchemaNode, '', problems.values));
}

function validateStringMap(value: unknown, path: string, problems: string[]): Record<string, string> | undefined {
  if (!isPlainObject(value)) {
    problems.push(`${path}: must be an object mapping identifier systems to namespace ids`);
    return undefined;
  }
  let ok = true;
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string' || entry === '') {
      problems.push(`${path}["${key}"]: must be a non-empty string`);
      ok = false;
    }
  }
  return ok ? (value as Record<string, string>) : undefined;
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

export function withPassword(url: string, password: string | undefined): string {
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
