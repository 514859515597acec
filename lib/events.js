'use strict';

/**
 * Delivering a file's background events to the Store instances on it (see
 * `StoreEvent` in binding.d.ts): to the instances with a listener, a listener
 * that throws reported without stopping the others, and a process warning
 * when no instance listens (an error nobody hears is never dropped silently).
 */

/** A listener threw: the store's `'listenerError'` listeners hear it, else a process warning. */
function reportListenerError(store, error) {
  if (store.events.listenerCount('listenerError') > 0) {
    store.events.emit('listenerError', error);
  } else {
    process.emitWarning(`tad-store: a change listener threw: ${error && error.stack ? error.stack : error}`, {
      code: 'TAD_STORE_LISTENER_ERROR',
    });
  }
}

/**
 * Emits `name` with `value` on every instance that listens for it; returns
 * whether one did.
 */
function emitToListeners(instances, name, value) {
  let heard = false;
  for (const inst of instances) {
    if (inst.events.listenerCount(name) === 0) continue;
    heard = true;
    try {
      inst.events.emit(name, value);
    } catch (listenerError) {
      reportListenerError(inst, listenerError);
    }
  }
  return heard;
}

/** Another program's edit of the file was refused: `'invalid-external-change'`, or a warning. */
function invalidExternalChange(instances, e) {
  const info = { code: e.code, reason: e.message, path: e.kept ?? null, file: instances[0].path };
  if (emitToListeners(instances, 'invalid-external-change', info)) return;
  process.emitWarning(`tad-store: ${info.file}: an external edit was not applied: ${info.reason}${info.path ? ` (kept as ${info.path})` : ''}`, {
    code: 'TAD_STORE_INVALID_EXTERNAL_CHANGE',
  });
}

/**
 * Writing failed, a queued change was dropped, or watching failed: `'error'`
 * with the error made natively as thrown errors are (plus `pending` or
 * `keys`), or a warning.
 */
function backgroundError(instances, e) {
  const { error } = e;
  if (e.type === 'rejected') error.keys = e.keys;
  else if (e.type === 'write-failed') error.pending = e.pending;
  if (emitToListeners(instances, 'error', error)) return;
  const what =
    e.type === 'rejected'
      ? 'a change was dropped'
      : e.type === 'watch-error'
        ? 'watching failed'
        : `writing failed (${e.pending} changes kept in memory and retried)`;
  process.emitWarning(`tad-store: ${instances[0].path}: ${what}: ${error.message}`, {
    code: e.type === 'rejected' ? 'TAD_STORE_CHANGE_REJECTED' : 'TAD_STORE_WRITE_ERROR',
  });
}

module.exports = { reportListenerError, emitToListeners, invalidExternalChange, backgroundError };
