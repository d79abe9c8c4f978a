/**
 * HL7 paths as a receiver profile's `fields` writes them (README "Fitting a receiver"):
 * - `SEG-n`: the whole field, every repetition;
 * - `SEG-n.c`, `SEG-n.c.s`: a component (subcomponent) of the field's first repetition;
 * - `SEG-n[r].c`, `SEG-n[r].c.s`: the same in repetition r (1-based).
 * Always the first segment with that name in the message.
 */
export interface Hl7Path {
  readonly text: string;
  readonly segment: string;
  readonly field: number;
  /** 1-based; undefined = every repetition (whole field) for `SEG-n`, else 1. */
  readonly repetition: number | undefined;
  readonly component: number | undefined;
  readonly subcomponent: number | undefined;
}

const PATH = /^([A-Z][A-Z0-9]{2})-(\d{1,3})(?:\[(\d{1,3})\])?(?:\.(\d{1,3})(?:\.(\d{1,3}))?)?$/;

/** The parsed path, or a reason it is not one (for the configuration problem). */
export function parseHl7Path(text: string): Hl7Path | string {
  const match = PATH.exec(text);
  if (!match) return 'is not an HL7 path (SEG-n, SEG-n.c, SEG-n.c.s, SEG-n[r].c)';
  const [, segment, field, repetition, component, subcomponent] = match;
  const numbers = [field, repetition, component, subcomponent].map((n) => (n === undefined ? undefined : Number(n)));
  if (numbers.some((n) => n === 0)) return 'numbers in an HL7 path start at 1';
  if (repetition !== undefined && component === undefined) return 'a repetition [r] needs a component (SEG-n[r].c)';
  return {
    text,
    segment: segment!,
    field: numbers[0]!,
    repetition: component === undefined ? undefined : (numbers[1] ?? 1),
    component: numbers[2],
    subcomponent: numbers[3],
  };
}

/**
 * Sets the value at `path` in one segment's fields (`fields[0]` is the segment name; for MSH
 * `fields[1]` is MSH-2, so MSH-n is `fields[n - 1]`). `value` is encoded HL7 and replaces
 * what was there; missing fields, repetitions and components are created empty. An empty
 * value clears. Trailing empty items are trimmed, as everywhere in the encoder.
 */
export function setAt(fields: string[], path: Hl7Path, value: string): void {
  const index = path.segment === 'MSH' ? path.field - 1 : path.field;
  while (fields.length <= index) fields.push('');
  if (path.component === undefined) {
    fields[index] = value;
  } else {
    const repetitions = fields[index]!.split('~');
    const r = path.repetition! - 1;
    while (repetitions.length <= r) repetitions.push('');
    const components = repetitions[r]!.split('^');
    const c = path.component - 1;
    while (components.length <= c) components.push('');
    if (path.subcomponent === undefined) {
      components[c] = value;
    } else {
      const subcomponents = components[c]!.split('&');
      const s = path.subcomponent - 1;
      while (subcomponents.length <= s) subcomponents.push('');
      subcomponents[s] = value;
      components[c] = trimTrailing(subcomponents, '&');
    }
    repetitions[r] = trimTrailing(components, '^');
    fields[index] = trimTrailing(repetitions, '~');
  }
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
}

function trimTrailing(items: string[], separator: string): string {
  let last = items.length - 1;
  while (last > 0 && items[last] === '') last--;
  return items.slice(0, last + 1).join(separator);
}
