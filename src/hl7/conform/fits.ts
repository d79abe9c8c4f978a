import type { Hl7Version } from '../versions.js';
import { HL7_DEFINITIONS } from '../hl7-definitions.js';

const FIELD = 0x7c; // |
const REPETITION = 0x7e; // ~
const COMPONENT = 0x5e; // ^
const SUBCOMPONENT = 0x26; // &

/**
 * The limits of one field, compiled from src/hl7/hl7-definitions.ts for a fast scan: the maximum length
 * of a repetition and, for a composite type, of each component and its subcomponents.
 * 0 = no limit (none given, or a type that is never cut).
 */
export interface FieldRule {
  readonly max: number;
  /** Undefined for a primitive type. */
  readonly components: readonly ComponentRule[] | undefined;
}

export interface ComponentRule {
  readonly max: number;
  /** Undefined when the component's type has no subcomponents. */
  readonly subcomponents: readonly number[] | undefined;
}

export type SegmentRules = Readonly<Record<string, readonly (FieldRule | undefined)[]>>;

/**
 * Types never cut: identifiers (CX), because a shortened identifier names another patient or
 * none; and the message type (MSG), the mapper's own constant (README "Versions, character
 * sets and lengths").
 */
const NOT_CUT = new Set(['CX', 'MSG']);

const compiled = new Map<Hl7Version, SegmentRules>();

/**
 * The field rules of a version's segments, compiled once per version. Types never cut get
 * no rule (fields) or no limit (components, subcomponents).
 */
export function rulesFor(version: Hl7Version): SegmentRules {
  let rules = compiled.get(version);
  if (!rules) {
    const { segments, types } = HL7_DEFINITIONS[version];
    const segmentRules: Record<string, (FieldRule | undefined)[]> = {};
    for (const [name, fields] of Object.entries(segments)) {
      segmentRules[name] = fields.map(([max, type]) =>
        NOT_CUT.has(type)
          ? undefined
          : {
              max,
              components: types[type]?.map(([componentMax, componentType]) =>
                NOT_CUT.has(componentType)
                  ? { max: 0, subcomponents: undefined }
                  : { max: componentMax, subcomponents: types[componentType]?.map(([subMax, subType]) => (NOT_CUT.has(subType) ? 0 : subMax)) },
              ),
            },
      );
    }
    rules = segmentRules;
    compiled.set(version, rules);
  }
  return rules;
}

/**
 * Whether every field of an encoded message is within its rules. One scan over the text,
 * no allocation but the segment names: most messages fit, and this keeps them off the slow
 * path that splits and cuts (conform-message.ts).
 */
export function messageFits(text: string, rules: SegmentRules): boolean {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\r', start);
    if (end === -1) end = text.length;
    if (end > start && !segmentFits(text, start, end, rules)) return false;
    start = end + 1;
  }
  return true;
}

function segmentFits(text: string, start: number, end: number, rules: SegmentRules): boolean {
  const name = text.slice(start, start + 3);
  const fields = rules[name];
  if (!fields) return true;
  // MSH-1 is the `|` after the name, so MSH's first `|`-delimited value is MSH-2 (never cut).
  const isMsh = name === 'MSH';
  let number = isMsh ? 1 : 0;
  let fieldStart = start + 3;
  while (fieldStart < end && text.charCodeAt(fieldStart) === FIELD) {
    let fieldEnd = text.indexOf('|', fieldStart + 1);
    if (fieldEnd === -1 || fieldEnd > end) fieldEnd = end;
    number++;
    const rule = fields[number - 1];
    if (rule && !(isMsh && number === 2) && !fits(text, fieldStart + 1, fieldEnd, rule)) return false;
    fieldStart = fieldEnd;
  }
  return true;
}

/** Whether `text[start, end)`, one field's value, is within its rule: every repetition, component and subcomponent. */
export function fits(text: string, start: number, end: number, rule: FieldRule): boolean {
  const { max, components } = rule;
  if (!components) {
    if (max === 0 || end - start <= max) return true;
    if (text.indexOf('~', start) === -1 || text.indexOf('~', start) >= end) return false;
  }
  let repetitionStart = start;
  let componentStart = start;
  let subcomponentStart = start;
  let component = 0;
  let subcomponent = 0;
  for (let i = start; i <= end; i++) {
    const code = i === end ? REPETITION : text.charCodeAt(i);
    if (code !== REPETITION && code !== COMPONENT && code !== SUBCOMPONENT) continue;
    const part = components?.[component];
    if (part) {
      const subMax = part.subcomponents?.[subcomponent] ?? 0;
      if (subMax > 0 && i - subcomponentStart > subMax) return false;
      if (code !== SUBCOMPONENT && part.max > 0 && i - componentStart > part.max) return false;
    }
    if (code === SUBCOMPONENT) {
      subcomponent++;
    } else {
      subcomponent = 0;
      componentStart = i + 1;
      if (code === COMPONENT) {
        component++;
      } else {
        if (max > 0 && i - repetitionStart > max) return false;
        component = 0;
        repetitionStart = i + 1;
      }
    }
    subcomponentStart = i + 1;
  }
  return true;
}
