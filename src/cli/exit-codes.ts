/** Process exit codes (README "CLI": 0, 78, 64 for a malformed command line, 1). */
export const EXIT_OK = 0;
/** Anything unexpected. */
export const EXIT_FAILURE = 1;
/** The command line itself is malformed (unknown command or option): sysexits EX_USAGE. */
export const EXIT_USAGE = 64;
/** Configuration error: the message names the key and the reason (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
/** `backfill`: every valid record was published, invalid input records were skipped (sysexits EX_DATAERR). */
export const EXIT_DATA = 65;
