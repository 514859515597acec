'use strict';

/**
 * Event dispatch: a file's background events (see `StoreEvent` in
 * binding.d.ts) delivered to the Store instances on it, and change events
 * delivered to an instance's subscriptions (onDidChange, onDidAnyChange,
 * onChange) and `'change'` listeners. A listener that throws is reported
 * without stopping the others; an error nobody listens for becomes a process
 * warning (never dropped silently).
 */

const { jsonClone, jsonEqual, related } = require('./values.js');
// layer.js on first use (only stores with defaultsLayer need it)
const viewEntries = (...args) => require('./layer.js').viewEntries(...args);

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

/**
 * A background event of the file (on the JS thread) to the `instances` on it
 * in this environment: other environments' and processes' changes (given to
 * `hooks.changes(firstInstance, changeList)`, which applies and delivers them
 * to every instance), a write that works again, a slow operation (to the
 * instance whose handle made it: `hooks.handleId(instance)`), an external
 * edit refused, and errors (`write-failed`, `rejected`, `watch-error`).
 */
function dispatchCoreEvent(instances, e, hooks) {
  if (instances.length === 0) return;
  if (e.type === 'changes') {
    hooks.changes(instances[0], JSON.parse(e.changes));
    return;
  }
  if (e.type === 'write-recovered') {
    for (const inst of instances) inst.events.emit('writeRecovered');
    return;
  }
  if (e.type === 'slow') {
    for (const inst of instances) {
      if (hooks.handleId(inst) !== e.handle) continue;
      try {
        inst.events.emit('slowOperation', { operation: e.op, durationMs: e.micros / 1000 });
      } catch (listenerError) {
        reportListenerError(inst, listenerError);
      }
    }
    return;
  }
  if (e.type === 'invalid-external-change') {
    invalidExternalChange(instances, e);
    return;
  }
  // 'write-failed', 'rejected', 'watch-error'
  backgroundError(instances, e);
}

/**
 * A change to one instance's subscriptions, then its `'change'` event.
 * `subs`: its live list (a listener may unsubscribe others: those are
 * skipped); `entries`: `[{k, o?, n?}]`; `paths`: each entry's key segments.
 * onDidChange/onChange(key) fire when a change touches the key's path and
 * its value differs; onDidAnyChange when the store differs; onChange('*')
 * once per entry.
 */
function deliverChanges(store, subs, entries, paths, layered = false) {
  for (const sub of subs.slice()) {
    if (!subs.includes(sub)) continue; // unsubscribed by an earlier listener
    try {
      if (sub.kind === 'all-keys') {
        let list = entries;
        let where = paths;
        if (layered) {
          // `defaultsLayer`: the values the app sees, before and after (lib/layer.js)
          const now = store.store;
          ({ entries: list, paths: where } = viewEntries(entries, paths, sub.current, now));
          sub.current = now;
        }
        // 4th argument: the key's segments (a bulk change's keys are
        // top-level names, which may contain dots: `paths` tells them apart)
        for (let i = 0; i < list.length; i++) {
          const e = list[i];
          sub.cb.call(store, jsonClone(e.n), jsonClone(e.o), e.k, where[i].slice());
        }
      } else if (sub.kind === 'key') {
        // (`defaultsLayer`: a change may reveal another key's default under a
        // conditional schema: every key is read again)
        if (!layered && !paths.some(p => related(p, sub.segs))) continue;
        const newValue = store.get(sub.key);
        if (jsonEqual(newValue, sub.current)) continue;
        const oldValue = sub.current;
        sub.current = newValue;
        if (sub.withKey) sub.cb.call(store, newValue, oldValue, sub.key);
        else sub.cb.call(store, newValue, oldValue);
      } else {
        const newValue = store.store;
        if (jsonEqual(newValue, sub.current)) continue;
        const oldValue = sub.current;
        sub.current = newValue;
        sub.cb.call(store, newValue, oldValue);
      }
    } catch (error) {
      reportListenerError(store, error);
    }
  }
  try {
    store.events.emit('change');
  } catch (error) {
    reportListenerError(store, error);
  }
}

/** conf's `'change'` event on every instance (no subscriptions to serve). */
function emitChange(instances) {
  for (const inst of [...instances]) {
    if (inst.events.listenerCount('change') === 0) continue;
    try {
      inst.events.emit('change');
    } catch (error) {
      reportListenerError(inst, error);
    }
  }
}

module.exports = { reportListenerError, emitToListeners, invalidExternalChange, backgroundError, dispatchCoreEvent, deliverChanges, emitChange };
