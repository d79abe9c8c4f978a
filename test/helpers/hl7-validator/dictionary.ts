import { createRequire } from 'node:module';
import type { ItemDefinition, MessageDefinition, SegmentDefinition, Tables, VersionDefinition } from 'hl7-dictionary';
import { compareVersions, isKnownVersion } from './types.js';

/**
 * Access to `hl7-dictionary@1.0.1` (see hl7-dictionary.d.ts for its encodings), one version
 * loaded on first use (the package's index loads all ten versions, ~10 MB of JS).
 *
 * Two documented adjustments are made to what the package says, both only where it is
 * silent, never overriding a value it gives:
 * 1. Table bindings of components before 2.5: the package gives 2.3.1 and 2.4 composite
 *    components (almost) no table numbers (XPN-7, XTN-2/3, MSG-1/2/3, PT-1, VID-1 ...).
 *    Such a component borrows the table of the same component of the same data type in
 *    2.5, but only when its data type is the same there (so 2.3.1 CE-3 `ST` does not get
 *    2.5's `ID` table 0396). The codes are then judged by the *version's* table content
 *    (see tables.ts), not 2.5's.
 * 2. TS before 2.5 is given as a single `ST` component; the standard's TS is
 *    `time^degree of precision`, the time having the DTM form. TS-1 is checked as DTM
 *    and a second component (ID, length 1) is allowed in every version.
 * And one correction where the package contradicts the standard (STRUCTURE_CORRECTIONS).
 */

/**
 * Message-structure elements the package gets wrong, with the standard's value.
 * - 2.3.1 ADT_A38: the package makes DRG required (min 1); the standard has `[DRG]`
 *   (optional), as in 2.3 (section 3.2.38, http://www.eng.tau.ac.il/~gannot/MI/hl7web.zip)
 *   and 2.4 and later (the package's own 2.4+ ADT_A38 has DRG min 0).
 */
const STRUCTURE_CORRECTIONS: readonly { version: string; structure: string; segment: string; min: number }[] = [
  { version: '2.3.1', structure: 'ADT_A38', segment: 'DRG', min: 0 },
];

const require = createRequire(import.meta.url);
const loaded = new Map<string, VersionDefinition>();
let tablesCache: Tables | undefined;

/** The dictionary of `version`, or undefined when the validator does not know it. */
export function versionDefinition(version: string): VersionDefinition | undefined {
  if (!isKnownVersion(version)) return undefined;
  let def = loaded.get(version);
  if (!def) {
    def = require(`hl7-dictionary/lib/${version}/index.js`) as VersionDefinition;
    loaded.set(version, def);
  }
  return def;
}

/** All tables of the package (not split by version: see tables.ts). */
export function dictionaryTables(): Tables {
  tablesCache ??= require('hl7-dictionary/lib/tables.js') as Tables;
  return tablesCache;
}

export function segmentDefinition(version: string, id: string): SegmentDefinition | undefined {
  return versionDefinition(version)?.segments[id];
}

const messageCache = new Map<string, MessageDefinition | null>();

export function messageDefinition(version: string, structure: string): MessageDefinition | undefined {
  const key = `${version}/${structure}`;
  const cached = messageCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const def = versionDefinition(version)?.messages[structure];
  const fixes = STRUCTURE_CORRECTIONS.filter((c) => c.version === version && c.structure === structure);
  const corrected =
    def && fixes.length > 0
      ? {
          ...def,
          segments: {
            ...def.segments,
            segments: def.segments.segments.map((e) => {
              const fix = fixes.find((f) => f.segment === e.name && !e.children);
              return fix ? { ...e, min: fix.min } : e;
            }),
          },
        }
      : def;
  messageCache.set(key, corrected ?? null);
  return corrected;
}

const componentsCache = new Map<string, readonly ItemDefinition[] | null>();

/**
 * The components of data type `datatype` in `version`, with adjustments 1 and 2 above;
 * undefined for a primitive type (or one the dictionary does not know).
 */
export function componentsOf(version: string, datatype: string): readonly ItemDefinition[] | undefined {
  const key = `${version}/${datatype}`;
  const cached = componentsCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const computed = computeComponents(version, datatype);
  componentsCache.set(key, computed ?? null);
  return computed;
}

function computeComponents(version: string, datatype: string): readonly ItemDefinition[] | undefined {
  const def = versionDefinition(version)?.fields[datatype];
  if (!def || def.subfields.length === 0) return undefined;
  if (datatype === 'TS') {
    const time = def.subfields[0];
    const precision = def.subfields[1];
    return [
      { ...(time ?? { desc: 'Time', opt: 2, rep: 1 }), datatype: 'DTM' },
      precision ?? { datatype: 'ID', desc: 'Degree of Precision', opt: 1, rep: 1, len: 1 },
    ];
  }
  if (compareVersions(version, '2.5') >= 0) return def.subfields;
  const reference = versionDefinition('2.5')?.fields[datatype]?.subfields ?? [];
  return def.subfields.map((c, i) => {
    const ref = reference[i];
    if (c.table !== undefined || ref?.table === undefined || ref.datatype !== c.datatype) return c;
    return { ...c, table: ref.table };
  });
}
