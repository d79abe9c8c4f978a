import { afterAll, describe, expect, it } from 'vitest';
import type { EventType } from '../../../src/event/patient-event.js';
import { createEventDecoder } from '../../../src/event/decode-event.js';
import { buildMessages } from '../../../src/mapping/build-messages.js';
import {
  ALLOWED_TRIGGERS,
  SEND_AS_PRESETS,
  SUPPORTED_TRIGGERS,
  type Hl7Version,
  type SendAs,
  type Trigger,
  type TriggerCell,
} from '../../../src/mapping/profile.js';
import { validateMessage, withoutRepetitions, type ValidationError } from '../../helpers/hl7-validator/index.js';
import { MARCH_15, acmeProfile } from '../mapping/mapping-fixtures.js';
import { eventsFor, hostileCases, REFUSED_BY_ENVELOPE } from './corpus-events.js';

/**
 * The generated conformance corpus (issue 12 item 6): every trigger x every version x
 * SendAs preset x hostile event (corpus-events.ts), each message judged by the validator
 * for its own MSH-12 version. It must have 0 errors (beyond exceptions.ts). A summary line
 * `corpus: N messages, E errors (by rule: ...)` is printed after the run.
 *
 * Each event is built with its SendAs preset as is (Client skips delete, Server sends A38)
 * and with every other trigger its type allows (ALLOWED_TRIGGERS), set by overriding that
 * type's cell of the preset, as a subscription's `triggers` does.
 */

/** 2.4, 2.5.1 and 2.6 are cast until the lead's change extends Hl7Version (issue 12 item 1). */
const CORPUS_VERSIONS = ['2.3.1', '2.4', '2.5', '2.5.1', '2.6'] as const;
const SEND_AS: readonly SendAs[] = ['Client', 'Server'];

/**
 * The trigger-table cells an event of `type` is built with under a SendAs preset: the
 * preset's own cell (possibly `skip`: then nothing may be built), then every other
 * trigger the type allows, as a subscription's `triggers` override would set it.
 */
function cellsFor(sendAs: SendAs, type: EventType): TriggerCell[] {
  const preset = SEND_AS_PRESETS[sendAs][type];
  return [preset, ...ALLOWED_TRIGGERS[type].filter((t: Trigger) => t !== preset)];
}

interface Finding extends ValidationError {
  version: string;
  where: string;
}

interface Corpus {
  messages: number;
  findings: Finding[];
  /** Inputs the mapper threw on or skipped: `case/type/trigger/version: reason`. */
  failures: string[];
  /** `trigger@version` pairs that produced at least one message. */
  covered: Set<string>;
  /** Cases whose events the envelope decoder (src/event/decode-event.ts) refuses: they never reach the mapper. */
  refused: Set<string>;
}

function buildCorpus(): Corpus {
  const corpus: Corpus = { messages: 0, findings: [], failures: [], covered: new Set(), refused: new Set() };
  const decode = createEventDecoder({ maxMessageBytes: 16 * 1024 * 1024 });
  const cases = hostileCases();
  const replaced = ['no name', 'long values'].map((n) => {
    const found = cases.find((c) => c.name === n);
    if (!found) throw new Error(`corpus case ${n} missing`);
    return found.patient;
  });
  for (const sendAs of SEND_AS) {
    for (const version of CORPUS_VERSIONS) {
      for (const c of cases) {
        for (const candidate of eventsFor(c, replaced)) {
          const decoded = decode(Buffer.from(JSON.stringify(candidate)));
          if (!decoded.ok) {
            corpus.refused.add(c.name);
            continue;
          }
          const event = decoded.event;
          for (const cell of cellsFor(sendAs, event.type)) {
            const where = `${c.name}/${event.type}/${cell}/${version}/${sendAs}`;
            try {
              const triggers = { ...SEND_AS_PRESETS[sendAs], [event.type]: cell };
              const result = buildMessages(event, acmeProfile({ version: version as Hl7Version, triggers }), MARCH_15);
              if (result.kind !== 'messages') {
                if (cell !== 'skip') corpus.failures.push(`${where}: skipped (${result.reason})`);
                continue;
              }
              if (cell === 'skip') corpus.failures.push(`${where}: messages for a skip cell`);
              for (const m of result.messages) {
                corpus.messages++;
                corpus.covered.add(`${m.trigger}@${version}`);
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

/**
 * Findings grouped by path (repetitions folded), rule and kind of detail, most frequent first:
 * `count path rule [versions]: example detail (e.g. case/type/trigger/version/SendAs)`.
 */
function groupFindings(findings: readonly Finding[]): string[] {
  const groups = new Map<string, { count: number; versions: Set<string>; example: Finding }>();
  for (const f of findings) {
    // The detail without its numbers separates kinds (`"N" not in table` vs `"TEMP" ...`),
    // not lengths or versions.
    const key = `${withoutRepetitions(f.path)} ${f.rule}\u0000${f.detail.replace(/ (?:of|in) v[\d.]+|0x[0-9A-F]{2}/g, '').replace(/\d+/g, '#')}`;
    const g = groups.get(key) ?? { count: 0, versions: new Set<string>(), example: f };
    g.count++;
    g.versions.add(f.version);
    groups.set(key, g);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
    .map(([key, g]) => `${g.count} ${key.split('\u0000')[0] ?? ''} [${[...g.versions].join(' ')}]: ${g.example.detail} (e.g. ${g.example.where})`);
}

function summaryLine(corpus: Corpus): string {
  const byRule = new Map<string, number>();
  for (const f of corpus.findings) byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);
  const rules = [...byRule.entries()].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
  return `corpus: ${corpus.messages} messages, ${corpus.findings.length} errors (by rule: ${rules.join(', ') || 'none'})`;
}

describe('conformance corpus', () => {
  const corpus = buildCorpus();

  afterAll(() => {
    console.log(summaryLine(corpus));
  });

  it('covers every trigger in every version', () => {
    const expected = SUPPORTED_TRIGGERS.flatMap((t) => CORPUS_VERSIONS.map((v) => `${t}@${v}`));
    expect([...corpus.covered].sort()).toEqual(expected.sort());
    expect(corpus.messages).toBeGreaterThan(1000);
  });

  it('the envelope refuses only the event without a usable identifier; every other one reaches the mapper', () => {
    expect([...corpus.refused]).toEqual([REFUSED_BY_ENVELOPE]);
  });

  it('the mapper builds every corpus event without throwing or skipping', () => {
    expect(corpus.failures).toEqual([]);
  });

  it('every message is valid for its HL7 version (0 errors)', () => {
    expect(groupFindings(corpus.findings)).toEqual([]);
  });
});
