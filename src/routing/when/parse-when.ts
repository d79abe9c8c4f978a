import type {
  AgeComparator, ComparisonOperator, PathSegment, ValueNode, WhenError, WhenExpression, WhenPath,
} from './ast.js';
import { parseIsoDuration, type IsoDuration } from './duration.js';
import { isSpace, scanValue } from './scan-value.js';

/**
 * Hand-written scanner/parser for one When Criteria entry. Grammar (docs/WHEN-CRITERIA.md):
 *
 *   expression  = ws path ws operator value
 *   path        = segment { "." segment }
 *   segment     = name [ "[" digit { digit } "]" ]
 *   name        = ( letter | "_" ) { letter | digit | "_" }
 *   operator    = "=" | "=!" | "<" | ">" | "<=" | ">=" | "=:(age)" comparator
 *   comparator  = "<" | ">" | "<=" | ">="
 *   value       = alternative { "|" alternative }     (alternatives trimmed, never empty)
 *   alternative = { char | "\" any-char }
 *
 * The operator is read as the longest run of the characters `= ! < > ~ :`, then checked, so
 * `==`, `!=`, `=~`, `=<` are reported as unknown operators instead of silently becoming part
 * of the value. A value that starts with one of those characters escapes it (`=\=x`).
 *
 * Errors carry the 0-based column of the problem. Scanning goes on after an error where the
 * rest can still be read (a bad path is skipped up to the operator; every bad alternative is
 * reported), so one pass reports everything wrong with the entry.
 */

export type ParseWhenResult =
  | { readonly ok: true; readonly expression: WhenExpression }
  | { readonly ok: false; readonly errors: WhenError[] };

export function parseWhenExpression(expression: string, index: number): ParseWhenResult {
  if (typeof expression !== 'string') {
    return { ok: false, errors: [whenError(String(expression), index, 0, 'expression must be a string')] };
  }
  return new WhenParser(expression, index).parse();
}

export function whenError(expression: string, index: number, position: number, reason: string): WhenError {
  return {
    expression, index, position, reason,
    message: `invalid when expression "${expression}" at column ${position}: ${reason}`,
  };
}

const OPERATOR_SYNTAX = '=, =!, <, >, <=, >= or =:(age)';

const COMPARISON_OPERATORS: ReadonlySet<string> = new Set(['=', '=!', '<', '>', '<=', '>=']);
const AGE_COMPARATORS: ReadonlySet<string> = new Set(['<', '>', '<=', '>=']);

const OPERATOR_HINTS: Readonly<Record<string, string>> = {
  '==': 'use = for equals',
  '!=': 'use =! for not equals',
  '!': 'use =! for not equals',
  '=<': 'use <= for less than or equal',
  '=>': 'use >= for greater than or equal',
  '<>': 'use =! for not equals',
  '=~': 'pattern matching is not supported',
  '~': 'pattern matching is not supported',
};

function isOperatorChar(c: number): boolean {
  // = ! < > ~ :
  return c === 0x3d || c === 0x21 || c === 0x3c || c === 0x3e || c === 0x7e || c === 0x3a;
}

function isNameStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

