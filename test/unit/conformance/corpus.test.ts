import { afterAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../../src/event/patient-event.js';
import { createEventDecoder } from '../../../src/event/decode-event.js';
import type { Charset } from '../../../src/hl7/charset.js';
import { HL7_VERSIONS, type Hl7Version } from '../../../src/hl7/versions.js';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import {
  ALLOWED_TRIGGERS,
  SEND_AS_PRESETS,
  SUPPORTED_TRIGGERS,
  type MappingProfile,
  type SendAs,
  type Trigger,
  type TriggerCell,
} from '../../../src/mapping/profile.js';
import { validateMessage } from '../../helpers/hl7-validator/index.js';
import { MARCH_15, acmeProfile } from '../mapping/mapping-fixtures.js';
import { groupFindings, summaryLine, type Corpus } from './corpus-report.js';
import { envelopeRefusedCase, eventsFor, hostileCases, HOSTILE_VALUES, NOT_ASCII_CASES, REFUSED_BY_ENVELOPE } from './corpus-events.js';

/**
 * The generated conformance corpus (issue 12 item 6): every trigger x every version x
 * profile variant (SendAs preset, `Unrepresentable`, `Lengths`) x hostile event
 * (corpus-events.ts), each message judged by the validator for its own MSH-12 version.
 * The other charsets, their bytes and MSH-18 are the subject of corpus-charsets.test.ts.
 * It must have 0 errors (beyond exceptions.ts). A summary line
 * `corpus: N messages, E errors (by rule: ...)` is printed after the run.
 *
 * Events first pass the real envelope decoder, as in the daemon, so the mapper only sees
 * what it would see in production. Each event is built with its SendAs preset as is
 * (Client skips delete, Server sends A38) and with every other trigger its type allows
 * (ALLOWED_TRIGGERS), set by overriding that type's cell of the preset, as a
 * subscription's `triggers` does.
 */

type Variant = Pick<MappingProfile, 'charset' | 'unrepresentable' | 'lengths'> & { sendAs: SendAs; versions: readonly Hl7Version[] };

const variant = (sendAs: SendAs, charset: Charset, unrepresentable: Variant['unrepresentable'] = 'replace'): Variant => ({
  sendAs,
  charset,
  unrepresentable,
  lengths: 'truncate',
  versions: HL7_VERSIONS,
});

/**
 * The variants that must give 0 errors: both presets in UTF-8, and ASCII with
 * `Unrepresentable: reject` (the other charsets with `replace`: corpus-charsets.test.ts).
 */
const VARIANTS: readonly Variant[] = [variant('Client', 'UTF-8'), variant('Server', 'UTF-8'), variant('Client', 'ASCII', 'reject')];

/**
 * `Lengths: keep` sends values as they are: its messages may break lengths, and nothing
 * else. Two versions suffice (2.3.1: field lengths only; 2.5: component lengths too).
 */
const KEEP: Variant = { ...variant('Client', 'UTF-8'), lengths: 'keep', versions: ['2.3.1', '2.5'] };

function cellsFor(sendAs: SendAs, type: EventType): TriggerCell[] {
  const preset = SEND_AS_PRESETS[sendAs][type];
  return [preset, ...ALLOWED_TRIGGERS[type].filter((t: Trigger) => t !== preset)];
}

function buildCorpus(variants: readonly Variant[]): Corpus {
  const corpus: Corpus = { messages: 0, findings: [], failures: [], covered: new Set(), refused: new Set(), invalid: [] };
  const decode = createEventDecoder({ maxMessageBytes: 16 * 1024 * 1024 });
  const cases = [...hostileCases(), envelopeRefusedCase()];
  const replaced = ['no name', 'long values'].map((n) => {
    const found = cases.find((c) => c.name === n);
    if (!found) throw new Error(`corpus case ${n} missing`);
    return found.patient;
  });
  for (const v of variants) {
    for (const version of v.versions) {
      for (const c of cases) {
        for (const candidate of eventsFor(c, replaced)) {
          const decoded = decode(Buffer.from(JSON.stringify(candidate)));
          if (!decoded.ok) {
            corpus.refused.add(c.name);
            continue;
          }
          const event = decoded.event;
          for (const cell of cellsFor(v.sendAs, event.type)) {
            const where = `${c.name}/${event.type}/${cell}/${version}/${v.sendAs}/${v.charset}/${v.unrepresentable}`;
            const triggers = { ...SEND_AS_PRESETS[v.sendAs], [event.type]: cell };
            const profile = acmeProfile({ version, triggers, charset: v.charset, unrepresentable: v.unrepresentable, lengths: v.lengths });
            try {
              const result = buildMessages(event, profile, MARCH_15);
              if (result.kind === 'invalid') {
                corpus.invalid.push({ case: c.name, reason: result.reason, where, expected: v.unrepresentable === 'reject' });
                continue;
              }
              if (result.kind === 'skipped') {
                if (cell !== 'skip') corpus.failures.push(`${where}: skipped (${result.reason})`);
                continue;
              }
              if (cell === 'skip') corpus.failures.push(`${where}: messages for a skip cell`);
              for (const m of result.messages) {
                corpus.messages++;
                corpus.covered.add(`${m.trigger}@${version}@${v.charset}`);
                for (const e of validateMessage(m.text)) corpus.findings.push({ ...e, version, where });
              }
            } catch (error) {
              corpus.failures.push(`${where}: threw ${error instanceof Error ? error.message : String(error)}`);
            }
          }
        }
      }
    }
  }
  return corpus;
}

describe('conformance corpus', () => {
  const corpus = buildCorpus(VARIANTS);

  afterAll(() => {
    console.log(summaryLine(corpus));
  });

  it('covers every trigger in every version and charset', () => {
    const charsets = [...new Set(VARIANTS.map((v) => v.charset))];
    const expected = SUPPORTED_TRIGGERS.flatMap((t) => HL7_VERSIONS.flatMap((v) => charsets.map((c) => `${t}@${v}@${c}`)));
    expect([...corpus.covered].sort()).toEqual(expected.sort());
    expect(corpus.messages).toBeGreaterThan(5_000);
  });

  it('the envelope refuses only the event without a usable identifier; every other one reaches the mapper', () => {
    expect([...corpus.refused]).toEqual([REFUSED_BY_ENVELOPE]);
  });

  it('the mapper builds every corpus event without throwing or skipping', () => {
    expect(corpus.failures).toEqual([]);
    expect(corpus.invalid.filter((i) => !i.expected).map((i) => `${i.where}: ${i.reason}`)).toEqual([]);
  });

  it('Unrepresentable reject refuses exactly the events with characters ASCII cannot hold, naming a field, never a value', () => {
    const rejected = corpus.invalid.filter((i) => i.expected);
    expect([...new Set(rejected.map((i) => i.case))].sort()).toEqual([...NOT_ASCII_CASES].sort());
    for (const { reason } of rejected) {
      expect(reason).toMatch(/[A-Z][A-Z0-9]{2}-\d+/);
      for (const value of HOSTILE_VALUES) expect(reason).not.toContain(value);
    }
  });

  it('every message is valid for its HL7 version (0 errors)', () => {
    expect(groupFindings(corpus.findings)).toEqual([]);
  });
});

describe('conformance corpus with Lengths: keep', () => {
  const corpus = buildCorpus([KEEP]);

  it('breaks lengths (values are sent as they are), and nothing else', () => {
    expect(corpus.findings.length).toBeGreaterThan(0);
    expect(groupFindings(corpus.findings.filter((f) => f.rule !== 'length'))).toEqual([]);
    expect(corpus.failures).toEqual([]);
  });
});
