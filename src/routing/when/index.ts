/** When Criteria: the subscription event filter language (docs/WHEN-CRITERIA.md). */
export { compileWhen, type CompileWhenResult, type WhenCriteria } from './compile-when.js';
export type {
  AgeComparator, AgeExpression, ComparisonExpression, ComparisonOperator, PathSegment, ValueNode,
  WhenError, WhenExpression, WhenPath,
} from './ast.js';
export { parseWhenExpression, type ParseWhenResult } from './parse-when.js';
export { parseIsoDuration, addDuration, type IsoDuration } from './duration.js';
export { parseFhirDate, type FhirDate, type DatePrecision } from './fhir-date.js';
