'use strict';

/**
 * Errors made on the JS side. Errors from the native core arrive already built
 * (an `Error`, or a `TypeError` for argument errors, with a stable `code`, the
 * OS error as `cause` and the `path` for I/O failures), so nothing here reads
 * an error's message.
 */

/**
 * Creates an error with a stable `code`: a `TypeError` for argument errors, a
 * `RangeError` for `E_TOO_DEEP` (as the core makes them).
 */
function storeError(code, message, fields) {
  const err = code === 'E_INVALID_ARGUMENT' || code === 'E_FORBIDDEN_KEY'
    ? new TypeError(message)
    : code === 'E_TOO_DEEP' ? new RangeError(message) : new Error(message);
  err.code = code;
  if (fields) Object.assign(err, fields);
  return err;
}

function closedError() {
  return storeError('E_CLOSED', 'The store is closed; create a new Store to use it again');
}

module.exports = { storeError, closedError };
