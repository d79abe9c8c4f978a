/** A group of convict's schema (src/config/schema.ts): keys to groups or leaves. */
export type SchemaNode = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A convict schema leaf declares a default; a group does not. */
function isSchemaLeaf(node: unknown): boolean {
  return isPlainObject(node) && 'default' in node;
}

/**
 * convict cannot load an object where the schema has a single value (it recurses into a
 * leaf and fails with unrelated messages), nor a single value where it has a group.
 * Such values are reported here, by key, and left out of what convict loads; unknown keys
 * are passed through so convict's strict validation names them.
 */
export function withoutMisshapenValues(value: Record<string, unknown>, schema: SchemaNode, prefix: string, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    const path = `${prefix}${key}`;
    const node = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (node === undefined) {
      out[key] = entry;
    } else if (isSchemaLeaf(node)) {
      if (isPlainObject(entry) && !isPlainObject((node as { default: unknown }).default)) {
        problems.push(`${path}: must be a single value, not an object (${String((node as { doc?: unknown }).doc ?? 'see the schema')})`);
      } else {
        out[key] = entry;
      }
    } else if (isPlainObject(entry)) {
      out[key] = withoutMisshapenValues(entry, node as SchemaNode, `${path}.`, problems);
    } else {
      problems.push(`${path}: must be an object with the keys ${Object.keys(node as SchemaNode).join(', ')}`);
    }
  }
  return out;
}
