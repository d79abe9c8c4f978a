/**
 * Copies the fields of `optional` that are not undefined onto `base`. With
 * exactOptionalPropertyTypes an optional field must be absent rather than `undefined`;
 * this keeps call sites that build result objects flat.
 */
export function withDefined<T extends object, O extends Record<string, unknown>>(
  base: T,
  optional: O,
): T & Partial<{ [K in keyof O]: Exclude<O[K], undefined> }> {
  const result = base as Record<string, unknown>;
  // for-in: no array of keys per call (this runs several times per event).
  for (const key in optional) {
    const value = optional[key];
    if (value !== undefined) result[key] = value;
  }
  return result as T & Partial<{ [K in keyof O]: Exclude<O[K], undefined> }>;
}