function isNamePart(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

type ParsedOperator =
  | { readonly kind: 'comparison'; readonly operator: ComparisonOperator }
  | { readonly kind: 'age'; readonly comparator: AgeComparator };

class WhenParser {
  private pos = 0;
  private readonly errors: WhenError[] = [];

  constructor(
    private readonly src: string,
    private readonly index: number,
  ) {}

  parse(): ParseWhenResult {
    this.skipSpace();
    if (this.pos === this.src.length) {
      this.fail(0, 'empty expression');
      return this.failed();
    }
    const path = this.parsePath();
    this.skipSpace();
    const operator = this.parseOperator();
    if (operator === undefined) return this.failed();
    const values = this.parseValue(
      operator.kind === 'age'
        ? 'missing ISO 8601 duration after the comparator'
        : 'empty value: write the value to compare with after the operator',
    );

    if (operator.kind === 'age') {
      const durations: Array<ValueNode & { duration: IsoDuration }> = [];
      for (const value of values) {
        const duration = parseIsoDuration(value.text);
        if (duration === undefined) this.fail(value.position, `bad ISO 8601 duration "${value.text}"`);
        else durations.push({ ...value, duration });
      }
      if (path === undefined || this.errors.length > 0) return this.failed();
      return { ok: true, expression: { kind: 'age', source: this.src, path, comparator: operator.comparator, durations } };
    }
    if (path === undefined || this.errors.length > 0) return this.failed();
    return { ok: true, expression: { kind: 'comparison', source: this.src, path, operator: operator.operator, values } };
  }

  // ---- path ---------------------------------------------------------------------------

  /** `undefined` after reporting an error; the position is then moved to the operator. */
  private parsePath(): WhenPath | undefined {
    const start = this.pos;
    if (isOperatorChar(this.code())) {
      this.fail(start, 'empty path');
      return undefined;
    }
    const segments: PathSegment[] = [];
    for (;;) {
      const segmentStart = this.pos;
      const c = this.code();
      if (!isNameStart(c)) {
        if (this.atEnd() || c === 0x2e /* . */ || c === 0x5b /* [ */ || isOperatorChar(c) || isSpace(c)) {
          this.fail(segmentStart, 'empty path segment');
        } else {
          this.fail(segmentStart, `bad path segment "${this.segmentText(segmentStart)}": must start with a letter or "_"`);
        }
        return this.skipToOperator();
      }
      while (isNamePart(this.code())) this.pos++;
      const name = this.src.slice(segmentStart, this.pos);

      let index: number | undefined;
      if (this.code() === 0x5b /* [ */) {
        const open = this.pos;
        this.pos++;
        const digitsStart = this.pos;
        while (isDigit(this.code())) this.pos++;
        if (this.pos === digitsStart || this.code() !== 0x5d /* ] */ || this.pos - digitsStart > 9) {
          this.fail(open, `bad array index in path segment "${this.segmentText(segmentStart)}": expected [n] with n a non-negative integer`);
          return this.skipToOperator();
        }
        index = Number(this.src.slice(digitsStart, this.pos));
        this.pos++;
      }
      segments.push({ name, index });

      const next = this.code();
      if (next === 0x2e /* . */) {
        this.pos++;
        continue;
      }
      if (this.atEnd() || isSpace(next) || isOperatorChar(next)) break;
      this.fail(
        this.pos,
        `bad path segment "${this.segmentText(segmentStart)}": unexpected character "${this.charAt(this.pos)}"`,
      );
      return this.skipToOperator();
    }
    return { text: this.src.slice(start, this.pos), position: start, segments };
  }

  /** The whole (bad) segment starting at `from`, for messages: up to `.`, space or operator. */
  private segmentText(from: number): string {
    let end = from;
    while (end < this.src.length) {
      const c = this.src.charCodeAt(end);
      if (c === 0x2e || isSpace(c) || isOperatorChar(c)) break;
      end++;
    }
    return this.src.slice(from, end);
  }

  private skipToOperator(): undefined {
    while (!this.atEnd() && !isOperatorChar(this.code())) this.pos++;
    return undefined;
  }

  // ---- operator -----------------------------------------------------------------------

  private parseOperator(): ParsedOperator | undefined {
    const start = this.pos;
    if (this.atEnd()) {
      this.fail(start, `missing operator: expected ${OPERATOR_SYNTAX} and a value after the path`);
      return undefined;
    }
    if (!isOperatorChar(this.code())) {
      this.fail(start, `expected an operator (${OPERATOR_SYNTAX}) but found "${this.charAt(start)}"`);
      return undefined;
    }
    const run = this.readOperatorRun();
    if (COMPARISON_OPERATORS.has(run)) return { kind: 'comparison', operator: run as ComparisonOperator };
    if (run === '=:') return this.parseVariable(start);
    const hint = OPERATOR_HINTS[run];
    this.fail(start, `unknown operator "${run}"${hint === undefined ? `: expected ${OPERATOR_SYNTAX}` : `: ${hint}`}`);
    return undefined;
  }

  private readOperatorRun(): string {
    const start = this.pos;
    while (isOperatorChar(this.code())) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** After `=:`: `(age)` and a comparator. */
  private parseVariable(operatorStart: number): ParsedOperator | undefined {
    if (this.code() !== 0x28 /* ( */) {
      this.fail(operatorStart, 'unknown operator "=:": a variable expression is written =:(age) followed by <, >, <= or >=');
      return undefined;
    }
    const nameStart = this.pos + 1;
    const close = this.src.indexOf(')', nameStart);
    if (close < 0) {
      this.fail(this.pos, 'unterminated variable expression: missing ")"');
      return undefined;
    }
    const name = this.src.slice(nameStart, close);
    if (name !== 'age') {
      this.fail(nameStart, `unknown variable "(${name})": only (age) is supported`);
      return undefined;
    }
    this.pos = close + 1;
    const comparatorStart = this.pos;
    const comparator = this.readOperatorRun();
    if (AGE_COMPARATORS.has(comparator)) return { kind: 'age', comparator: comparator as AgeComparator };
    this.fail(
      comparatorStart,
      comparator === ''
        ? '(age) must be followed by <, >, <= or >= and an ISO 8601 duration'
        : `unknown operator "${comparator}" after (age): expected <, >, <= or >=`,
    );
    return undefined;
  }

  // ---- value (scan-value.ts) ---------------------------------------------------------

  private parseValue(emptyReason: string): ValueNode[] {
    return scanValue(this.src, this.pos, emptyReason, (position, reason) => this.fail(position, reason));
  }

  // ---- helpers ------------------------------------------------------------------------

  private code(): number {
    return this.src.charCodeAt(this.pos); // NaN at the end, which no predicate accepts
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private charAt(at: number): string {
    return String.fromCodePoint(this.src.codePointAt(at) ?? 0);
  }

  private skipSpace(): void {
    while (isSpace(this.code())) this.pos++;
  }

  /** Errors in column order (value errors are found in two passes). */
  private failed(): ParseWhenResult {
    return { ok: false, errors: [...this.errors].sort((a, b) => a.position - b.position) };
  }

  private fail(position: number, reason: string): void {
    this.errors.push(whenError(this.src, this.index, position, reason));
  }
}
