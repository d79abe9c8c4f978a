import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatErrors, validateMessage } from '../../helpers/hl7-validator/index.js';

/**
 * Every golden file (test/golden/*.hl7) is valid for its own MSH-12 version (issue 12
 * item 6). The files hold one segment per line and a blank line between the messages of
 * one event (test/unit/mapping/mapping-fixtures.ts readGolden); `\r` line ends are read
 * the same way here, so the check does not depend on how a file was saved.
 */

const GOLDEN_DIR = fileURLToPath(new URL('../../golden/', import.meta.url));

/** The messages of a golden file, as sent: segments ended by `\r`. */
function goldenMessages(content: string): string[] {
  const lines = content.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  return lines.split(/\n\n+/).map((chunk) => `${chunk.replaceAll('\n', '\r')}\r`);
}

const files = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.hl7'))
  .sort();

describe('golden files conform to their HL7 version', () => {
  it('finds the golden files', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it('reads one message per blank-line-separated block, with either line end', () => {
    expect(goldenMessages('MSH|a\nEVN|b\n\nMSH|c\n')).toEqual(['MSH|a\rEVN|b\r', 'MSH|c\r']);
    expect(goldenMessages('MSH|a\r\nEVN|b\r\n\r\nMSH|c')).toEqual(['MSH|a\rEVN|b\r', 'MSH|c\r']);
  });

  for (const file of files) {
    it(file, () => {
      const messages = goldenMessages(readFileSync(`${GOLDEN_DIR}${file}`, 'utf8'));
      expect(messages.length).toBeGreaterThan(0);
      const report = messages
        .map((m, i) => ({ i, errors: validateMessage(m) }))
        .filter((r) => r.errors.length > 0)
        .map((r) => `message ${r.i + 1}:\n${formatErrors(r.errors)}`)
        .join('\n');
      expect(report).toBe('');
    });
  }
});
