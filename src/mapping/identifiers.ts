import type { FhirIdentifier } from '../event/patient-event.js';
import { escapeHl7, escapeHl7Code } from '../hl7/escape.js';
import { components, subcomponents, withRepetition } from '../hl7/segment.js';
import { versionAtLeast, type Hl7Version } from '../hl7/versions.js';
import { IDENTIFIER_TYPE, definedIn } from './tables/hl7-tables.js';
import type { AuthorityOverride } from './adapt/receiver-adaptation.js';

/**
 * FHIR `Identifier` -> HL7 CX (PID-3, MRG-1, PV1-19) and its assigning authority, an HD
 * (README "Producing events", docs/CODE-MAPPINGS.md). All returned strings are encoded HL7.
 */

/** FHIR identifier system -> HD-1 namespace id (MappingProfile.assigningAuthorities). */
export type AuthorityMap = Readonly<Record<string, string>>;

/** What encoding an identifier depends on besides the identifier itself. */
export interface IdentifierContext {
  /** `hl7.assigningAuthorities`: system -> HD-1 when the identifier has no `assigner.display`. */
  authorities: AuthorityMap;
  version: Hl7Version;
  /** A receiver profile's `identifiers.authorities`: per system, what to send instead. */
  overrides?: Readonly<Record<string, AuthorityOverride>> | undefined;
}

const OID_PREFIX = 'urn:oid:';
const UUID_PREFIX = 'urn:uuid:';

/**
 * The HD (CX-4) for an identifier `system` and optional `assigner.display`:
 * - HD-1 = `assignerDisplay`, else `authorities[system]` (an IS: control characters become
 *   spaces, see escape.ts);
 * - `urn:oid:X` -> HD-2 `X`, HD-3 `ISO` (every version);
 * - any other system is a URI: from 2.5, HD-2 the system itself, HD-3 `URI` (this includes
 *   `urn:uuid:...`: one rule for every non-OID system). Table 0301 has no `URI` before 2.5,
 *   so 2.3.1 and 2.4 get `urn:uuid:X` as HD-2 `X`, HD-3 `UUID`, and any other URI as HD-2
 *   the system, HD-3 `L` ("reserved for locally defined coding schemes": the receiver
 *   knows the URI from its interface agreement).
 * A receiver profile's override for the system (`context.overrides`) replaces each part it
 * gives. `undefined` when there is no authority at all (neither a system nor a display).
 */
export function authorityFor(system: string | undefined, assignerDisplay: string | undefined, context: IdentifierContext): string | undefined {
  // undefined and '' give the same HD (both mean "none"), so they share a cache entry.
  const systemKey = system ?? '';
  const displayKey = assignerDisplay ?? '';
  let bySystem = AUTHORITY_CACHE.get(context);
  if (!bySystem) AUTHORITY_CACHE.set(context, (bySystem = new Map()));
  let byDisplay = bySystem.get(systemKey);
  if (byDisplay?.has(displayKey)) return byDisplay.get(displayKey);
  const authority = encodeAuthority(system, assignerDisplay, context);
  if (!byDisplay && bySystem.size < MAX_CACHED) bySystem.set(systemKey, (byDisplay = new Map()));
  if (byDisplay && byDisplay.size < MAX_CACHED) byDisplay.set(displayKey, authority);
  return authority;
}

/**
 * The HDs already encoded per context, by system and assigner display: a subscription's
 * events name the same few authorities over and over. A context is not changed once used
 * (identifierContext() gives one per profile; profiles are built once). Bounded, since
 * systems and displays come from events: past MAX_CACHED entries an HD is encoded anew.
 */
const AUTHORITY_CACHE = new WeakMap<IdentifierContext, Map<string, Map<string, string | undefined>>>();
const MAX_CACHED = 256;

