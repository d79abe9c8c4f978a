import type { AgeComparator, AgeExpression, ComparisonExpression, PathSegment, WhenExpression } from './ast.js';
import { relate, toLiteral, type Literal, type Relation, type Scalar } from './compare.js';
import { addDuration, type IsoDuration } from './duration.js';
import { MS_PER_DAY, parseFhirDate, type FhirDate } from './fhir-date.js';

/**
 * Evaluation of parsed When Criteria against a plain parsed JSON event (`unknown`: unknown
 * fields are allowed and may be filtered on).
 *
 * Paths: each segment is an own property of an object (never an inherited one, so
 * `constructor` or `__proto__` reach nothing). An array met anywhere — along the path or at
 * its end, nested at any depth — is entered element by element, and the entry holds if ANY
 * element leads to a matching leaf. `name[0]` takes only that element. Only strings, numbers
 * and booleans are compared; null, a missing property, an object or a scalar where the path
 * goes on are "no value there".
 *
 * `=`, `<`, `>`, `<=`, `>=` and `=:(age)`: true when some reached leaf satisfies some
 * alternative; false when the path reaches nothing.
 * `=!`: the negation of `=` — true when no reached leaf equals any alternative, hence true
 * when the path is missing (bounce prevention: `source.application=!X` passes events with
 * no source). Over an array that means "no element equals", not "some element differs".
 *
 * Everything a literal needs (numbers, dates, durations, split paths) is prepared here, at
 * compile time; evaluation allocates nothing but the parsed field dates.
 */

export interface EntryPredicate {
  readonly source: string;
  matches(event: unknown, nowMs: number): boolean;
}

interface LeafTest {
  test(leaf: Scalar, nowMs: number): boolean;
}

function hasOwn(value: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(value, key);
}

/** True when some leaf reached from `value` through `segments[i..]` passes `leafTest`. */
function anyLeaf(value: unknown, segments: readonly PathSegment[], i: number, leafTest: LeafTest, nowMs: number): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) {
    for (const element of value) {
      if (anyLeaf(element, segments, i, leafTest, nowMs)) return true;
    }
    return false;
  }
  const segment = segments[i];
  if (segment === undefined) {
    const type = typeof value;
    if (type === 'string' || type === 'number' || type === 'boolean') return leafTest.test(value as Scalar, nowMs);
    return false;
  }
  if (typeof value !== 'object' || !hasOwn(value, segment.name)) return false;
  let child = (value as Record<string, unknown>)[segment.name];
  if (segment.index !== undefined) {
    if (!Array.isArray(child) || segment.index >= child.length) return false;
    child = child[segment.index] as unknown;
  }
  return anyLeaf(child, segments, i + 1, leafTest, nowMs);
}

type RelationTest = (relation: Relation) => boolean;

const RELATION_TESTS: Readonly<Record<Exclude<ComparisonExpression['operator'], '=!'>, RelationTest>> = {
  '=': (r) => r === 0,
  '<': (r) => r < 0,
  '>': (r) => r > 0,
  '<=': (r) => r <= 0,
  '>=': (r) => r >= 0,
};

/** A leaf passes when its relation to some literal passes `accepts`. */
class LiteralLeafTest implements LeafTest {
  private readonly anyDate: boolean;

  constructor(
    private readonly literals: readonly Literal[],
    private readonly accepts: RelationTest,
  ) {
    this.anyDate = literals.some((literal) => literal.date !== undefined);
  }

  test(leaf: Scalar): boolean {
    const leafDate = this.anyDate && typeof leaf === 'string' ? parseFhirDate(leaf) : undefined;
    for (const literal of this.literals) {
      if (this.accepts(relate(leaf, literal, leafDate))) return true;
    }
    return false;
  }
}

/**
 * Age in calendar terms: the leaf (a FHIR date) is `duration` old at the instant
 * `addDuration(date, duration)`, so "age < D" is "now is before that instant". Values
 * without a time compare by whole UTC days: on the anniversary day itself the age is exactly
 * D (`<D` false, `<=D` and `>=D` true). Values with a time compare to the millisecond.
 * A leaf that is not a FHIR date (or not a string) has no age and never matches.
 */
class AgeLeafTest implements LeafTest {
  constructor(
    private readonly comparator: AgeComparator,
    private readonly durations: readonly IsoDuration[],
  ) {}

  test(leaf: Scalar, nowMs: number): boolean {
    if (typeof leaf !== 'string') return false;
    const date = parseFhirDate(leaf);
    if (date === undefined) return false;
    for (const duration of this.durations) {
      if (this.compare(date, addDuration(date, duration), nowMs)) return true;
    }
    return false;
  }

  private compare(date: FhirDate, anniversaryMs: number, nowMs: number): boolean {
    let now = nowMs;
    let anniversary = anniversaryMs;
    if (!date.hasTime) {
      now = Math.floor(nowMs / MS_PER_DAY);
      anniversary = Math.floor(anniversaryMs / MS_PER_DAY);
    }
    switch (this.comparator) {
      case '<': return now < anniversary;
      case '<=': return now <= anniversary;
      case '>': return now > anniversary;
      case '>=': return now >= anniversary;
    }
  }
}

function compileComparison(expression: ComparisonExpression): EntryPredicate {
  const segments = expression.path.segments;
  const literals = expression.values.map((value) => toLiteral(value.text));
  const source = expression.source;
  if (expression.operator === '=!') {
    const equalsAny = new LiteralLeafTest(literals, RELATION_TESTS['=']);
    return { source, matches: (event, nowMs) => !anyLeaf(event, segments, 0, equalsAny, nowMs) };
  }
  const leafTest = new LiteralLeafTest(literals, RELATION_TESTS[expression.operator]);
  return { source, matches: (event, nowMs) => anyLeaf(event, segments, 0, leafTest, nowMs) };
}

function compileAge(expression: AgeExpression): EntryPredicate {
  const segments = expression.path.segments;
  const leafTest = new AgeLeafTest(expression.comparator, expression.durations.map((node) => node.duration));
  return { source: expression.source, matches: (event, nowMs) => anyLeaf(event, segments, 0, leafTest, nowMs) };
}

export function compileExpression(expression: WhenExpression): EntryPredicate {
  return expression.kind === 'age' ? compileAge(expression) : compileComparison(expression);
}
