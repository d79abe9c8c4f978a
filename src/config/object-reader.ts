/**
 * Reads an untyped JSON object field by field, collecting every problem with its path
 * (`subscriptions[0].settings.Version: must be one of 2.5, 2.3.1`) instead of stopping at
 * the first. Values are never echoed in problems: they may be secrets.
 */
export class ObjectReader {
  private readonly seen = new Set<string>();

  constructor(
    private readonly value: Record<string, unknown>,
    readonly path: string,
    private readonly problems: string[],
  ) {}

  static of(value: unknown, path: string, problems: string[]): ObjectReader | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${path}: must be an object`);
      return undefined;
    }
    return new ObjectReader(value as Record<string, unknown>, path, problems);
  }

  problem(key: string | undefined, reason: string): void {
    this.problems.push(`${key === undefined ? this.path : this.pathOf(key)}: ${reason}`);
  }

  pathOf(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    this.seen.add(key);
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.value[key];
  }

  string(key: string, options: { required?: boolean; pattern?: RegExp; patternText?: string; maxLength?: number } = {}): string | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) {
      if (options.required) this.problem(key, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') return this.fail(key, 'must be a string');
    if (options.required && value === '') return this.fail(key, 'must not be empty');
    if (options.maxLength !== undefined && value.length > options.maxLength) {
      return this.fail(key, `must be at most ${options.maxLength} characters (has ${value.length})`);
    }
    if (options.pattern && !options.pattern.test(value)) return this.fail(key, `must match ${options.patternText ?? options.pattern}`);
    return value;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T;
  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined;
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.problem(key, `must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  integer(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(key);
    if (value === undefined || value === null) return fallback;
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      this.problem(key, max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value as number;
  }

  stringList(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
      return this.fail(key, 'must be a list of strings');
    }
    return value as string[];
  }

  /** RFC 3339 date-time with a zone, or null/absent. */
  instant(key: string): Date | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
      return this.fail(key, 'must be an RFC 3339 date-time with a zone, e.g. 2026-01-01T00:00:00Z');
    }
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return this.fail(key, 'is not a valid date-time');
    return date;
  }

  /** The object's own keys, for a map of named entries (its keys are data, not settings). */
  keys(): string[] {
    return Object.keys(this.value);
  }

  /** The object at position `index` of the list under `key`, read with its own path (`key[2]`). */
  childAt(key: string, index: number): ObjectReader | undefined {
    const list = this.raw(key);
    if (!Array.isArray(list)) return undefined;
    return ObjectReader.of(list[index], `${this.pathOf(key)}[${index}]`, this.problems);
  }

  child(key: string): ObjectReader | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    return ObjectReader.of(value, this.pathOf(key), this.problems);
  }

  /** Reports keys that were never read: typos must not be silently ignored. */
  rejectUnknownKeys(): void {
    for (const key of Object.keys(this.value)) {
      if (!this.seen.has(key)) this.problem(key, 'is not a known setting');
    }
  }

  private fail(key: string, reason: string): undefined {
    this.problem(key, reason);
    return undefined;
  }
}
