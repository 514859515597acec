'use strict';

/**
 * Errors made on the JS side. Errors from the native core arrive already built
 * (an `Error`, or a `TypeError` for argument errors, with a stable `code`, the
 * OS error as `cause` and the `path` for I/O failures), so nothing here reads
 * an error's message.
 *
 * Every code comes from the core's one list (`core/src/error.rs`, `Code`),
 * which the addon exports as `errorCodes()`: a code not in it is a bug, and
 * the error's class (`TypeError` for argument errors, `RangeError` for
 * `E_TOO_DEEP`) is the list's, as the core makes them.
 */

const binding = require('./loader.js');

/** `code` → `{ code, class, origin, summary }`. */
const CODES = new Map(binding.errorCodes().map(c => [c.code, c]));
const CLASSES = { Error, TypeError, RangeError };

/** Creates an error with a stable `code` from the core's list. */
function storeError(code, message, fields) {
  const info = CODES.get(code);
  if (info === undefined) {
    const err = new Error(`tad-store internal error: the code ${JSON.stringify(code)} is not in the core's list of error codes (${message})`);
    err.code = 'E_INTERNAL';
    return err;
  }
  const err = new CLASSES[info.class](message);
  err.code = code;
  if (fields) Object.assign(err, fields);
  return err;
}

function closedError() {
  return storeError('E_CLOSED', 'The store is closed; create a new Store to use it again');
}

module.exports = { storeError, closedError, CODES };
