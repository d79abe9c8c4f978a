import type { EventType } from '../event/patient-event.js';
import type { Hl7Version } from '../hl7/versions.js';
import { HL7_DEFINITIONS } from '../hl7/hl7-definitions.js';
import { MESSAGE_TYPES } from '../mapping/msh.js';
import type { TriggerTable } from '../mapping/profile.js';
import { IDENTIFIER_TYPE, UNIVERSAL_ID_TYPE, definedIn } from '../mapping/tables/hl7-tables.js';
import { parseHl7Path, type Hl7Path } from '../mapping/adapt/hl7-path.js';
import { compileTemplate, type Template } from '../mapping/adapt/template.js';
import {
  PLACEMENT_FIELDS,
  type AuthorityOverride,
  type FieldEdit,
  type IdentifierRules,
  type PlacementField,
  type ReceiverAdaptation,
  type ZSegment,
} from '../mapping/adapt/receiver-adaptation.js';
import type { ObjectReader } from './object-reader.js';

/** What decides which paths and segments a subscription's messages have. */
export interface MessageShape {
  version: Hl7Version;
  triggers: TriggerTable;
  events: ReadonlySet<EventType>;
}

/** MSH fields the daemon owns: a profile may not set them. */
const OWNED_FIELDS: Readonly<Record<string, string>> = {
  'MSH-1': 'the field separator',
  'MSH-2': 'the encoding characters',
  'MSH-9': 'the message type: set by the trigger table',
  'MSH-10': 'the control id the ACK is matched on',
  'MSH-12': 'the version: set by settings.Version',
  'MSH-18': 'the character set: set by settings.Charset',
};

/**
 * Reads a subscription's `identifiers`, `fields` and `segments` (README "Fitting a
 * receiver"), checking each against the HL7 definitions of the subscription's version and
 * the structures its triggers send. Every problem goes to the reader's list; undefined when
 * the subscription has none of the three keys.
 */
export function readAdaptation(sub: ObjectReader, shape: MessageShape): ReceiverAdaptation | undefined {
  const structures = structuresOf(shape);
  const emitted = new Set(structures.flatMap((structure) => emittedSegments(structure)));
  const identifiers = readIdentifiers(sub.child('identifiers'), shape.version);
  const segments = sub.child('segments');
  const omit = readOmit(segments, structures, shape.version);
  const add = readAdded(segments, emitted);
  segments?.rejectUnknownKeys();
  const fields = readFields(sub.child('fields'), shape.version, emitted, new Set(add.map((z) => z.segment)));
  if (!identifiers && fields.length === 0 && omit.length === 0 && add.length === 0) return undefined;
  return { ...(identifiers ? { identifiers } : {}), fields, omit, add };
}

function structuresOf(shape: MessageShape): string[] {
  const triggers = new Set([...shape.events].map((event) => shape.triggers[event]).filter((cell) => cell !== 'skip'));
  return [...new Set([...triggers].map((trigger) => MESSAGE_TYPES[trigger].split('^')[2]!))];
}

/** The segments the mapper writes for a structure (src/mapping/build-messages.ts). */
function emittedSegments(structure: string): string[] {
  return structure === 'ADT_A39' ? ['MSH', 'EVN', 'PID', 'MRG'] : ['MSH', 'EVN', 'PID', 'PV1'];
}

function readIdentifiers(reader: ObjectReader | undefined, version: Hl7Version): IdentifierRules | undefined {
  if (!reader) return undefined;
  const systems = reader.stringList('systems');
  if (systems && systems.length === 0) reader.problem('systems', 'must name at least one identifier system (leave it out to send every system)');
  const authorities: Record<string, AuthorityOverride> = {};
  const authorityReader = reader.child('authorities');
  for (const system of authorityReader?.keys() ?? []) {
    const entry = authorityReader!.child(system);
    if (!entry) continue;
    const override: AuthorityOverride = {};
    for (const key of ['namespace', 'universalId'] as const) {
      const value = entry.string(key);
      if (value !== undefined) override[key] = value;
    }
    const universalIdType = entry.string('universalIdType');
    if (universalIdType !== undefined) {
      if (definedIn(UNIVERSAL_ID_TYPE, universalIdType, version)) override.universalIdType = universalIdType;
      else entry.problem('universalIdType', `is not in table 0301 of HL7 ${version}`);
    }
    const typeCode = entry.string('typeCode');
    if (typeCode !== undefined) {
      if (definedIn(IDENTIFIER_TYPE, typeCode, version)) override.typeCode = typeCode;
      else entry.problem('typeCode', `is not in table 0203 of HL7 ${version}`);
    }
    entry.rejectUnknownKeys();
    authorities[system] = override;
  }
  const placement: Partial<Record<PlacementField, string>> = {};
  const placementReader = reader.child('placement');
  for (const field of placementReader?.keys() ?? []) {
    if (!(PLACEMENT_FIELDS as readonly string[]).includes(field)) {
      placementReader!.problem(field, `must be one of ${PLACEMENT_FIELDS.join(', ')}`);
      continue;
    }
    const system = placementReader!.string(field, { required: true });
    if (system) placement[field as PlacementField] = system;
  }
  reader.rejectUnknownKeys();
  return { ...(systems && systems.length > 0 ? { systems } : {}), authorities, placement };
}

