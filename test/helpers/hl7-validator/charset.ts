import type { ValidationError } from './types.js';

/**
 * The characters of a message against the character set MSH-18 declares (table 0211).
 * The validator sees decoded text, so it checks that every character is one the declared
 * set can hold: HL7 makes ASCII the default when MSH-18 is empty ("This is the default if
 * this field is omitted", table 0211), so a non-ASCII letter needs an MSH-18.
 * - empty or `ASCII`: U+0000..U+007F only;
 * - `8859/1`: U+0000..U+00FF (ISO-8859-1 maps its bytes 1:1 to those code points);
 * - `UNICODE`, `UNICODE UTF-8/16/32`: anything;
 * - any other code (8859/2.., the Asian sets): not judged here.
 * Only the first repetition of MSH-18 (the set of the whole message) is read; code
 * switching with escape sequences is not used by this project.
 *
 * Under `8859/1`, when every offending character is one Windows-1252 has at 0x80-0x9F
 * (where ISO-8859-1 has C1 controls: `€ ‚ „ … ’ “ ” –`...), the detail says so: such a
 * message is Windows-1252 labelled as 8859/1 (table 0211 has no code for Windows-1252), and
 * an exception can name exactly that case (exceptions.ts `detail`).
 */
const WINDOWS_1252_EXTRA = new Set(Array.from('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ', (c) => c.codePointAt(0) ?? 0));
const LIMITS: Readonly<Record<string, number>> = {
  '': 0x7f,
  ASCII: 0x7f,
  '8859/1': 0xff,
};

export function checkCharacterSet(text: string, declared: string, errors: ValidationError[]): void {
  const limit = declared.startsWith('UNICODE') ? undefined : LIMITS[declared];
  if (limit === undefined) return;
  let count = 0;
  let windows1252 = 0;
  let first = -1;
  let segment = 1;
  let firstSegment = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i) ?? 0;
    if (text[i] === '\r') segment++;
    if (code > limit) {
      if (first < 0) {
        first = i;
        firstSegment = segment;
      }
      count++;
      if (WINDOWS_1252_EXTRA.has(code)) windows1252++;
      if (code > 0xffff) i++;
    }
  }
  if (count > 0) {
    const name = declared === '' ? 'ASCII (MSH-18 empty)' : declared;
    const which = declared === '8859/1' && windows1252 === count ? 'Windows-1252 character(s) (0x80-0x9F there)' : 'character(s)';
    errors.push({
      path: 'MSH-18',
      rule: 'charset',
      detail: `${count} ${which} outside ${name}, the first in segment ${firstSegment}`,
    });
  }
}
