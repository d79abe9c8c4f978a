import { resolve as resolvePath } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { EVENT_TYPES, type EventType } from '../event/patient-event.js';
import {
  ALLOWED_TRIGGERS,
  SEND_AS_PRESETS,
  SUPPORTED_TRIGGERS,
  type MappingProfile,
  type SendAs,
  type TriggerCell,
} from '../mapping/profile.js';
import { compileWhen, type WhenCriteria } from '../routing/when/index.js';
import type { OutcomePolicy, RetrySettings } from '../delivery/policy.js';
import { parseEndpoint, type MllpEndpoint } from '../transport/endpoint.js';
import type { TlsFileSettings } from '../transport/tls-files.js';
import { ObjectReader } from './object-reader.js';
import { readSettings } from './subscription-settings.js';
import { readAdaptation } from './receiver-profile.js';
import { readReceiverTransport, type ReceiverTransport } from './receiver-transport.js';
import { readAcknowledgment, readPolicy, readRetry, readTimeouts, type Timeouts } from './delivery-settings.js';

/** One subscription, validated and resolved: everything the runtime needs, typed. */
export interface SubscriptionConfig {
  name: string;
  description: string;
  supportContact: string;
  events: ReadonlySet<EventType>;
  when: WhenCriteria;
  notBefore?: Date;
  notAfter?: Date;
  endpoint: MllpEndpoint;
  dispatcher: 'hl7-pat-id-source';
  mapping: MappingProfile;
  tls?: TlsFileSettings;
  /** Parallel MLLP connections, ordered per patient; 1 = one strictly ordered stream. */
  lanes: number;
  /** Identifier system whose value keys a patient to a lane; the first PID-3 identifier when unset. */
  laneKeySystem?: string;
  prefetch: number;
  timeouts: Timeouts;
  retry: RetrySettings;
  policy: OutcomePolicy;
  /** A receiver profile's framing, connection habits and rate limit (README "Fitting a receiver"). */
  receiver: ReceiverTransport;
  /** `"paused": true`: consume nothing, events wait in the queue (src/operations/paused-feed.ts). */
  paused: boolean;
  /** `"holdPatientOnDeadLetter": true`: a dead-lettered patient's later events wait (docs/PATIENT-HOLD.md). */
  holdPatientOnDeadLetter: boolean;
  /** A stable digest of the subscription's source JSON: live reload restarts a subscription only when it changes. */
  fingerprint: string;
}

export interface SubscriptionDefaults {
  sendingApplication: string;
  sendingFacility: string;
  assigningAuthorities: Readonly<Record<string, string>>;
  /** amqp.prefetch; 0 = derive from lanes. */
  prefetch: number;
  /** Directory that relative TLS file paths are resolved against (the config file's). */
  baseDir: string;
}

const NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

/**
 * Validates the `subscriptions` list. Returns every problem found, each prefixed with the
 * path of the offending key (`subscriptions[1] (lab-feed).when[0]: ...`), so check-config
 * can print them all at once.
 */
export function resolveSubscriptions(
  raw: readonly unknown[],
  defaults: SubscriptionDefaults,
): { subscriptions: SubscriptionConfig[]; problems: string[] } {
  const problems: string[] = [];
  const subscriptions: SubscriptionConfig[] = [];
  // Index of the first subscription with each name. Duplicates are found on the raw names, so
  // a duplicate is reported even when either subscription has other problems too.
  const firstIndexOf = new Map<string, number>();
  raw.forEach((entry, index) => {
    const resolved = resolveSubscription(entry, index, defaults, problems);
    const name = rawName(entry);
    if (name !== undefined) {
      const first = firstIndexOf.get(name);
      if (first === undefined) firstIndexOf.set(name, index);
      else problems.push(`subscriptions[${index}] (${name}).name: "${name}" is already used by subscriptions[${first}]; names must be unique (they name queues and metrics)`);
    }
    if (resolved) subscriptions.push(resolved);
  });
  return { subscriptions, problems };
}

