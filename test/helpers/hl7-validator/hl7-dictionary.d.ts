/**
 * Types for the parts of the npm package `hl7-dictionary@1.0.1` (no types of its own) that
 * the validator reads. Every version directory `lib/<version>/index.js` exports
 * `{ fields, segments, messages }`; `lib/tables.js` exports the tables (one set for all
 * versions). Encodings, established by reading the package's data:
 * - `opt`: 1 = optional, 2 = required, 3 = conditional (no other value occurs);
 * - `rep`: 1 = not repeating, 0 = unbounded, n > 1 = at most n repetitions;
 * - `len`: maximum length; absent on components before 2.5 (only fields have one there);
 * - `table`: the table number (as a number, e.g. 201 for HL7 table 0201);
 * - message elements: `min` 0/1, `max` 0 = unbounded; a group has `children`.
 * A data type (`fields[name]`) with no `subfields` is primitive.
 */
declare module 'hl7-dictionary' {
  export interface ItemDefinition {
    datatype: string;
    desc: string;
    opt: number;
    rep: number;
    len?: number;
    table?: number;
  }
  export interface DatatypeDefinition {
    desc: string;
    subfields: ItemDefinition[];
  }
  export interface SegmentDefinition {
    desc: string;
    fields: ItemDefinition[];
  }
  export interface StructureElement {
    name: string;
    desc: string;
    min: number;
    max: number;
    children?: StructureElement[];
  }
  export interface MessageDefinition {
    desc: string;
    name: string;
    segments: { desc: string; segments: StructureElement[] };
  }
  export interface VersionDefinition {
    fields: Record<string, DatatypeDefinition | undefined>;
    segments: Record<string, SegmentDefinition | undefined>;
    messages: Record<string, MessageDefinition | undefined>;
  }
  export interface TableDefinition {
    desc: string;
    values: Record<string, string>;
  }
  export type Tables = Record<string, TableDefinition | undefined>;
}
