import type { FhirIdentifier } from '../event/patient-event.js';
import { escapeHl7 } from '../hl7/escape.js';
import { components, repetitions, subcomponents } from '../hl7/segment.js';

/**
 * FHIR `Identifier` -> HL7 CX (PID-3, MRG-1, PV1-19) and its assigning authority, an HD
 * (HL7-OUTBOUND.md, PID-3 row). All returned strings are encoded (escaped) HL7.
 */

/** FHIR identifier system -> HD-1 namespace id (MappingProfile.assigningAuthorities). */
export type AuthorityMap = Readonly<Record<string, string>>;

const OID_PREFIX = 'urn:oid:';

/**
 * The HD (CX-4) for an identifier `system` and optional `assigner.display`:
 * - HD-1 = `assignerDisplay`, else `authorities[system]`;
 * - `urn:oid:X` -> HD-2 `X`, HD-3 `ISO`; any other system is taken as a URI -> HD-2 the
 *   system itself, HD-3 `URI` (this includes `urn:uuid:...`, which HL7 table 0301 could
 *   also call `UUID`: kept as `URI` so one rule covers every non-OID system).
 * `undefined` when there is no authority at all (neither a system nor a display).
 */
export function authorityFor(system: string | undefined, assignerDisplay: string | undefined, authorities: AuthorityMap): string | undefined {
  const namespace = assignerDisplay || (system ? ownValue(authorities, system) : undefined);
  if (!system) return namespace ? escapeHl7(namespace) : undefined;
  const oid = system.startsWith(OID_PREFIX);
  return subcomponents(
    namespace ? escapeHl7(namespace) : undefined,
    escapeHl7(oid ? system.slice(OID_PREFIX.length) : system),
    oid ? 'ISO' : 'URI',
  );
}

/** The HD for a FHIR identifier, see {@link authorityFor}. */
export function identifierAuthority(identifier: FhirIdentifier, authorities: AuthorityMap): string | undefined {
  return authorityFor(identifier.system, identifier.assigner?.display, authorities);
}

/**
 * CX `value^^^authority^type` (CX-1, CX-4, CX-5 = `type.coding[0].code`, table 0203).
 * Five components at most, within both 2.3.1's limit of 6 and 2.5's 10.
 * `authority` is an encoded HD and may be undefined (PV1-19 allows that; PID-3 does not,
 * see {@link identifierList}).
 */
export function cx(value: string, authority: string | undefined, typeCode: string | undefined): string {
  return components(escapeHl7(value), undefined, undefined, authority, typeCode ? escapeHl7(typeCode) : undefined);
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
  authorities: AuthorityMap,
  authorityOverride?: (identifier: FhirIdentifier) => string | undefined,
): string {
  if (!identifiers || identifiers.length === 0) return '';
  const out: string[] = [];
  for (const identifier of identifiers) {
    if (!identifier.value) continue;
    const authority = authorityOverride?.(identifier) ?? identifierAuthority(identifier, authorities);
    if (!authority) continue;
    out.push(cx(identifier.value, authority, identifier.type?.coding?.[0]?.code));
  }
  return repetitions(out);
}

/**
 * system -> encoded HD, from the first identifier of each system that has a value and an
 * authority: the authorities a PID-3 built from `identifiers` uses, per domain.
 */
export function authoritiesBySystem(identifiers: readonly FhirIdentifier[] | undefined, authorities: AuthorityMap): Map<string, string> {
  const bySystem = new Map<string, string>();
  for (const identifier of identifiers ?? []) {
    if (!identifier.system || !identifier.value || bySystem.has(identifier.system)) continue;
    const authority = identifierAuthority(identifier, authorities);
    if (authority) bySystem.set(identifier.system, authority);
  }
  return bySystem;
}

/** Own-property lookup, so a system named `constructor` or `__proto__` finds nothing inherited. */
function ownValue(map: AuthorityMap, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}
