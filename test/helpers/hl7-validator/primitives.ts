import type { ValidationError } from './types.js';
import { compareVersions } from './types.js';
import { tableCodes } from './tables.js';

/**
 * Checks of one primitive value (no separators left in it), by data type:
 * - every type: no raw control character (< 0x20; the segment terminator CR never reaches
 *   a value because segments are split on it, so any CR/LF/TAB/NUL... here is raw data);
 * - TS/DTM: `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`; before 2.5 the hour needs
 *   its minutes (`HHMM`), as 2.3.1/2.4 define TS; fields must be in range (month 01-12 ...);
 * - DT: `YYYY[MM[DD]]`; TM: `HH[MM[SS[.S[S[S[S]]]]]][+/-ZZZZ]`;
 * - NM: optional sign, digits, optional decimal point; SI: a non-negative integer;
 * - ID/IS: in its table for the message's version (tables.ts), when the table is checked
 *   (coded CE/CWE values are checked by fields.ts with checkTable).
 * The HL7 null `""` passes every check.
 */

const DTM_25 = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$/;
const DTM_PRE_25 = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?)?)?([+-]\d{4})?$/;
const DT = /^(\d{4})(?:(\d{2})(\d{2})?)?$/;
const TM = /^(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,4})?)?)?([+-]\d{4})?$/;
const NM = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const SI = /^\d+$/;
const CONTROL = /[\u0000-\u001f]/;

export function checkPrimitive(
  raw: string,
  datatype: string,
  table: number | undefined,
  version: string,
  path: string,
  errors: ValidationError[],
): void {
  const control = CONTROL.exec(raw);
  if (control) {
    const hex = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    errors.push({ path, rule: 'control-char', detail: `raw control character 0x${hex} in ${datatype} value` });
  }
  if (raw === '' || raw === '""') return;
  const problem = formatProblem(raw, datatype, version);
  if (problem) errors.push({ path, rule: 'datatype', detail: problem });
  if ((datatype === 'ID' || datatype === 'IS') && table !== undefined) checkTable(raw, datatype, table, version, path, errors);
}

/** `raw` must be a code of `table` in `version` (when the table is checked at all, see tables.ts). */
export function checkTable(raw: string, datatype: string, table: number, version: string, path: string, errors: ValidationError[]): void {
  if (raw === '' || raw === '""') return;
  // Table 0396 (coding system) names HL7 tables by pattern (`HL7nnnn`) and local systems by `99zzz`.
  if (table === 396 && /^(?:HL7\d{4}|99[A-Za-z0-9]+)$/.test(raw)) return;
  const codes = tableCodes(table, version);
  if (codes && !codes.has(raw)) {
    errors.push({ path, rule: 'table', detail: `${datatype} value ${showCode(raw)} not in table ${tableId(table)} of v${version}` });
  }
}

export function tableId(table: number): string {
  return String(table).padStart(4, '0');
}

/** A code is shown when it is short printable ASCII (a code, not data); else only its length. */
function showCode(raw: string): string {
  return /^[\x20-\x7e]{1,12}$/.test(raw) ? JSON.stringify(raw) : `(${raw.length} chars)`;
}

function formatProblem(raw: string, datatype: string, version: string): string | undefined {
  switch (datatype) {
    case 'DTM':
    case 'TS': {
      const pre25 = compareVersions(version, '2.5') < 0;
      const m = (pre25 ? DTM_PRE_25 : DTM_25).exec(raw);
      if (!m) return `not a ${pre25 ? 'TS' : 'DTM'} (YYYY[MM[DD[HH${pre25 ? 'MM' : '[MM'}...]]]][+/-ZZZZ])`;
      return dateRangeProblem(m[2], m[3]) ?? timeRangeProblem(m[4], m[5], m[6], m[7]);
    }
    case 'DT': {
      const m = DT.exec(raw);
      if (!m) return 'not a DT (YYYY[MM[DD]])';
      return dateRangeProblem(m[2], m[3]);
    }
    case 'TM': {
      const m = TM.exec(raw);
      if (!m) return 'not a TM (HH[MM[SS[.SSSS]]][+/-ZZZZ])';
      return timeRangeProblem(m[1], m[2], m[3], m[4]);
    }
    case 'NM':
      return NM.test(raw) ? undefined : 'not an NM (optional sign, digits, optional decimal point)';
    case 'SI':
      return SI.test(raw) ? undefined : 'not an SI (non-negative integer)';
    default:
      return undefined;
  }
}

function dateRangeProblem(month: string | undefined, day: string | undefined): string | undefined {
  if (month !== undefined && (Number(month) < 1 || Number(month) > 12)) return 'month out of range';
  if (day !== undefined && (Number(day) < 1 || Number(day) > 31)) return 'day out of range';
  return undefined;
}

function timeRangeProblem(
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
  offset: string | undefined,
): string | undefined {
  if (hour !== undefined && Number(hour) > 23) return 'hour out of range';
  if (minute !== undefined && Number(minute) > 59) return 'minute out of range';
  if (second !== undefined && Number(second) > 59) return 'second out of range';
  if (offset !== undefined && (Number(offset.slice(1, 3)) > 14 || Number(offset.slice(3)) > 59)) return 'UTC offset out of range';
  return undefined;
}
