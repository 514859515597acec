'use strict';

/**
 * The support command's errors and exit codes. Every failure the command
 * reports has a stable `code` (the store's own codes where the store made the
 * error) and maps to one exit code, so a script can tell a missing store from
 * a damaged one, a wrong key or a held lock without reading messages.
 */

/** Exit codes (also in `tad-store --help` and the README). */
const EXIT = {
  OK: 0,
  /** `verify` found something that does not verify (and nothing worse). */
  VERIFY_FAILED: 1,
  /** Unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** No store at that path (no document file and no journal). */
  NOT_FOUND: 3,
  /** The store is damaged (document or journal), or a backup is. */
  DAMAGED: 4,
  /** A key is needed, or the key given is not the store's. */
  KEY: 5,
  /** Another process holds the store's lock and does not let it go. */
  LOCKED: 6,
  /** A rollback target outside the kept history, or history that does not lead to the store's state. */
  HISTORY: 7,
  /** Any other failure (I/O, permissions, a read-only directory, internal). */
  OTHER: 8,
};

/** The exit code for an error code. */
function exitCodeOf(code) {
  switch (code) {
    case 'E_USAGE':
    case 'E_INVALID_ARGUMENT':
      return EXIT.USAGE;
    case 'E_STORE_NOT_FOUND':
    case 'E_BACKUP_NOT_FOUND':
    case 'E_NOT_FOUND':
      return EXIT.NOT_FOUND;
    case 'E_CORRUPT':
    case 'E_JOURNAL':
    case 'E_BACKUP_CORRUPT':
    case 'E_TOO_DEEP':
      return EXIT.DAMAGED;
    case 'E_SECRET_KEY':
      return EXIT.KEY;
    case 'E_LOCKED':
      return EXIT.LOCKED;
    case 'E_HISTORY_TRUNCATED':
    case 'E_HISTORY_MISMATCH':
      return EXIT.HISTORY;
    case 'E_VERIFY_FAILED':
      return EXIT.VERIFY_FAILED;
    default:
      return EXIT.OTHER;
  }
}

/** An error of the command itself, with a code. */
function cliError(code, message, fields) {
  const err = new Error(message);
  err.code = code;
  if (fields) Object.assign(err, fields);
  return err;
}

module.exports = { EXIT, exitCodeOf, cliError };