function readOmit(reader: ObjectReader | undefined, structures: readonly string[], version: Hl7Version): string[] {
  const names = reader?.stringList('omit') ?? [];
  for (const name of names) {
    for (const structure of structures) {
      const entry = HL7_DEFINITIONS[version].structures[structure]?.find(([segment]) => segment === name);
      if (!entry) reader!.problem('omit', `${name} is not a segment of ${structure} (HL7 ${version})`);
      else if (entry[1]) reader!.problem('omit', `${name} is required in ${structure} (HL7 ${version}) and cannot be left out`);
    }
  }
  return names;
}

function readAdded(reader: ObjectReader | undefined, emitted: ReadonlySet<string>): ZSegment[] {
  const raw = reader?.raw('add');
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    reader!.problem('add', 'must be a list of {"after", "segment", "fields"}');
    return [];
  }
  const added: ZSegment[] = [];
  const known = new Set(emitted);
  raw.forEach((_, index) => {
    const item = reader!.childAt('add', index);
    if (!item) return;
    const segment = item.string('segment', { required: true, pattern: /^Z[A-Z0-9]{2}$/, patternText: 'a Z-segment name (Z and two letters or digits)' });
    const after = item.string('after', { required: true });
    if (after !== undefined && !known.has(after)) item.problem('after', `${after} is not a segment of these messages (${[...known].join(', ')})`);
    const fields = new Map<number, Template>();
    const fieldReader = item.child('fields');
    for (const key of fieldReader?.keys() ?? []) {
      if (!/^\d{1,3}$/.test(key) || Number(key) === 0) {
        fieldReader!.problem(key, 'must be a field number (1, 2, ...)');
        continue;
      }
      const template = readTemplate(fieldReader!, key, fieldReader!.raw(key));
      if (template) fields.set(Number(key), template);
    }
    item.rejectUnknownKeys();
    if (segment && after) {
      known.add(segment);
      added.push({ after, segment, fields });
    }
  });
  return added;
}

function readFields(reader: ObjectReader | undefined, version: Hl7Version, emitted: ReadonlySet<string>, added: ReadonlySet<string>): FieldEdit[] {
  if (!reader) return [];
  const edits: FieldEdit[] = [];
  for (const key of reader.keys()) {
    const path = parseHl7Path(key);
    if (typeof path === 'string') {
      reader.problem(key, path);
      continue;
    }
    const problem = pathProblem(path, version, emitted, added);
    if (problem) {
      reader.problem(key, problem);
      continue;
    }
    const template = readTemplate(reader, key, reader.raw(key));
    if (template) edits.push({ path, value: template });
  }
  return edits;
}

function readTemplate(reader: ObjectReader, key: string, value: unknown): Template | undefined {
  if (typeof value !== 'string') {
    reader.problem(key, 'must be a string (a constant or a {dot.path} template; "" clears)');
    return undefined;
  }
  const template = compileTemplate(value);
  if (typeof template === 'string') {
    reader.problem(key, template);
    return undefined;
  }
  return template;
}

/** Why the messages of this version and these segments have no such path; undefined when they have it. */
export function pathProblem(path: Hl7Path, version: Hl7Version, emitted: ReadonlySet<string>, added: ReadonlySet<string>): string | undefined {
  const owned = OWNED_FIELDS[`${path.segment}-${path.field}`];
  if (owned) return `${path.segment}-${path.field} is ${owned}`;
  if (added.has(path.segment)) return undefined;
  if (!emitted.has(path.segment)) return `these messages have no ${path.segment} segment (they send ${[...emitted].join(', ')})`;
  const definitions = HL7_DEFINITIONS[version];
  const fields = definitions.segments[path.segment]!;
  if (path.field > fields.length) return `${path.segment} has ${fields.length} fields in HL7 ${version}`;
  if (path.component === undefined) return undefined;
  const type = fields[path.field - 1]![1];
  const components = definitions.types[type];
  if (!components) return path.component > 1 || path.subcomponent !== undefined ? `${path.segment}-${path.field} (${type}) has no components` : undefined;
  if (path.component > components.length) return `${path.segment}-${path.field} (${type}) has ${components.length} components in HL7 ${version}`;
  if (path.subcomponent === undefined) return undefined;
  const componentType = components[path.component - 1]![1];
  const subcomponents = definitions.types[componentType];
  if (!subcomponents) return path.subcomponent > 1 ? `component ${path.component} of ${type} (${componentType}) has no subcomponents` : undefined;
  if (path.subcomponent > subcomponents.length) return `component ${path.component} of ${type} (${componentType}) has ${subcomponents.length} subcomponents in HL7 ${version}`;
  return undefined;
}
