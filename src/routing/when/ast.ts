import type { IsoDuration } from './duration.js';

/** The syntax tree of one When Criteria entry (`[path][operator][value]`). */

export type ComparisonOperator = '=' | '=!' | '<' | '>' | '<=' | '>=';
export type AgeComparator = '<' | '>' | '<=' | '>=';

export interface PathSegment {
  /** Property name, `[A-Za-z_][A-Za-z0-9_]*`. */
  readonly name: string;
  /** `name[2]`: only that element of the array; `undefined`: the property as a whole. */
  readonly index: number | undefined;
}

export interface WhenPath {
  readonly text: string;
  readonly position: number;
  readonly segments: readonly PathSegment[];
}

/** One `|`-separated alternative: unescaped, surrounding whitespace trimmed, never empty. */
export interface ValueNode {
  readonly text: string;
  /** Column (0-based) of its first character in the expression. */
  readonly position: number;
}

export interface ComparisonExpression {
  readonly kind: 'comparison';
  readonly source: string;
  readonly path: WhenPath;
  readonly operator: ComparisonOperator;
  readonly values: readonly ValueNode[];
}

export interface AgeExpression {
  readonly kind: 'age';
  readonly source: string;
  readonly path: WhenPath;
  readonly comparator: AgeComparator;
  readonly durations: ReadonlyArray<ValueNode & { readonly duration: IsoDuration }>;
}

export type WhenExpression = ComparisonExpression | AgeExpression;

export interface WhenError {
  /** The entry as written. */
  expression: string;
  /** Index of the entry in the subscription's `when` list. */
  index: number;
  /** 0-based column of the problem in `expression`. */
  position: number;
  reason: string;
  /** `invalid when expression "<expression>" at column <position>: <reason>` */
  message: string;
}
