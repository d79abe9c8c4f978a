import type { ItemDefinition, SegmentDefinition } from 'hl7-dictionary';
import type { ValidationError } from './types.js';
import { componentsOf } from './dictionary.js';
import { scanEscapes } from './escapes.js';
import { COMPONENT, ENCODING_CHARACTERS, FIELD, REPETITION, SUBCOMPONENT, type ParsedSegment } from './parse.js';
import { checkPrimitive, checkTable, tableId } from './primitives.js';

/**
 * Field-level checks of one segment against its definition in the message's version:
 * - a field beyond the segment's last defined field must be empty (`components`);
 * - required (`opt` 2) fields valued; inside a valued field or component, required
 *   components valued (`required`);
 * - repetitions: at most one for `rep` 1, at most `rep` for `rep` > 1 (`repetition`);
 * - length of each repetition against the field's `len`, and of each component /
 *   subcomponent against its own `len` where the dictionary gives one (2.5 on), in
 *   unescaped characters (escapes.ts) (`length`);
 * - no more components than the data type has; a primitive has exactly one (`components`);
 * - each primitive value by its data type and table (primitives.ts), and its escape
 *   sequences well formed (`escape`);
 * - a CE/CWE bound to a table (e.g. PID-16 marital status, table 0002): when its coding
 *   system (component 3) is empty or names that table (`HL70002`), its code (component 1)
 *   must be in the table, as a receiver reading the code without a coding system would
 *   look it up there (`table`).
 * MSH-1 and MSH-2 are the delimiters and are checked as such only. The HL7 null `""`
 * (delete the value) counts as valued and is not checked further.
 */
const HL7_NULL = '""';
export function checkSegment(segment: ParsedSegment, def: SegmentDefinition, version: string, errors: ValidationError[]): void {
  const id = segment.id;
  const last = Math.max(def.fields.length, segment.fields.length - 1);
  for (let n = 1; n <= last; n++) {
    const value = segment.fields[n] ?? '';
    const path = `${id}-${n}`;
    if (id === 'MSH' && n <= 2) {
      const expected = n === 1 ? FIELD : ENCODING_CHARACTERS;
      if (value !== expected) errors.push({ path, rule: 'version', detail: `MSH-${n} must be the default delimiters` });
      continue;
    }
    const field = def.fields[n - 1];
    if (!field) {
      if (value !== '') errors.push({ path, rule: 'components', detail: `${id} has ${def.fields.length} fields in v${version}` });
      continue;
    }
    if (value === '') {
      if (field.opt === 2) errors.push({ path, rule: 'required', detail: `required field (${field.desc}) is empty` });
      continue;
    }
    const reps = value.split(REPETITION);
    if (field.rep === 1 && reps.length > 1) {
      errors.push({ path, rule: 'repetition', detail: `${reps.length} repetitions of a non-repeating field` });
    } else if (field.rep > 1 && reps.length > field.rep) {
      errors.push({ path, rule: 'repetition', detail: `${reps.length} repetitions, at most ${field.rep}` });
    }
    reps.forEach((rep, k) => {
      const repPath = k === 0 ? path : `${path}[${k + 1}]`;
      if (rep === '' || rep === HL7_NULL) return;
      checkLength(rep, field, repPath, errors);
      checkValue(rep, field, 0, version, repPath, errors);
    });
  }
}

function checkLength(raw: string, def: ItemDefinition, path: string, errors: ValidationError[]): void {
  if (def.len === undefined) return;
  const { length } = scanEscapes(raw);
  if (length > def.len) errors.push({ path, rule: 'length', detail: `${length} characters, at most ${def.len} (${def.datatype})` });
}

/** `level` 0: a field repetition (split on `^`); 1: a component (split on `&`); 2: a subcomponent. */
function checkValue(raw: string, def: ItemDefinition, level: number, version: string, path: string, errors: ValidationError[]): void {
  const components = level < 2 ? componentsOf(version, def.datatype) : undefined;
  const separator = level === 0 ? COMPONENT : SUBCOMPONENT;
  if (!components) {
    const separators = level === 0 ? [COMPONENT, SUBCOMPONENT] : level === 1 ? [SUBCOMPONENT] : [];
    if (separators.some((s) => raw.includes(s))) {
      errors.push({ path, rule: 'components', detail: `${def.datatype} is primitive: no components or subcomponents` });
      return;
    }
    for (const problem of scanEscapes(raw).problems) errors.push({ path, rule: 'escape', detail: problem });
    checkPrimitive(raw, def.datatype, def.table, version, path, errors);
    return;
  }
  const parts = raw.split(separator);
  if (parts.length > components.length) {
    errors.push({
      path,
      rule: 'components',
      detail: `${parts.length} ${level === 0 ? 'components' : 'subcomponents'}, ${def.datatype} has ${components.length} in v${version}`,
    });
  }
  if ((def.datatype === 'CE' || def.datatype === 'CWE') && def.table !== undefined) {
    const system = parts[2] ?? '';
    if (system === '' || system === `HL7${tableId(def.table)}`) checkTable(parts[0] ?? '', def.datatype, def.table, version, `${path}.1`, errors);
  }
  parts.forEach((part, j) => {
    const component = components[j];
    if (!component) return;
    const partPath = `${path}.${j + 1}`;
    if (part === '') {
      if (component.opt === 2) errors.push({ path: partPath, rule: 'required', detail: `required component (${component.desc}) is empty` });
      return;
    }
    if (part === HL7_NULL) return;
    checkLength(part, component, partPath, errors);
    checkValue(part, component, level + 1, version, partPath, errors);
  });
}
