import type { FhirIdentifier } from '../../event/patient-event.js';
import type { MappingProfile } from '../profile.js';
import type { IdentifierContext } from '../identifiers.js';
import type { IdentifierRules, PlacementField } from './receiver-adaptation.js';

/** The identifiers of one patient record as a receiver profile sorts them. */
export interface SelectedIdentifiers {
  /** PID-3 / MRG-1, in order. */
  list: readonly FhirIdentifier[];
  /** The identifier placed in PID-2, PID-4 or PID-19. */
  placed: Readonly<Partial<Record<PlacementField, FhirIdentifier>>>;
}

/**
 * Applies `identifiers.systems` and `identifiers.placement` (README "Fitting a receiver"):
 * - a placed system's first identifier with a value goes to its field, and that system is
 *   left out of the list, whether or not `systems` names it;
 * - with `systems`, the list holds the identifiers of those systems only, grouped in the
 *   order of `systems` (within a system, in the event's order); without it, every
 *   identifier in the event's order.
 * Without rules, the event's identifiers as they are.
 */
export function selectIdentifiers(identifiers: readonly FhirIdentifier[] | undefined, rules: IdentifierRules | undefined): SelectedIdentifiers {
  const all = identifiers ?? [];
  if (!rules) return { list: all, placed: {} };
  const placed: Partial<Record<PlacementField, FhirIdentifier>> = {};
  const placedSystems = new Set<string>();
  for (const [field, system] of Object.entries(rules.placement) as Array<[PlacementField, string]>) {
    placedSystems.add(system);
    const identifier = all.find((candidate) => candidate.system === system && candidate.value);
    if (identifier) placed[field] = identifier;
  }
  const list = rules.systems
    ? rules.systems.filter((system) => !placedSystems.has(system)).flatMap((system) => all.filter((identifier) => identifier.system === system))
    : all.filter((identifier) => !identifier.system || !placedSystems.has(identifier.system));
  return { list, placed };
}

/**
 * The identifier context of a subscription's messages: the same object for every message of
 * a profile (it keys the cache of encoded HDs, identifiers.ts), a new one if the profile's
 * authorities, version or overrides were replaced since.
 */
export function identifierContext(profile: MappingProfile): IdentifierContext {
  const authorities = profile.assigningAuthorities;
  const version = profile.version;
  const overrides = profile.adaptation?.identifiers?.authorities;
  const cached = CONTEXTS.get(profile);
  if (cached && cached.authorities === authorities && cached.version === version && cached.overrides === overrides) return cached;
  const context: IdentifierContext = { authorities, version, overrides };
  CONTEXTS.set(profile, context);
  return context;
}

const CONTEXTS = new WeakMap<MappingProfile, IdentifierContext>();
