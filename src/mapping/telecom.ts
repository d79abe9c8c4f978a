import type { FhirContactPoint } from '../event/patient-event.js';
import { versionAtLeast, type Hl7Version } from '../hl7/versions.js';
import { escapeHl7 } from '../hl7/escape.js';
import { COMPONENT_SEPARATOR, components, withRepetition } from '../hl7/segment.js';

/** FHIR `ContactPoint` -> HL7 XTN (PID-13, PID-14). All returned strings are encoded HL7. */

export interface TelecomFields {
  /** PID-13, phone number - home. */
  home: string;
  /** PID-14, phone number - business. */
  business: string;
}

/**
 * XTN per version (docs/CODE-MAPPINGS.md, telecom):
 * - e-mail (every version): `^NET^Internet^address` (XTN-4);
 * - 2.5 and later, numbers: `^use^equipment^^^^^^^^^number` (XTN-12; XTN-1 is deprecated);
 * - 2.3.1 and 2.4, numbers: `number^use^equipment` (XTN-1; XTN-12 comes in 2.5).
 * The number is sent as given (no reformatting).
 *
 * XTN-2 use (table 0201) / XTN-3 equipment (table 0202). Every code below is in the tables
 * of 2.3.1 to 2.6; `PRS` (personal), the natural code for a mobile, is missing before 2.6,
 * so a mobile is a primary residence number on cellular equipment, `PRN^CP`, in every version:
 * - phone: home/mobile/no use -> PRN (mobile with equipment CP, else PH), work -> WPN^PH,
 *   temp -> ORN^PH;
 * - sms: a number that takes text messages, i.e. a cellular one: equipment CP, use WPN
 *   for work, else PRN;
 * - fax: equipment FX, use as for phone; pager: BPN^BP;
 * - `url` and `other` are not telecommunication numbers or addresses: left out, as is
 *   any contact point with use `old` (no longer valid) or without a value.
 * Returns undefined when the contact point is left out.
 */
export function xtn(point: FhirContactPoint, version: Hl7Version): string | undefined {
  const value = point.value;
  if (!value || point.use === 'old') return undefined;
  switch (point.system) {
    case 'email':
      return components(undefined, 'NET', 'Internet', escapeHl7(value));
    case 'phone':
      return number(value, phoneUse(point), point.use === 'mobile' ? 'CP' : 'PH', version);
    case 'sms':
      return number(value, point.use === 'work' ? 'WPN' : 'PRN', 'CP', version);
    case 'fax':
      return number(value, phoneUse(point), 'FX', version);
    case 'pager':
      return number(value, 'BPN', 'BP', version);
    default:
      return undefined; // url, other, or no system
  }
}

/**
 * PID-13 / PID-14: contact points with use `work` go to PID-14 (business), all others to
 * PID-13 (home) — so a work e-mail is in PID-14 and a home e-mail in PID-13. Within each
 * field, contact points with a `rank` come first, lowest rank first (FHIR: 1 = most
 * preferred; HL7: the first repetition is the primary one); the rest keep their order.
 */
export function telecomFields(points: readonly FhirContactPoint[] | undefined, version: Hl7Version): TelecomFields {
  if (!points || points.length === 0) return { home: '', business: '' };
  const ordered = points.some((p) => p.rank !== undefined) ? [...points].sort(byRank) : points;
  let home = '';
  let business = '';
  for (const point of ordered) {
    if (point.use === 'work') business = withRepetition(business, xtn(point, version));
    else home = withRepetition(home, xtn(point, version));
  }
  return { home, business };
}

function phoneUse(point: FhirContactPoint): string {
  switch (point.use) {
    case 'work':
      return 'WPN';
    case 'temp':
      return 'ORN';
    default:
      return 'PRN';
  }
}

function number(value: string, use: string, equipment: string, version: Hl7Version): string {
  const encoded = escapeHl7(value);
  return !versionAtLeast(version, '2.5')
    ? components(encoded, use, equipment)
    : components(undefined, use, equipment) + EMPTY_XTN_4_TO_11 + encoded;
}

/** From XTN-3 to XTN-12: the separators around the empty XTN-4 to XTN-11. */
const EMPTY_XTN_4_TO_11 = COMPONENT_SEPARATOR.repeat(9);

/**
 * Lower rank first; a point without a rank after every ranked one. Array.prototype.sort is
 * stable, so equal ranks (and unranked points) keep their order.
 */
function byRank(a: FhirContactPoint, b: FhirContactPoint): number {
  const rankA = a.rank ?? Number.POSITIVE_INFINITY;
  const rankB = b.rank ?? Number.POSITIVE_INFINITY;
  return rankA === rankB ? 0 : rankA < rankB ? -1 : 1;
}
