import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files that ship beside the code (config/, schemas/, certs/). This module sits at
 * src/package-paths.ts and, compiled, at dist/package-paths.js: one level below the root.
 */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULTS_FILE = resolve(PACKAGE_ROOT, 'config', 'default.json');
export const EVENT_SCHEMA_FILE = resolve(PACKAGE_ROOT, 'schemas', 'patient-event.schema.json');