function rawName(entry: unknown): string | undefined {
  const name = entry && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function resolveSubscription(
  entry: unknown,
  index: number,
  defaults: SubscriptionDefaults,
  problems: string[],
): SubscriptionConfig | undefined {
  const before = problems.length;
  const probeName = rawName(entry) !== undefined ? ` (${rawName(entry)})` : '';
  const sub = ObjectReader.of(entry, `subscriptions[${index}]${probeName}`, problems);
  if (!sub) return undefined;

  const name = sub.string('name', { required: true, pattern: NAME_PATTERN, patternText: '[a-zA-Z0-9_-]+' }) ?? '';
  const description = sub.string('description', { maxLength: 1024 }) ?? '';
  const supportContact = sub.string('supportContact') ?? '';

  const events = readEvents(sub);
  const when = readWhen(sub);
  const notBefore = sub.instant('notBefore');
  const notAfter = sub.instant('notAfter');
  if (notBefore && notAfter && notBefore.getTime() >= notAfter.getTime()) sub.problem('notAfter', 'must be later than notBefore');

  const endpointText = sub.string('endpoint', { required: true });
  let endpoint: MllpEndpoint | undefined;
  if (endpointText !== undefined) {
    const parsed = parseEndpoint(endpointText);
    if (parsed.ok) endpoint = parsed.endpoint;
    else sub.problem('endpoint', parsed.reason);
  }
  const dispatcher = sub.oneOf('dispatcher', ['hl7-pat-id-source'] as const, 'hl7-pat-id-source');

  const settings = readSettings(sub, defaults);
  const rawSettings = sub.raw('settings');
  const acknowledgment = readAcknowledgment(rawSettings && typeof rawSettings === 'object' && !Array.isArray(rawSettings) ? sub.child('settings') : undefined);
  if (endpoint && settings.transport && (settings.transport === 'sllp') !== endpoint.secure) {
    sub.problem('settings.Transport', `is ${settings.transport} but the endpoint scheme is ${endpoint.secure ? 'secure (sllp)' : 'plain (llp)'}`);
  }
  const triggers = readTriggers(sub, settings.sendAs);
  sub.string('profile'); // applied before validation (profiles.ts); its keys are read below
  const adaptation = readAdaptation(sub, { version: settings.version, triggers, events });
  const receiver = readReceiverTransport(sub, acknowledgment !== undefined);
  const tls = readTls(sub, defaults.baseDir);
  if (endpoint?.secure === false && tls) sub.problem('tls', 'is set but the endpoint is plain llp; use sllp:// to send over TLS');

  const lanes = sub.integer('lanes', 1, 1, 64);
  const laneKeySystem = sub.string('laneKeySystem');
  const prefetch = sub.integer('prefetch', defaults.prefetch || Math.max(64, lanes * 16), 1, 65535);
  const timeouts = readTimeouts(sub);
  const retry = readRetry(sub);
  const policy = readPolicy(sub);
  const paused = sub.raw('paused') ?? false;
  if (typeof paused !== 'boolean') sub.problem('paused', 'must be true or false');
  const hold = sub.raw('holdPatientOnDeadLetter') ?? false;
  if (typeof hold !== 'boolean') sub.problem('holdPatientOnDeadLetter', 'must be true or false');
  sub.rejectUnknownKeys();

  if (problems.length > before || !endpoint || !when) return undefined;
  const mapping: MappingProfile = {
    subscription: name,
    sendingApplication: settings.sendingApplication,
    sendingFacility: settings.sendingFacility,
    receivingApplication: settings.receivingApplication,
    receivingFacility: settings.receivingFacility,
    version: settings.version,
    charset: settings.charset,
    unrepresentable: settings.unrepresentable,
    lengths: settings.lengths,
    processingId: settings.processingId,
    triggers,
    assigningAuthorities: defaults.assigningAuthorities,
  };
  if (settings.security !== undefined) mapping.security = settings.security;
  if (adaptation) mapping.adaptation = adaptation;
  if (acknowledgment) mapping.acknowledgment = acknowledgment;
  const resolved: SubscriptionConfig = {
    name,
    description,
    supportContact,
    events,
    when,
    endpoint,
    dispatcher,
    mapping,
    lanes,
    prefetch,
    timeouts,
    retry,
    policy,
    receiver,
    paused: paused === true,
    holdPatientOnDeadLetter: hold === true,
    fingerprint: JSON.stringify(entry),
  };
  if (notBefore) resolved.notBefore = notBefore;
  if (notAfter) resolved.notAfter = notAfter;
  if (tls) resolved.tls = tls;
  else if (endpoint.secure) resolved.tls = { minVersion: 'TLSv1.2' };
  if (laneKeySystem) resolved.laneKeySystem = laneKeySystem;
  return resolved;
}

function readEvents(sub: ObjectReader): ReadonlySet<EventType> {
  const list = sub.stringList('events');
  if (list === undefined) return new Set(EVENT_TYPES);
  if (list.length === 0) sub.problem('events', `must name at least one of ${EVENT_TYPES.join(', ')}`);
  for (const type of list) {
    if (!(EVENT_TYPES as readonly string[]).includes(type)) sub.problem('events', `"${type}" is not one of ${EVENT_TYPES.join(', ')}`);
  }
  return new Set(list.filter((type): type is EventType => (EVENT_TYPES as readonly string[]).includes(type)));
}

function readWhen(sub: ObjectReader): WhenCriteria | undefined {
  const list = sub.stringList('when') ?? [];
  const compiled = compileWhen(list);
  if (compiled.ok) return compiled.criteria;
  for (const error of compiled.errors) sub.problem(`when[${error.index}]`, error.message);
  return undefined;
}

function readTriggers(sub: ObjectReader, sendAs: SendAs): Record<EventType, TriggerCell> {
  const table: Record<EventType, TriggerCell> = { ...SEND_AS_PRESETS[sendAs] };
  const overrides = sub.child('triggers');
  if (!overrides) return table;
  for (const type of EVENT_TYPES) {
    const cell = overrides.raw(type);
    if (cell === undefined) continue;
    const allowed = ALLOWED_TRIGGERS[type];
    if (cell === 'skip' || (typeof cell === 'string' && (allowed as readonly string[]).includes(cell))) {
      table[type] = cell as TriggerCell;
    } else if (typeof cell === 'string' && (SUPPORTED_TRIGGERS as readonly string[]).includes(cell)) {
      overrides.problem(type, `${cell} does not fit a ${type} event (allowed: ${allowed.join(', ')}, skip)`);
    } else {
      overrides.problem(type, `must be one of ${allowed.join(', ')}, skip`);
    }
  }
  overrides.rejectUnknownKeys();
  return table;
}

/** A `tls` block (subscriptions, fhirSources): paths resolved against `baseDir`. */
export function readTls(sub: ObjectReader, baseDir: string): TlsFileSettings | undefined {
  const tls = sub.child('tls');
  if (!tls) return undefined;
  const settings: TlsFileSettings = { minVersion: tls.oneOf('minVersion', TLS_VERSIONS, 'TLSv1.2') };
  for (const key of ['ca', 'cert', 'key'] as const) {
    const path = tls.string(key);
    if (path) settings[key] = resolvePath(baseDir, path);
  }
  const servername = tls.string('servername');
  if (servername) settings.servername = servername;
  if (Boolean(settings.cert) !== Boolean(settings.key)) tls.problem(undefined, 'cert and key must be given together (mutual TLS)');
  tls.rejectUnknownKeys();
  return settings;
}
