import type { WhenError, WhenExpression } from './ast.js';
import { compileExpression } from './evaluate-when.js';
import { parseWhenExpression } from './parse-when.js';

/**
 * A subscription's `when` list (README "When Criteria", docs/WHEN-CRITERIA.md), compiled once at configuration load.
 * All entries are ANDed; an empty list matches every event. `now` is passed in (no clock
 * here) and only matters to `=:(age)`.
 */
export interface WhenCriteria {
  /** The entries as written, for logs and `check-config`. */
  readonly sources: readonly string[];
  matches(event: unknown, now: Date): boolean;
}

export type CompileWhenResult =
  | { ok: true; criteria: WhenCriteria }
  | { ok: false; errors: WhenError[] };

/**
 * Parses every entry and reports every error of every entry (in entry order, then column
 * order), never just the first; the caller turns them into a configuration error (exit 78)
 * naming the subscription.
 */
export function compileWhen(entries: readonly string[]): CompileWhenResult {
  const errors: WhenError[] = [];
  const expressions: WhenExpression[] = [];
  entries.forEach((entry, index) => {
    const parsed = parseWhenExpression(entry, index);
    if (parsed.ok) expressions.push(parsed.expression);
    else errors.push(...parsed.errors);
  });
  if (errors.length > 0) return { ok: false, errors };

  const predicates = expressions.map(compileExpression);
  const sources: readonly string[] = Object.freeze([...entries]);
  return {
    ok: true,
    criteria: {
      sources,
      matches(event: unknown, now: Date): boolean {
        const nowMs = now.getTime();
        for (const predicate of predicates) {
          if (!predicate.matches(event, nowMs)) return false;
        }
        return true;
      },
    },
  };
}
