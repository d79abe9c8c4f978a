import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PatientEvent } from '../../../src/event/patient-event.js';
import type { OutboundMessage } from '../../../src/mapping/profile.js';
import { SEND_AS_PRESETS, type BuildTime, type MappingProfile, type TriggerTable } from '../../../src/mapping/profile.js';
import { HL7_VERSIONS } from '../../../src/hl7/versions.js';

/** Shared inputs of the mapping tests: fixture events, profiles, fixed build times, goldens. */

const root = (relative: string): string => fileURLToPath(new URL(`../../../${relative}`, import.meta.url));

export function loadEvent(name: string): PatientEvent {
  return JSON.parse(readFileSync(root(`test/fixtures/events/${name}.json`), 'utf8')) as PatientEvent;
}

/** The profile of the example messages (docs/CODE-MAPPINGS.md): ACME_EHR|ACME_HOSP -> PIX_MGR|REGION_HIE, v2.5, SendAs Client. */
export function acmeProfile(overrides: Partial<MappingProfile> = {}): MappingProfile {
  return {
    subscription: 'pix-feed',
    sendingApplication: 'ACME_EHR',
    sendingFacility: 'ACME_HOSP',
    receivingApplication: 'PIX_MGR',
    receivingFacility: 'REGION_HIE',
    version: '2.5',
    charset: 'UTF-8',
    unrepresentable: 'replace',
    lengths: 'truncate',
    processingId: 'P',
    triggers: SEND_AS_PRESETS.Client,
    assigningAuthorities: {
      'urn:oid:1.2.3.4.5.6.2': 'NATID',
      'urn:oid:1.2.3.4.5.6.1': 'ACME_MPI',
      'urn:oid:1.2.3': 'ACME_VISITS',
    },
    ...overrides,
  };
}

export function triggers(overrides: Partial<TriggerTable>, base: TriggerTable = SEND_AS_PRESETS.Client): TriggerTable {
  return { ...base, ...overrides };
}

/** Example A01: 20260315143022+0100. */
export const MARCH_15: BuildTime = { now: new Date('2026-03-15T13:30:22Z'), utcOffsetMinutes: 60 };
/** Example A40: 20260405110000+0200. */
export const APRIL_5: BuildTime = { now: new Date('2026-04-05T09:00:00Z'), utcOffsetMinutes: 120 };
/** A zone west of UTC: 20260316080530-0500. */
export const MARCH_16_EST: BuildTime = { now: new Date('2026-03-16T13:05:30Z'), utcOffsetMinutes: -300 };

/**
 * Golden files hold the expected messages with `\n` after each segment instead of the `\r`
 * that goes on the wire (so they read and diff well), and a blank line between the
 * messages of one event. This returns the messages as they must be sent (`\r`).
 */
export function readGolden(name: string): string[] {
  const content = readFileSync(root(`test/golden/${name}.hl7`), 'utf8');
  if (content.includes('\r')) throw new Error(`golden ${name} must use \\n line ends, not \\r`);
  return content.split('\n\n').map((chunk) => (chunk.endsWith('\n') ? chunk : `${chunk}\n`).replaceAll('\n', '\r'));
}

/** The golden-file form of built messages (inverse of readGolden). */
export function toGoldenText(messages: readonly OutboundMessage[]): string {
  return messages.map((m) => m.text.replaceAll('\r', '\n')).join('\n');
}

/** Rewrites a golden file from built messages (`UPDATE_GOLDEN=1`, see the golden test). */
export function writeGolden(name: string, messages: readonly OutboundMessage[]): void {
  writeFileSync(root(`test/golden/${name}.hl7`), toGoldenText(messages));
}

/** Segments of a message text, `\r`-separated, without the final empty string. */
export function segmentsOf(text: string): string[] {
  return text.split('\r').filter((s) => s !== '');
}

export interface GoldenCase {
  /** Golden file stem; the files are `test/golden/<golden>.<version>.hl7`. */
  golden: string;
  fixture: string;
  /** Replaces the fixture's event type (to reach create-only overrides with the full patient). */
  type?: PatientEvent['type'];
  profile: Partial<MappingProfile>;
  time: BuildTime;
  /** Expected trigger and number of messages. */
  trigger: OutboundMessage['trigger'];
  count: number;
}

/** Every trigger, each built in every HL7 version by the golden and round-trip tests. */
export const GOLDEN_CASES: readonly GoldenCase[] = [
  { golden: 'a01-anne', fixture: 'create-anne', profile: {}, time: MARCH_15, trigger: 'A01', count: 1 },
  { golden: 'a01-special-chars', fixture: 'create-special-chars', profile: {}, time: MARCH_15, trigger: 'A01', count: 1 },
  { golden: 'a04-full', fixture: 'update-full', type: 'create', profile: { triggers: triggers({ create: 'A04' }) }, time: MARCH_16_EST, trigger: 'A04', count: 1 },
  { golden: 'a08-full', fixture: 'update-full', profile: { security: 's3cret', processingId: 'T' }, time: MARCH_16_EST, trigger: 'A08', count: 1 },
  { golden: 'a28-full', fixture: 'update-full', type: 'create', profile: { triggers: triggers({ create: 'A28' }) }, time: MARCH_16_EST, trigger: 'A28', count: 1 },
  { golden: 'a31-full', fixture: 'update-full', profile: { triggers: triggers({ update: 'A31' }) }, time: MARCH_16_EST, trigger: 'A31', count: 1 },
  { golden: 'a38-delete', fixture: 'delete-visit', profile: { triggers: SEND_AS_PRESETS.Server }, time: MARCH_15, trigger: 'A38', count: 1 },
  { golden: 'a40-anne', fixture: 'merge-anne', profile: {}, time: APRIL_5, trigger: 'A40', count: 1 },
  { golden: 'a40-two-replaced', fixture: 'merge-two-replaced', profile: {}, time: APRIL_5, trigger: 'A40', count: 2 },
  { golden: 'a08-unmerge', fixture: 'unmerge', profile: { triggers: triggers({ unmerge: 'A08' }) }, time: APRIL_5, trigger: 'A08', count: 3 },
];

export const VERSIONS = HL7_VERSIONS;

export function eventOf(c: GoldenCase): PatientEvent {
  const event = loadEvent(c.fixture);
  return c.type ? { ...event, type: c.type } : event;
}
