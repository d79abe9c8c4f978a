import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import type { PatientEvent } from '../../../src/event/patient-event.js';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import { PACKAGE_ROOT } from '../../../src/package-paths.js';
import { assertValidHl7 } from '../../helpers/hl7-validator/index.js';
import { MARCH_15 } from './mapping-fixtures.js';

/**
 * Golden files of the receiver-profile cookbook (examples/cookbook.json, README "Fitting a
 * receiver"): each subscription's profile applied to the example events, exact HL7 out.
 * `UPDATE_GOLDEN=1` rewrites them (review the diff).
 */

const config = loadConfig({ configFile: join(PACKAGE_ROOT, 'examples', 'cookbook.json'), env: {} });
const EVENTS = ['01-create', '03-merge', '06-two-identifiers'];
const event = (name: string): PatientEvent => JSON.parse(readFileSync(join(PACKAGE_ROOT, 'examples', 'events', `${name}.json`), 'utf8')) as PatientEvent;

describe('receiver profile golden files', () => {
  for (const subscription of config.subscriptions) {
    it(`${subscription.name}`, () => {
      const rendered: string[] = [];
      for (const name of EVENTS) {
        const result = buildMessages(event(name), subscription.mapping, MARCH_15);
        if (result.kind !== 'messages') {
          rendered.push(`# ${name}: ${result.kind} (${result.reason})`);
          continue;
        }
        for (const message of result.messages) {
          assertValidHl7(message.text);
          rendered.push(`# ${name}\n${message.text.replaceAll('\r', '\n')}`);
        }
      }
      const file = join(PACKAGE_ROOT, 'test', 'golden', 'profiles', `${subscription.name}.hl7`);
      const text = `${rendered.join('\n')}\n`;
      if (process.env['UPDATE_GOLDEN']) writeFileSync(file, text);
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});
