import { escapeHl7 } from '../../hl7/escape.js';

/**
 * A value of a receiver profile's `fields` or Z-segment (README "Fitting a receiver"):
 * a constant, written as given (it may hold component separators: `LAB^WARD`), or a
 * template with `{dot.path}` placeholders into the event envelope, the same paths as the
 * When Criteria (`patient.identifier[0].value`, `source.facility`, `visit.number`). A
 * placeholder's value is HL7-escaped; a path that reaches nothing (or an object) gives ''.
 * An array on the way gives its first element unless an index says otherwise.
 */
export interface Template {
  readonly source: string;
  render(event: unknown): string;
}

interface PathStep {
  readonly name: string;
  readonly index: number | undefined;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const STEP = /^([A-Za-z_$][\w$-]*)(?:\[(\d+)\])?$/;

/** Compiles a template, or returns why it is not one. */
export function compileTemplate(source: string): Template | string {
  const parts: Array<string | PathStep[]> = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    parts.push(source.slice(last, match.index));
    const steps = parseSteps(match[1]!);
    if (typeof steps === 'string') return `placeholder {${match[1]}} ${steps}`;
    parts.push(steps);
    last = match.index + match[0].length;
  }
  parts.push(source.slice(last));
  if (parts.length === 1) return { source, render: () => source };
  return {
    source,
    render: (event) => parts.map((part) => (typeof part === 'string' ? part : escapeHl7(leaf(event, part)))).join(''),
  };
}

function parseSteps(path: string): PathStep[] | string {
  if (path === '') return 'is empty';
  const steps: PathStep[] = [];
  for (const step of path.split('.')) {
    const match = STEP.exec(step);
    if (!match) return 'is not a dot path (e.g. patient.identifier[0].value)';
    steps.push({ name: match[1]!, index: match[2] === undefined ? undefined : Number(match[2]) });
  }
  return steps;
}

function leaf(value: unknown, steps: readonly PathStep[]): string {
  let current: unknown = value;
  for (const step of steps) {
    if (Array.isArray(current)) current = current[0];
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, step.name)) return '';
    current = (current as Record<string, unknown>)[step.name];
    if (step.index !== undefined) current = Array.isArray(current) ? current[step.index] : undefined;
  }
  if (Array.isArray(current)) current = current[0];
  return typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean' ? String(current) : '';
}
