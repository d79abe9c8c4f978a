import {
  validateMessage as validateWithProjectExceptions,
  type ValidateOptions,
  type ValidationError,
} from '../../helpers/hl7-validator/index.js';

/** Hand-written messages for the validator's own tests (validator*.test.ts). */

/** The judge without the project's deliberate exceptions: every rule must be seen here. */
export const validateMessage = (text: string, options: ValidateOptions = {}): ValidationError[] =>
  validateWithProjectExceptions(text, { exceptions: [], ...options });

export const TIME = '20260315143022+0100';

/**
 * MSH with MSH-9 `type`. 2.3.1 gives MSH-9 a length of 7, so `ADT^A01^ADT_A01` (15) does
 * not fit there: 2.3.1 messages here send `ADT^A01` (the structure then comes from the
 * event) unless a test is about MSH-9 itself.
 */
export function msh(version: string, type = version === '2.3.1' ? 'ADT^A01' : 'ADT^A01^ADT_A01', tail = ''): string {
  return `MSH|^~\\&|APP|FAC|RAPP|RFAC|${TIME}||${type}|CTRL-1|P|${version}${tail}`;
}

/** Segments joined and ended by `\r`, as on the wire (un-framed). */
export function message(...segments: string[]): string {
  return segments.map((s) => `${s}\r`).join('');
}

export const EVN = `EVN||${TIME}`;
export const PID_25 = 'PID|1||PAT-1^^^ACME&1.2.3&ISO^PI||Doe^Jane^^^^^L||19840312|F';
export const PID_231 = 'PID|1||PAT-1^^^ACME^PI||Doe^Jane^^^^^L||19840312|F';
export const PV1 = 'PV1|1|N';

export function a01(version: string, pid: string, ...rest: string[]): string {
  return message(msh(version), EVN, pid, PV1, ...rest);
}

/** The errors reduced to `path rule`, for compact expectations. */
export function found(errors: readonly ValidationError[]): string[] {
  return errors.map((e) => `${e.path} ${e.rule}`);
}

