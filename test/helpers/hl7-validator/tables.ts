import { dictionaryTables } from './dictionary.js';
import { compareVersions } from './types.js';

/**
 * Code tables per HL7 version (sources: SOURCE_FHIR_V2_TABLES and the notes below).
 *
 * `hl7-dictionary`'s `tables.js` holds ONE set of tables for all versions, with the codes
 * of the latest version it was built from (table 0201 has `PRS`, table 0211 has
 * `UNICODE UTF-8`, ...). Judged by it alone, a 2.3.1 message could carry a code that only
 * 2.7 defines. So a table is read here as: the dictionary's codes, minus those a later
 * version introduced (CODES_INTRODUCED), or, for a table whose content per version is
 * listed in full (TABLES_BY_VERSION), exactly that list. Codes the dictionary lacks stay
 * lacking (e.g. table 0200 has no `TEMP` at all, so `TEMP` fails in every version).
 * docs/CONFORMANCE.md explains why this is how 2.3.1 and 2.4 can be checked at all.
 *
 * Only tables the dictionary has are checked; user-defined tables it does not carry
 * (0289, 0018, ...) are not (a receiver defines those).
 */

interface CodeIntroduced {
  table: number;
  code: string;
  /** First version whose table has the code. */
  since: string;
}

/**
 * The "added v2.x" column of the v2 table pages published with FHIR DSTU1/DSTU2
 * (https://hl7.org/fhir/DSTU1/v2/<table>/index.html and .../v2-<table>.json.html), for
 * the tables whose codes the mapper writes. Only codes added after 2.3.1 (the oldest
 * version we send) and present in the dictionary matter here.
 */
export const SOURCE_FHIR_V2_TABLES = 'https://hl7.org/fhir/DSTU1/v2/<table>/index.html';

const introduced = (table: number, since: string, codes: readonly string[]): CodeIntroduced[] =>
  codes.map((code) => ({ table, code, since }));

/** Codes that entered a table after 2.3.1; see SOURCE_FHIR_V2_TABLES unless noted. */
export const CODES_INTRODUCED: readonly CodeIntroduced[] = [
  // 0190 address type: BI billing, S service location, SH shipping, V vacation "added v2.6".
  ...introduced(190, '2.6', ['BI', 'S', 'SH', 'V']),
  // 0200 name type: I, N (nickname), R "added v2.4"; K "added v2.6"; TEMP "added v2.7"
  // (the dictionary has no TEMP at all, so it fails in every version up to 2.6 anyway).
  ...introduced(200, '2.4', ['I', 'N', 'R']),
  ...introduced(200, '2.6', ['K']),
  ...introduced(200, '2.7', ['TEMP']),
  // 0201 telecommunication use: PRS (personal) "added v2.6"
  // (https://hl7.org/fhir/DSTU1/v2/0201/v2-0201.json.html). Issue 12
  // says 2.7; the published table history says 2.6, so 2.6 is accepted (docs/CONFORMANCE.md).
  ...introduced(201, '2.6', ['PRS']),
  // 0202 telecommunication equipment: TDD, TTY "added v2.5"; SAT "added v2.6".
  ...introduced(202, '2.5', ['TDD', 'TTY']),
  ...introduced(202, '2.6', ['SAT']),
  // 0301 universal id type: URI from 2.5 (issue 12). The v2.3.1 table has 12 codes and no
  // URI (https://build.fhir.org/ig/frankoemig/hl7.v2.terminology.v231/ValueSet-hl7VSuniversalIdType.html).
  ...introduced(301, '2.5', ['URI']),
];

/**
 * Table 0211 (alternate character sets, MSH-18) per version. Source: the v2 table pages
 * published with FHIR, which give the version that added each code:
 * https://hl7.org/fhir/DSTU2/v2/0211/index.html (and the same rows in
 * https://hl7.org/fhir/DSTU1/v2/0211/index.html, https://hl7.org/fhir/R4/v2/0211/):
 * `ASCII`, `8859/1`..`8859/9`, `ISO IR14`, `ISO IR87`, `ISO IR159`, `UNICODE` added v2.3;
 * `BIG-5`, `CNS 11643-1992`, `GB 18030-2000`, `KS X 1001`, `UNICODE UTF-8`,
 * `UNICODE UTF-16`, `UNICODE UTF-32` added v2.5; `8859/15` added v2.6. There is no code for Windows-1252 in any version.
 */
const CHARSETS_2_3 = [
  'ASCII',
  '8859/1',
  '8859/2',
  '8859/3',
  '8859/4',
  '8859/5',
  '8859/6',
  '8859/7',
  '8859/8',
  '8859/9',
  'ISO IR14',
  'ISO IR87',
  'ISO IR159',
  'UNICODE',
];
const CHARSETS_2_5 = [
  ...CHARSETS_2_3,
  'BIG-5',
  'CNS 11643-1992',
  'GB 18030-2000',
  'KS X 1001',
  'UNICODE UTF-8',
  'UNICODE UTF-16',
  'UNICODE UTF-32',
];
const CHARSETS_2_6 = [...CHARSETS_2_5, '8859/15'];

/**
 * Table 0104 (version id, MSH-12) of a version lists that version and the earlier ones;
 * the dictionary's copy stops at 2.6.
 */
const VERSION_IDS = ['2.0', '2.0D', '2.1', '2.2', '2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1'];

/** Tables listed in full per version: the first entry whose version <= the message's wins. */
export const TABLES_BY_VERSION: Readonly<Record<number, readonly { from: string; codes: readonly string[] }[]>> = {
  104: VERSION_IDS.filter((v) => v.startsWith('2.') && !v.endsWith('D'))
    .map((v) => ({ from: v, codes: VERSION_IDS.filter((id) => compareVersions(id.replace('D', ''), v) <= 0) }))
    .reverse(),
  211: [
    { from: '2.6', codes: CHARSETS_2_6 },
    { from: '2.5', codes: CHARSETS_2_5 },
    { from: '2.3', codes: CHARSETS_2_3 },
  ],
};

const cache = new Map<string, ReadonlySet<string> | null>();

/** The codes of table `table` in `version`, or undefined when the table is not checked. */
export function tableCodes(table: number, version: string): ReadonlySet<string> | undefined {
  const key = `${table}/${version}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const codes = computeCodes(table, version);
  cache.set(key, codes ?? null);
  return codes;
}

function computeCodes(table: number, version: string): ReadonlySet<string> | undefined {
  const listed = TABLES_BY_VERSION[table]?.find((entry) => compareVersions(entry.from, version) <= 0);
  if (listed) return new Set(listed.codes);
  const base = dictionaryTables()[String(table)];
  if (!base) return undefined;
  const codes = new Set(Object.keys(base.values));
  for (const c of CODES_INTRODUCED) {
    if (c.table === table && compareVersions(version, c.since) < 0) codes.delete(c.code);
  }
  return codes;
}
