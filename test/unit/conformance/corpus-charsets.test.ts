import { afterAll, describe, expect, it } from 'vitest';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import { ALLOWED_TRIGGERS, SEND_AS_PRESETS, SUPPORTED_TRIGGERS, type SendAs } from '../../../src/mapping/profile.js';
import { CHARSETS, decodeText, encodeText, type Charset } from '../../../src/hl7/charset.js';
import { HL7_VERSIONS, type Hl7Version } from '../../../src/hl7/versions.js';
import { formatErrors, validateMessage } from '../../helpers/hl7-validator/index.js';
import { MARCH_15, acmeProfile } from '../mapping/mapping-fixtures.js';
import { eventsFor, hostileCases } from './corpus-events.js';

/**
 * The conformance corpus in every charset (README "Versions, character sets and lengths"):
 * every trigger x version x SendAs x charset x hostile event (corpus-events.ts). Each message
 * must pass the validator for its own version, survive its charset byte for byte (encoded
 * and decoded back it is the same text: nothing the charset cannot hold is left), and carry
 * the MSH-18 of table 0211 for its charset and version, or none when it is plain ASCII.
 */

const SEND_AS: readonly SendAs[] = ['Client', 'Server'];

/** What MSH-18 must be, written here from table 0211 of each version (not from src/). */
function expectedMsh18(charset: Charset, version: Hl7Version, text: string): string {
  if (!/[^\x00-\x7f]/.test(text)) return '';
  if (charset === 'ISO-8859-1' || charset === 'Windows-1252') return '8859/1';
  if (charset === 'UTF-8') return version === '2.3.1' || version === '2.4' ? 'UNICODE' : 'UNICODE UTF-8';
  return 'none expected: ASCII text only';
}

interface Problem {
  where: string;
  problem: string;
}

function buildCorpus(): { messages: number; problems: Problem[] } {
  let messages = 0;
  const problems: Problem[] = [];
  const cases = hostileCases();
  const replaced = cases.filter((c) => c.name === 'no name' || c.name === 'long values').map((c) => c.patient);
  for (const charset of CHARSETS) {
    for (const version of HL7_VERSIONS) {
      for (const sendAs of SEND_AS) {
        for (const c of cases) {
          for (const event of eventsFor(c, replaced)) {
            for (const trigger of SUPPORTED_TRIGGERS) {
              if (!ALLOWED_TRIGGERS[event.type].includes(trigger)) continue;
              const where = `${c.name}/${event.type}/${trigger}/${version}/${sendAs}/${charset}`;
              const profile = acmeProfile({ version, charset, triggers: { ...SEND_AS_PRESETS[sendAs], [event.type]: trigger } });
              const result = buildMessages(event, profile, MARCH_15);
              if (result.kind !== 'messages') {
                problems.push({ where, problem: `${result.kind}: ${result.reason}` });
                continue;
              }
              for (const m of result.messages) {
                messages++;
                const errors = validateMessage(m.text);
                if (errors.length > 0) problems.push({ where, problem: formatErrors(errors) });
                if (decodeText(encodeText(m.text, charset), charset) !== m.text) problems.push({ where, problem: `not representable in ${charset}` });
                const msh18 = m.text.split('\r')[0]!.split('|')[17] ?? '';
                if (msh18 !== expectedMsh18(charset, version, m.text)) problems.push({ where, problem: `MSH-18 "${msh18}"` });
              }
            }
          }
        }
      }
    }
  }
  return { messages, problems };
}

describe('conformance corpus in every charset', () => {
  const corpus = buildCorpus();
  afterAll(() => console.log(`corpus (charsets): ${corpus.messages} messages, ${corpus.problems.length} problems`));

  it('covers every charset with thousands of messages', () => {
    expect(corpus.messages).toBeGreaterThan(CHARSETS.length * 1000);
  });

  it('every message is valid, representable in its charset, with the right MSH-18', () => {
    expect(corpus.problems.slice(0, 20)).toEqual([]);
  });
});
