import { canEncode, isAscii, type Charset } from '../charset.js';
import type { Hl7Version } from '../versions.js';
import { truncateEncoded } from './truncate.js';
import { fits, messageFits, rulesFor, type ComponentRule, type FieldRule } from './fits.js';

/**
 * The last step of building a message (README "Versions, character sets and lengths"):
 * makes an encoded HL7 message fit its receiver's charset and its version's lengths.
 * Pure; one pass over the segments; a message that already fits is returned unchanged.
 *
 * Charset: a character `charset` cannot hold becomes `?` (`unrepresentable: 'replace'`),
 * or the message is refused with the position of the first one (`'reject'`): a reason that
 * names the field (`PID-5.1`), never the value.
 *
 * Lengths (`lengths: 'truncate'`): every component and subcomponent is cut to the maximum
 * its data type gives in `version` (2.5 and later give component lengths), then every
 * field repetition to the field's maximum length. Not cut:
 * - identifiers, data type CX (PID-3, MRG-1, PV1-19...): a shortened identifier names
 *   another patient, or none. IHE's profiles allow PID-3 up to 250 characters where 2.3.1
 *   says 20, and the receivers that use them do; in 2.5+ CX-1 (15) is shorter than many
 *   real identifiers;
 * - MSH-9 (message type): the mapper's own constant; 2.3.1 gives MSH-9 7 characters, too
 *   few for its own third component (`ADT^A01^ADT_A01`), a known defect of that version;
 * - values the mapper builds itself within their limits (timestamps, MSH-10, MSH-12).
 * The positions cut are returned (`truncated`) for the metric and log line.
 */
export interface ConformOptions {
  version: Hl7Version;
  charset: Charset;
  unrepresentable: 'replace' | 'reject';
  lengths: 'truncate' | 'keep';
}

export type ConformResult =
  | { ok: true; text: string; truncated: readonly string[] }
  | { ok: false; reason: string };

/** Any surrogate: a cheap scan first, since most text has none (the lookbehind below is slow). */
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function conformMessage(text: string, options: ConformOptions): ConformResult {
  // UTF-8 holds every character except a lone surrogate (malformed UTF-16 from the event).
  const needsCharset = options.charset === 'UTF-8' ? SURROGATE.test(text) && LONE_SURROGATE.test(text) : !isAscii(text);
  const rules = rulesFor(options.version);
  const truncate = options.lengths === 'truncate' && !messageFits(text, rules);
  if (!needsCharset && !truncate) return { ok: true, text, truncated: [] };
  const truncated: string[] = [];
  const segments = text.split('\r');
  let changed = false;
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    if (segment === '') continue;
    const fields = segment.split('|');
    const name = fields[0]!;
    // fields[i] is field i, except in MSH, where fields[1] is MSH-2 (MSH-1 is the separator).
    const offset = name === 'MSH' ? 1 : 0;
    let segmentChanged = false;
    for (let f = name === 'MSH' ? 2 : 1; f < fields.length; f++) {
      let value = fields[f]!;
      if (value === '') continue;
      const number = f + offset;
      if (needsCharset) {
        const fitted = fitCharset(value, name, number, options);
        if (!fitted.ok) return fitted;
        value = fitted.text;
      }
      if (truncate) value = cutField(value, rules[name]?.[number - 1], name, number, truncated);
      if (value !== fields[f]) {
        fields[f] = value;
        segmentChanged = true;
      }
    }
    if (segmentChanged) {
      segments[s] = fields.join('|');
      changed = true;
    }
  }
  return { ok: true, text: changed ? segments.join('\r') : text, truncated };
}

/** One field, all repetitions: components (and their subcomponents) first, then each repetition as a whole. */
function cutField(value: string, rule: FieldRule | undefined, segment: string, field: number, truncated: string[]): string {
  if (!rule || fits(value, 0, value.length, rule)) return value;
  const path = `${segment}-${field}`;
  const repetitions = value.split('~');
  for (let r = 0; r < repetitions.length; r++) {
    let repetition = repetitions[r]!;
    if (rule.components) repetition = cutComponents(repetition, rule.components, path, truncated);
    repetitions[r] = cutTo(repetition, rule.max, path, truncated);
  }
  return repetitions.join('~');
}

function cutComponents(value: string, rules: readonly ComponentRule[], path: string, truncated: string[]): string {
  const components = value.split('^');
  for (let c = 0; c < components.length && c < rules.length; c++) {
    const rule = rules[c]!;
    const componentPath = `${path}.${c + 1}`;
    let component = components[c]!;
    const subRules = rule.subcomponents;
    if (subRules) {
      const subcomponents = component.split('&');
      for (let s = 0; s < subcomponents.length && s < subRules.length; s++) {
        subcomponents[s] = cutTo(subcomponents[s]!, subRules[s]!, `${componentPath}.${s + 1}`, truncated);
      }
      component = subcomponents.join('&');
    }
    components[c] = cutTo(component, rule.max, componentPath, truncated);
  }
  return components.join('^');
}

/** `value` cut to `max` (0 = no limit), noting `path` when it was cut. */
function cutTo(value: string, max: number, path: string, truncated: string[]): string {
  if (max === 0 || value.length <= max) return value;
  note(truncated, path);
  return truncateEncoded(value, max);
}

function note(truncated: string[], path: string): void {
  if (!truncated.includes(path)) truncated.push(path);
}

type FitResult = { ok: true; text: string } | { ok: false; reason: string };

/** Replaces (or refuses) the characters of one field that the charset cannot hold. */
function fitCharset(value: string, segment: string, field: number, options: ConformOptions): FitResult {
  let out: string | undefined;
  let runStart = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    if (code >= 0x80 && !canEncode(code, options.charset)) {
      if (options.unrepresentable === 'reject') {
        return { ok: false, reason: `${componentPath(value, i, `${segment}-${field}`)} has a character that ${options.charset} cannot represent (settings.Unrepresentable: reject)` };
      }
      out = (out ?? '') + value.slice(runStart, i) + '?';
      runStart = i + width;
    }
    i += width - 1;
  }
  return { ok: true, text: out === undefined ? value : out + value.slice(runStart) };
}

/** `PID-5`, `PID-5.1` or `PID-5.1.2`: the component (and subcomponent) of the character at `index`. */
function componentPath(value: string, index: number, path: string): string {
  if (!value.includes('^') && !value.includes('&')) return path;
  const repetitionStart = value.lastIndexOf('~', index) + 1;
  const before = value.slice(repetitionStart, index);
  const componentNumber = before.split('^').length;
  const componentStart = repetitionStart + before.lastIndexOf('^') + 1;
  const componentEnd = value.slice(componentStart).search(/[\^~]/);
  const component = componentEnd === -1 ? value.slice(componentStart) : value.slice(componentStart, componentStart + componentEnd);
  if (!component.includes('&')) return `${path}.${componentNumber}`;
  return `${path}.${componentNumber}.${value.slice(componentStart, index).split('&').length}`;
}
