import type { StructureElement } from 'hl7-dictionary';
import type { ValidationError } from './types.js';
import { messageDefinition, segmentDefinition } from './dictionary.js';

/**
 * Segment order and counts against the message structure of the version
 * (`messages[structure].segments.segments`: segments and groups, each with min/max,
 * max 0 = unbounded). Matching is greedy, left to right, as HL7 parsers do: each element
 * takes as many segments as it can, a group repeating while its first segment comes
 * next. A required element that takes none is reported missing; segments left over
 * after the structure are reported one by one (unknown to the version, or out of place /
 * beyond the element's maximum).
 */
export function checkStructure(segmentIds: readonly string[], structure: string, version: string, errors: ValidationError[]): void {
  const def = messageDefinition(version, structure);
  if (!def) {
    errors.push({ path: 'MSH-9', rule: 'structure', detail: `message structure ${structure} is not defined in v${version}` });
    return;
  }
  const end = matchSequence(def.segments.segments, segmentIds, 0, errors, structure);
  for (let i = end; i < segmentIds.length; i++) {
    const id = segmentIds[i] ?? '';
    if (!segmentDefinition(version, id)) {
      errors.push({ path: id || `segment ${i + 1}`, rule: 'unknown-segment', detail: `segment ${i + 1} (${id || 'empty'}) is not defined in v${version}` });
    } else {
      errors.push({ path: id, rule: 'structure', detail: `segment ${i + 1} is out of order or beyond its maximum count in ${structure}` });
    }
  }
}

/** Matches `elements` from `pos`; returns the position after the last matched segment. */
function matchSequence(
  elements: readonly StructureElement[],
  ids: readonly string[],
  pos: number,
  errors: ValidationError[],
  context: string,
): number {
  for (const element of elements) {
    let count = 0;
    while ((element.max === 0 || count < element.max) && startsHere(element, ids, pos)) {
      const next = element.children ? matchSequence(element.children, ids, pos, errors, `${context}.${element.name}`) : pos + 1;
      if (next === pos) break;
      pos = next;
      count++;
    }
    if (count < element.min) {
      const what = element.children ? `group ${element.name}` : `segment ${element.name}`;
      errors.push({ path: element.name, rule: 'structure', detail: `required ${what} missing in ${context}` });
    }
  }
  return pos;
}

/** Whether an occurrence of `element` can start at `pos` (for a group: its first segment). */
function startsHere(element: StructureElement, ids: readonly string[], pos: number): boolean {
  const id = ids[pos];
  if (id === undefined) return false;
  if (!element.children) return element.name === id;
  return firstSegments(element.children).has(id);
}

/** Segments that can begin a sequence: leading optional elements' firsts plus the first required one's. */
function firstSegments(elements: readonly StructureElement[]): Set<string> {
  const out = new Set<string>();
  for (const e of elements) {
    if (e.children) for (const s of firstSegments(e.children)) out.add(s);
    else out.add(e.name);
    if (e.min > 0) break;
  }
  return out;
}
