import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Charset } from '../hl7/charset.js';
import { CHARSETS } from '../hl7/charset.js';
import { HL7_VERSIONS } from '../hl7/versions.js';
import type { Hl7Version, ProcessingId, SendAs } from '../mapping/profile.js';
import type { ObjectReader } from './object-reader.js';
import type { SubscriptionDefaults } from './subscription.js';

/**
 * A subscription's `settings` (README "Subscriptions"), the SanteDB-style dispatcher
 * settings: MSH-3..6, MSH-8, MSH-11, MSH-12, transport, SendAs, charset, lengths and the
 * acknowledgment mode's raw keys (read by delivery-settings.ts).
 */

export const SETTINGS_KEYS = [
  'MSH34',
  'MSH56',
  'MSH8',
  'MSH8File',
  'Transport',
  'SendAs',
  'Version',
  'ProcessingId',
  'Charset',
  'Unrepresentable',
  'Lengths',
  'AcceptAck',
  'ApplicationAck',
] as const;

export interface ResolvedSettings {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  security?: string;
  transport?: 'llp' | 'sllp';
  sendAs: SendAs;
  version: Hl7Version;
  charset: Charset;
  unrepresentable: 'replace' | 'reject';
  lengths: 'truncate' | 'keep';
  processingId: ProcessingId;
}

export function readSettings(sub: ObjectReader, defaults: SubscriptionDefaults): ResolvedSettings {
  const settings = sub.child('settings');
  const resolved: ResolvedSettings = {
    sendingApplication: defaults.sendingApplication,
    sendingFacility: defaults.sendingFacility,
    receivingApplication: '',
    receivingFacility: '',
    sendAs: 'Client',
    version: '2.5',
    charset: 'UTF-8',
    unrepresentable: 'replace',
    lengths: 'truncate',
    processingId: 'P',
  };
  if (!settings) return resolved;
  const msh34 = settings.string('MSH34');
  if (msh34 !== undefined) {
    const [application = '', facility = ''] = splitPair(msh34);
    if (!application) settings.problem('MSH34', 'must be "APPLICATION|FACILITY" with a non-empty application');
    resolved.sendingApplication = application;
    resolved.sendingFacility = facility;
  }
  const msh56 = settings.string('MSH56');
  if (msh56 !== undefined) {
    const [application = '', facility = ''] = splitPair(msh56);
    resolved.receivingApplication = application;
    resolved.receivingFacility = facility;
  }
  const msh8 = settings.string('MSH8');
  const msh8File = settings.string('MSH8File');
  if (msh8 !== undefined && msh8File !== undefined) settings.problem('MSH8File', 'cannot be combined with MSH8');
  if (msh8 !== undefined && msh8 !== '') resolved.security = msh8;
  if (msh8File) {
    try {
      resolved.security = readFileSync(resolvePath(defaults.baseDir, msh8File), 'utf8').trim();
    } catch (error) {
      settings.problem('MSH8File', `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const transport = settings.oneOf('Transport', ['llp', 'sllp'] as const);
  if (transport) resolved.transport = transport;
  resolved.sendAs = settings.oneOf('SendAs', ['Client', 'Server'] as const, 'Client');
  resolved.version = settings.oneOf('Version', HL7_VERSIONS, '2.5');
  resolved.charset = settings.oneOf('Charset', CHARSETS, 'UTF-8');
  resolved.unrepresentable = settings.oneOf('Unrepresentable', ['replace', 'reject'] as const, 'replace');
  resolved.lengths = settings.oneOf('Lengths', ['truncate', 'keep'] as const, 'truncate');
  resolved.processingId = settings.oneOf('ProcessingId', ['P', 'T', 'D'] as const, 'P');
  for (const key of Object.keys(sub.raw('settings') as object)) {
    if (!(SETTINGS_KEYS as readonly string[]).includes(key)) settings.problem(key, `is not a setting of hl7-pat-id-source (known: ${SETTINGS_KEYS.join(', ')})`);
  }
  return resolved;
}

function splitPair(value: string): [string, string] {
  const at = value.indexOf('|');
  return at === -1 ? [value.trim(), ''] : [value.slice(0, at).trim(), value.slice(at + 1).trim()];
}
