'use strict';

/** Codes that are argument errors: thrown as `TypeError`. */
const TYPE_CODES = new Set(['E_INVALID_ARGUMENT', 'E_FORBIDDEN_KEY']);

/** Creates an error with a stable `code`. */
function storeError(code, message, fields) {
  const err = TYPE_CODES.has(code) ? new TypeError(message) : new Error(message);
  err.code = code;
  if (fields) Object.assign(err, fields);
  return err;
}

/** Turns a native error (`[E_CODE] message`) into a JS error with `code`. */
function fromNative(err) {
  const m = err && typeof err.message === 'string' && /^\[(E_[A-Z_]+)\] ([\s\S]*)$/.exec(err.message);
  if (!m) return err;
  return storeError(m[1], m[2]);
}

function closedError() {
  return storeError('E_CLOSED', 'The store is closed; create a new Store to use it again');
}

module.exports = { storeError, fromNative, closedError, TYPE_CODES };