function encodeAuthority(system: string | undefined, assignerDisplay: string | undefined, context: IdentifierContext): string | undefined {
  const override = system && context.overrides && Object.hasOwn(context.overrides, system) ? context.overrides[system] : undefined;
  const namespace = override?.namespace ?? (assignerDisplay || (system ? ownValue(context.authorities, system) : undefined));
  const encodedNamespace = namespace ? escapeHl7Code(namespace) : undefined;
  if (!system) return encodedNamespace;
  const [universalId, universalIdType] = universalIdFor(system, context.version);
  return subcomponents(encodedNamespace, escapeHl7(override?.universalId ?? universalId), override?.universalIdType ?? universalIdType);
}

function universalIdFor(system: string, version: Hl7Version): [string, string] {
  if (system.startsWith(OID_PREFIX)) return [system.slice(OID_PREFIX.length), 'ISO'];
  if (versionAtLeast(version, '2.5')) return [system, 'URI'];
  if (system.startsWith(UUID_PREFIX)) return [system.slice(UUID_PREFIX.length), 'UUID'];
  return [system, 'L'];
}

/** The HD for a FHIR identifier, see {@link authorityFor}. */
export function identifierAuthority(identifier: FhirIdentifier, context: IdentifierContext): string | undefined {
  return authorityFor(identifier.system, identifier.assigner?.display, context);
}

/** CX-5 for an identifier: the receiver profile's `typeCode` for its system, else its own first coding. */
export function identifierTypeCode(identifier: FhirIdentifier, context: IdentifierContext): string | undefined {
  const system = identifier.system;
  const override = system && context.overrides && Object.hasOwn(context.overrides, system) ? context.overrides[system]?.typeCode : undefined;
  return override ?? identifier.type?.coding?.[0]?.code;
}

/**
 * CX `value^^^authority^type` (CX-1, CX-4, CX-5). CX-5 is `typeCode` when table 0203 of
 * `version` defines it, else empty: an unknown or local type code is not sent. Five
 * components at most, within both 2.3.1's limit of 6 and 2.5's 10. `authority` is an
 * encoded HD and may be undefined (PV1-19 allows that; PID-3 does not, see
 * {@link identifierList}).
 */
export function cx(value: string, authority: string | undefined, typeCode: string | undefined, version: Hl7Version): string {
  return components(escapeHl7(value), undefined, undefined, authority, definedIn(IDENTIFIER_TYPE, typeCode, version) ? typeCode : undefined);
}

/**
 * PID-3 / MRG-1: every identifier with a value and an authority, in the given order, as
 * repetitions. Identifiers lacking either are left out (a CX without CX-4 cannot be
 * resolved by a PIX manager). `authorityOverride` returns the HD to use instead of the
 * identifier's own (MRG-1 uses the survivor's HD for a shared system); when it returns
 * undefined the identifier's own HD applies.
 */
export function identifierList(
  identifiers: readonly FhirIdentifier[] | undefined,
  context: IdentifierContext,
  authorityOverride?: (identifier: FhirIdentifier) => string | undefined,
): string {
  if (!identifiers || identifiers.length === 0) return '';
  let field = '';
  for (const identifier of identifiers) {
    if (!identifier.value) continue;
    const authority = authorityOverride?.(identifier) ?? identifierAuthority(identifier, context);
    if (!authority) continue;
    field = withRepetition(field, cx(identifier.value, authority, identifierTypeCode(identifier, context), context.version));
  }
  return field;
}

/**
 * system -> encoded HD, from the first identifier of each system that has a value and an
 * authority: the authorities a PID-3 built from `identifiers` uses, per domain.
 */
export function authoritiesBySystem(identifiers: readonly FhirIdentifier[] | undefined, context: IdentifierContext): Map<string, string> {
  const bySystem = new Map<string, string>();
  for (const identifier of identifiers ?? []) {
    if (!identifier.system || !identifier.value || bySystem.has(identifier.system)) continue;
    const authority = identifierAuthority(identifier, context);
    if (authority) bySystem.set(identifier.system, authority);
  }
  return bySystem;
}

/** Own-property lookup, so a system named `constructor` or `__proto__` finds nothing inherited. */
function ownValue(map: AuthorityMap, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}
