import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';

/**
 * Named receiver profiles (README "Fitting a receiver"): the top-level `profiles` map, each
 * profile inline or read from a file (`{"file": "profiles/lab.json"}`, relative to the
 * configuration file). A subscription naming one with `"profile"` gets the profile's keys,
 * its own keys overriding them key by key; `settings`, `triggers` and `fields` are merged
 * entry by entry.
 * The merge happens on the raw JSON, before validation, so a profile's values are checked
 * in every subscription that uses it, with the subscription's own version and triggers.
 */

/** The keys a profile may hold: what adapts a subscription to its receiver. */
export const PROFILE_KEYS = ['settings', 'triggers', 'identifiers', 'fields', 'segments', 'framing', 'connection', 'rateLimit'] as const;
const MERGED_BY_ENTRY = new Set(['settings', 'triggers', 'fields']);

type Json = Record<string, unknown>;

/**
 * The subscriptions with their profiles applied, and every problem of the profiles and of
 * the references to them. Subscriptions without `profile` are returned as they are.
 */
export function applyProfiles(subscriptions: readonly unknown[], rawProfiles: unknown, baseDir: string, problems: string[]): unknown[] {
  const profiles = readProfiles(rawProfiles, baseDir, problems);
  return subscriptions.map((entry, index) => {
    if (!isObject(entry) || entry.profile === undefined) return entry;
    const name = typeof entry.name === 'string' ? ` (${entry.name})` : '';
    const path = `subscriptions[${index}]${name}.profile`;
    if (typeof entry.profile !== 'string') {
      problems.push(`${path}: must be the name of a profile`);
      return entry;
    }
    const profile = profiles.get(entry.profile);
    if (!profile) {
      const defined = [...profiles.keys()].join(', ') || 'none';
      problems.push(`${path}: no profile named "${entry.profile}" (defined: ${defined})`);
      return entry;
    }
    return merge(profile, entry);
  });
}

function merge(profile: Json, subscription: Json): Json {
  const merged: Json = { ...profile, ...subscription };
  for (const key of MERGED_BY_ENTRY) {
    if (isObject(profile[key]) && isObject(subscription[key])) merged[key] = { ...profile[key], ...subscription[key] };
  }
  return merged;
}

function readProfiles(raw: unknown, baseDir: string, problems: string[]): Map<string, Json> {
  const profiles = new Map<string, Json>();
  if (raw === undefined || raw === null) return profiles;
  if (!isObject(raw)) {
    problems.push('profiles: must be an object of named profiles');
    return profiles;
  }
  for (const [name, value] of Object.entries(raw)) {
    const path = `profiles.${name}`;
    const profile = isObject(value) && Object.keys(value).length === 1 && typeof value.file === 'string' ? readProfileFile(value.file, baseDir, path, problems) : value;
    if (!isObject(profile)) {
      if (profile !== undefined) problems.push(`${path}: must be an object (or {"file": "..."})`);
      continue;
    }
    const known: Json = {};
    for (const [key, entry] of Object.entries(profile)) {
      if ((PROFILE_KEYS as readonly string[]).includes(key)) known[key] = entry;
      else problems.push(`${path}.${key}: is not a profile key (known: ${PROFILE_KEYS.join(', ')})`);
    }
    profiles.set(name, known);
  }
  return profiles;
}

function readProfileFile(file: string, baseDir: string, path: string, problems: string[]): unknown {
  let text: string;
  try {
    text = readFileSync(resolvePath(baseDir, file), 'utf8');
  } catch (error) {
    problems.push(`${path}.file: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    problems.push(`${path}.file: is not valid JSON`);
    return undefined;
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
