import { withoutRepetitions, type ValidationError } from '../../helpers/hl7-validator/index.js';

/** What a corpus run collects (corpus.test.ts), and its report: a summary line and grouped findings. */

export interface Finding extends ValidationError {
  version: string;
  /** `case/type/trigger/version/SendAs/charset/unrepresentable`. */
  where: string;
}

export interface Corpus {
  messages: number;
  findings: Finding[];
  /** Inputs the mapper threw on or skipped: `where: reason`. */
  failures: string[];
  /** `trigger@version@charset` triples that produced at least one message. */
  covered: Set<string>;
  /** Cases whose events the envelope decoder (src/event/decode-event.ts) refuses: they never reach the mapper. */
  refused: Set<string>;
  /** Events the mapper refused as invalid (`expected` under `Unrepresentable: reject`). */
  invalid: { case: string; reason: string; where: string; expected: boolean }[];
}

/**
 * Findings grouped by path (repetitions folded), rule and kind of detail, most frequent
 * first: `count path rule [versions]: example detail (e.g. where)`. The detail without its
 * numbers, version and character code separates kinds (`"N" not in table` vs `"TEMP" ...`),
 * not lengths or versions.
 */
export function groupFindings(findings: readonly Finding[]): string[] {
  const groups = new Map<string, { count: number; versions: Set<string>; example: Finding }>();
  for (const f of findings) {
    const kind = f.detail.replace(/ (?:of|in) v[\d.]+|0x[0-9A-F]{2}/g, '').replace(/\d+/g, '#');
    const key = `${withoutRepetitions(f.path)} ${f.rule}\u0000${kind}`;
    const g = groups.get(key) ?? { count: 0, versions: new Set<string>(), example: f };
    g.count++;
    g.versions.add(f.version);
    groups.set(key, g);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
    .map(([key, g]) => `${g.count} ${key.split('\u0000')[0] ?? ''} [${[...g.versions].join(' ')}]: ${g.example.detail} (e.g. ${g.example.where})`);
}

/** `corpus: N messages, E errors (by rule: length 3, table 1)`. */
export function summaryLine(corpus: Corpus): string {
  const byRule = new Map<string, number>();
  for (const f of corpus.findings) byRule.set(f.rule, (byRule.get(f.rule) ?? 0) + 1);
  const rules = [...byRule.entries()].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`);
  return `corpus: ${corpus.messages} messages, ${corpus.findings.length} errors (by rule: ${rules.join(', ') || 'none'})`;
}
