'use strict';

/**
 * `tad-store/renderer`: the renderer side of the seed's `StoreService`, built
 * on the channels `registerStoreIpc` serves, through `window.storeAPI` (the
 * seed's preload, unchanged, or `tad-store/preload`) or any object of that
 * shape.
 *
 *   const { createStoreClient } = require('tad-store/renderer');
 *   const store = createStoreClient();          // window.storeAPI
 *   await store.initialize();
 *   store.get('settings.theme', 'light');       // synchronous, from the cache
 *   store.subscribe('settings', (value, old) => render(value));
 *   await store.set('settings.theme', 'dark');  // the cache has it when this resolves
 *
 * The cache is a mirror of the main process's store, changed only by what the
 * main process says: the `store-get-all` snapshot and the `'store-changed'`
 * events (one per changed key; a bulk change — restore, rollback, reload,
 * clear, setMultiple, `store =`, an external edit, another process's writes —
 * one per changed top-level key). Nothing is written into it optimistically,
 * so it never shows a value the store refused. Its values are frozen and
 * shared: a change replaces the objects on its path and keeps every other
 * one, so an unchanged value keeps its identity (what `useSyncExternalStore`
 * needs) and an equal one sent again changes nothing (no duplicate
 * notification).
 *
 * Ordering: the client listens before it asks for the snapshot. Events that
 * arrive while the snapshot is on its way are applied to it (silently) when it
 * comes: with Electron's IPC, which delivers a window's messages in the order
 * the main process sent them, those events are already in the snapshot and
 * change nothing; on a transport that reorders, the cache still converges with
 * the next event. A write's own event arrives before the write's answer, so
 * after `await set(...)` the cache holds what the store kept.
 *
 * No dependency: no Electron, no React, no Node built-in (it runs in a
 * sandboxed renderer, bundled or not).
 */

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const EMPTY = Object.freeze({});
const INDEX = /^(?:0|[1-9]\d{0,8})$/;

// -- keys ------------------------------------------------------------------------

/**
 * A key's segments, as the store reads it: with dot notation `a.b` is `a` → `b`
 * and `\.` escapes a dot (dot-prop 6); without, the key is one segment.
 */
function segmentsOf(key, dotNotation = true) {
  if (!dotNotation) return [key];
  const parts = key.split('.');
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i];
    while (p[p.length - 1] === '\\' && parts[i + 1] !== undefined) {
      p = p.slice(0, -1) + '.';
      p += parts[++i];
    }
    out.push(p);
  }
  return out;
}

/** The dot-notation key that `segmentsOf` reads back as `segs` (dots inside a segment escaped). */
function keyOf(segs) {
  return segs.map(s => s.replace(/\./g, '\\.')).join('.');
}

// -- frozen values ---------------------------------------------------------------

function define(object, key, value) {
  // never a setter: a key named `__proto__` is an own property like any other
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * A frozen value deep-equal to `next` that shares every part deep-equal to the
 * same part of `prev`; `prev` itself when the two are deep-equal.
 */
function adopt(prev, next) {
  if (next === null || typeof next !== 'object') return prev === next ? prev : next;
  if (Array.isArray(next)) {
    const before = Array.isArray(prev) ? prev : null;
    let same = before !== null && before.length === next.length;
    const out = new Array(next.length);
    for (let i = 0; i < next.length; i++) {
      const old = before !== null && i < before.length ? before[i] : undefined;
      const value = adopt(old, next[i]);
      out[i] = value;
      if (same && value !== old) same = false;
    }
    return same ? before : Object.freeze(out);
  }
  const before = prev !== null && typeof prev === 'object' && !Array.isArray(prev) ? prev : null;
  const keys = Object.keys(next);
  const beforeKeys = before === null ? null : Object.keys(before);
  let same = beforeKeys !== null && beforeKeys.length === keys.length;
  const out = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const old = before !== null && hasOwn(before, k) ? before[k] : undefined;
    const value = adopt(old, next[k]);
    define(out, k, value);
    if (same && (beforeKeys[i] !== k || value !== old)) same = false;
  }
  return same ? before : Object.freeze(out);
}

/** The value at `segs` in `node` (own properties only), or undefined. */
function valueAt(node, segs) {
  for (const s of segs) {
    if (node === null || typeof node !== 'object' || !hasOwn(node, s)) return undefined;
    node = node[s];
  }
  return node;
}

/**
 * `node` with the value at `segs[i..]` set to `value` (deleted when
 * undefined), as the store applies a change: a missing or non-object step
 * becomes `{}`. Copies only the objects on the path; returns `node` itself
 * when nothing changes.
 */
function setIn(node, segs, i, value) {
  const isObject = node !== null && typeof node === 'object';
  const seg = segs[i];
  const present = isObject && hasOwn(node, seg);
  const current = present ? node[seg] : undefined;
  let next;
  if (i === segs.length - 1) {
    next = value === undefined ? undefined : adopt(current, value);
  } else {
    if (value === undefined && (current === null || typeof current !== 'object')) return node; // nothing to delete
    next = setIn(current, segs, i + 1, value);
  }
  if (next === undefined ? !present : present && next === current) return node;
  if (next === undefined && !isObject) return node;
  const copy = !isObject ? {} : Array.isArray(node) ? node.slice() : copyObject(node);
  if (next === undefined) {
    delete copy[seg];
  } else {
    // an index past the end: the store fills the gap with nulls (JSON has no holes)
    if (Array.isArray(copy) && INDEX.test(seg)) for (let n = copy.length; n < Number(seg); n++) copy[n] = null;
    define(copy, seg, next);
  }
  return Object.freeze(copy);
}

function copyObject(node) {
  const out = {};
  for (const k of Object.keys(node)) define(out, k, node[k]);
  return out;
}

// -- errors ----------------------------------------------------------------------

function clientError(code, message, fields) {
  const e = code === 'E_INVALID_ARGUMENT' ? new TypeError(message) : new Error(message);
  e.code = code;
  if (fields) Object.assign(e, fields);
  return e;
}

/**
 * Electron passes only an error's message from the main process
 * (`Error invoking remote method 'store-set': Error: E_SCHEMA: ...`);
 * registerStoreIpc puts the code at its start: give it back as `code`.
 */
function decodeError(error) {
  if (error !== null && typeof error === 'object' && typeof error.code !== 'string') {
    const m = /(?:^|: )(E_[A-Z][A-Z0-9_]*): /.exec(String(error.message));
    if (m) {
      try {
        error.code = m[1];
      } catch {
        // a frozen error: leave it
      }
    }
  }
  return error;
}

function report(client, error) {
  const handler = client.onListenerError;
  if (typeof handler === 'function') {
    try {
      handler(error);
      return;
    } catch {
      // fall through to the console
    }
  }
  if (typeof console !== 'undefined' && console.error) console.error('tad-store/renderer: a change listener threw', error);
}

// -- the client ------------------------------------------------------------------

class StoreClient {
  #api;
  #dot;
  #root = EMPTY;
  #status = 'idle';
  #error = null;
  #init = null;
  #off = null;
  /** Events received while a snapshot is on its way (null when none is). */
  #pending = null;
  #refreshing = null;
  #queued = null;
  /** First segment → Set of key subscriptions. */
  #byTop = new Map();
  #all = new Set();
  #statusListeners = new Set();
  #generation = 0;

  /**
   * @param {object} [options]
   * @param {object} [options.api] the `window.storeAPI`-shaped object (default: `globalThis.storeAPI` when first needed)
   * @param {boolean} [options.accessPropertiesByDotNotation] as the main store's option (default true)
   * @param {(error: unknown) => void} [options.onListenerError] a listener threw (default: console.error)
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('Expected `options` to be an object');
    if (options.api !== undefined && options.api !== null && (typeof options.api !== 'object' && typeof options.api !== 'function')) {
      throw new TypeError('Expected `api` to be the storeAPI object (window.storeAPI)');
    }
    this.#api = options.api || null;
    this.#dot = options.accessPropertiesByDotNotation !== false;
    /** Called with the error when a change listener throws (default: console.error). */
    this.onListenerError = typeof options.onListenerError === 'function' ? options.onListenerError : null;
  }

  /** `'idle'`, `'loading'`, `'ready'` or `'error'` (the last `initialize()` failed: see `error`). */
  get status() {
    return this.#status;
  }

  /** Why the last `initialize()` failed, else null. */
  get error() {
    return this.#error;
  }

  /** The seed's name: the cache is loaded. */
  get isInitialized() {
    return this.#status === 'ready';
  }

  /** The storeAPI object the client talks to. */
  get api() {
    return this.#resolveApi();
  }

  #resolveApi() {
    if (this.#api) return this.#api;
    const api = typeof globalThis !== 'undefined' ? globalThis.storeAPI : undefined;
    if (!api || (typeof api !== 'object' && typeof api !== 'function')) {
      throw clientError('E_NO_STORE_API', 'tad-store/renderer: no storeAPI: expose it in the preload (tad-store/preload\'s exposeStoreAPI(), or the seed\'s store-preload.js), or pass { api }');
    }
    this.#api = api;
    return api;
  }

  #method(name) {
    const api = this.#resolveApi();
    const fn = api[name];
    if (typeof fn !== 'function') throw clientError('E_NO_STORE_API', `tad-store/renderer: storeAPI has no ${name}()`);
    return fn;
  }

  #setStatus(status, error) {
    this.#status = status;
    this.#error = error === undefined ? null : error;
    for (const fn of [...this.#statusListeners]) {
      if (!this.#statusListeners.has(fn)) continue;
      try {
        fn(status);
      } catch (e) {
        report(this, e);
      }
    }
  }

  /**
   * Subscribes to the changes and loads the cache (the seed's name). Once:
   * later calls return the same promise; after a failure the next call tries again.
   */
  initialize() {
    if (this.#init) return this.#init;
    const generation = this.#generation;
    const run = this.#connect(generation);
    this.#init = run.catch((error) => {
      if (this.#generation === generation) this.#init = null;
      throw error;
    });
    return this.#init;
  }

  async #connect(generation) {
    this.#pending = [];
    this.#setStatus('loading');
    let off;
    let snapshot;
    try {
      const onChange = this.#method('onChange');
      const getAll = this.#method('getAll');
      // listen first, then ask: no change can fall between the two
      off = onChange.call(this.#api, '*', (newValue, oldValue, key) => this.#receive(generation, key, newValue));
      if (typeof off !== 'function') throw clientError('E_NO_STORE_API', 'tad-store/renderer: storeAPI.onChange() did not return an unsubscribe function');
      this.#off = off;
      snapshot = await getAll.call(this.#api);
    } catch (error) {
      if (this.#generation === generation) {
        if (off) off();
        this.#off = null;
        this.#pending = null;
        this.#setStatus('error', decodeError(error));
      }
      throw decodeError(error);
    }
    if (this.#generation !== generation) return; // disposed meanwhile
    if (snapshot === null || typeof snapshot !== 'object' || Array.isArray(snapshot)) {
      off();
      this.#off = null;
      this.#pending = null;
      const error = clientError('E_PROTOCOL', `tad-store/renderer: store-get-all answered ${snapshot === null ? 'null' : typeof snapshot}, not an object`);
      this.#setStatus('error', error);
      throw error;
    }
    // the first load is no change: no listener is told, only the status changes
    this.#root = this.#replay(adopt(EMPTY, snapshot));
    this.#setStatus('ready');
  }

  /** `root` with the events that came while its snapshot was on its way (consumed). */
  #replay(root) {
    const pending = this.#pending || [];
    this.#pending = null;
    for (const e of pending) root = setIn(root, e.segs, 0, e.newValue);
    return root;
  }

  #receive(generation, key, newValue) {
    if (generation !== this.#generation) return;
    // the seed's main process sent null and '*' keys; ours never does
    if (typeof key !== 'string' || key === '' || key === '*') return;
    const segs = segmentsOf(key, this.#dot);
    if (this.#pending) this.#pending.push({ segs, newValue });
    if (this.#status !== 'ready') return;
    const before = this.#root;
    const after = setIn(before, segs, 0, newValue);
    if (after === before) return; // nothing changed (an event seen twice, an equal value)
    this.#root = after;
    this.#notify(before, after, [{ segs, key }]);
  }

  /** Tells the listeners about the change from `before` to `after` (`changed`: the keys events named). */
  #notify(before, after, changed) {
    for (const c of changed) {
      const oldValue = valueAt(before, c.segs);
      const newValue = valueAt(after, c.segs);
      if (oldValue === newValue) continue;
      for (const fn of [...this.#all]) {
        if (!this.#all.has(fn)) continue;
        try {
          fn(newValue, oldValue, c.key);
        } catch (error) {
          report(this, error);
        }
      }
    }
    const tops = new Set(changed.map(c => c.segs[0]));
    for (const top of tops) {
      const subs = this.#byTop.get(top);
      if (!subs) continue;
      for (const sub of [...subs]) {
        if (!subs.has(sub)) continue;
        const oldValue = valueAt(before, sub.segs);
        const newValue = valueAt(after, sub.segs);
        if (oldValue === newValue) continue; // identity is deep equality here
        try {
          sub.fn(newValue, oldValue, sub.key);
        } catch (error) {
          report(this, error);
        }
      }
    }
  }

  /**
   * Loads the snapshot again and tells the listeners what differed: changes
   * the client may have missed (call it when the main process registered its
   * IPC again, say). Calls made while one load waits to start share it.
   */
  refresh() {
    if (this.#queued) return this.#queued;
    const previous = this.#refreshing || Promise.resolve();
    const next = previous.catch(() => {}).then(() => {
      this.#queued = null;
      return this.#loadAgain();
    });
    this.#queued = next;
    this.#refreshing = next;
    const done = () => {
      if (this.#refreshing === next) this.#refreshing = null;
    };
    next.then(done, done);
    return next;
  }

  async #loadAgain() {
    if (this.#status !== 'ready') {
      await this.initialize();
      return;
    }
    const generation = this.#generation;
    this.#pending = [];
    let snapshot;
    try {
      snapshot = await this.#method('getAll').call(this.#api);
    } catch (error) {
      if (this.#generation === generation) this.#pending = null;
      throw decodeError(error);
    }
    if (this.#generation !== generation) return;
    if (snapshot === null || typeof snapshot !== 'object' || Array.isArray(snapshot)) {
      this.#pending = null;
      throw clientError('E_PROTOCOL', `tad-store/renderer: store-get-all answered ${snapshot === null ? 'null' : typeof snapshot}, not an object`);
    }
    const before = this.#root;
    const after = this.#replay(adopt(before, snapshot));
    if (after === before) return;
    this.#root = after;
    const changed = [];
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (valueAt(before, [k]) !== valueAt(after, [k])) changed.push({ segs: [k], key: this.#dot ? keyOf([k]) : k });
    }
    this.#notify(before, after, changed);
  }

  /** Stops listening and empties the cache (the seed's `dispose`); `initialize()` starts again. */
  dispose() {
    this.#generation++;
    if (this.#off) {
      const off = this.#off;
      this.#off = null;
      try {
        off();
      } catch (error) {
        report(this, error);
      }
    }
    this.#init = null;
    this.#pending = null;
    this.#queued = null;
    this.#refreshing = null;
    this.#root = EMPTY;
    this.#byTop.clear();
    this.#all.clear();
    this.#setStatus('idle');
    this.#statusListeners.clear();
  }

  // -- reads (synchronous, from the cache) -----------------------------------------

  #ready(what) {
    if (this.#status !== 'ready') {
      throw clientError('E_NOT_READY', `tad-store/renderer: ${what}() before the cache is loaded: await initialize() first${this.#error ? ` (it failed: ${this.#error.message})` : ''}`);
    }
  }

  #segs(key) {
    if (typeof key !== 'string') throw clientError('E_INVALID_ARGUMENT', `Expected \`key\` to be a string, got ${key === null ? 'null' : typeof key}`);
    return segmentsOf(key, this.#dot);
  }

  /** The value at `key` (frozen; copy it to change it), or `defaultValue` when there is none. */
  get(key, defaultValue) {
    this.#ready('get');
    const value = valueAt(this.#root, this.#segs(key));
    return value === undefined ? defaultValue : value;
  }

  /** Whether `key` holds a value. */
  has(key) {
    this.#ready('has');
    return valueAt(this.#root, this.#segs(key)) !== undefined;
  }

  /** The whole store (frozen). */
  getAll() {
    this.#ready('getAll');
    return this.#root;
  }

  /** The whole store (frozen), as `getAll()`. */
  get store() {
    return this.getAll();
  }

  /** Number of top-level keys. */
  get size() {
    this.#ready('size');
    return Object.keys(this.#root).length;
  }

  /**
   * The value at `key` without the readiness check: `undefined` before the
   * cache is loaded (what a render reads; see `status`).
   */
  peek(key) {
    return valueAt(this.#root, this.#segs(key));
  }

  // -- subscriptions ---------------------------------------------------------------------

  /**
   * `callback(newValue, oldValue, key)` once per change of the value at `key`
   * (its own changes, a parent's and a child's: the values are those at `key`);
   * `'*'`: once per changed key of every change, as the events name them. Not
   * called for the first load. Returns the unsubscribe function.
   */
  subscribe(key, callback) {
    if (typeof callback !== 'function') throw clientError('E_INVALID_ARGUMENT', `Expected \`callback\` to be a function, got ${typeof callback}`);
    if (key === '*') {
      const fn = (n, o, k) => callback(n, o, k);
      this.#all.add(fn);
      return () => { this.#all.delete(fn); };
    }
    const segs = this.#segs(key);
    const sub = { key, segs, fn: callback };
    const top = segs[0];
    let subs = this.#byTop.get(top);
    if (!subs) this.#byTop.set(top, subs = new Set());
    subs.add(sub);
    return () => {
      const set = this.#byTop.get(top);
      if (!set) return;
      set.delete(sub);
      if (set.size === 0) this.#byTop.delete(top);
    };
  }

  /** The seed's storeAPI name for `subscribe`. */
  onChange(key, callback) {
    return this.subscribe(key, callback);
  }

  /** `callback(status)` when `status` changes. Returns the unsubscribe function. */
  subscribeStatus(callback) {
    if (typeof callback !== 'function') throw clientError('E_INVALID_ARGUMENT', `Expected \`callback\` to be a function, got ${typeof callback}`);
    const fn = (s) => callback(s);
    this.#statusListeners.add(fn);
    return () => { this.#statusListeners.delete(fn); };
  }

  // -- writes and the other channels (asynchronous, answered by the main process) --------

  #call(name, args) {
    return new Promise((resolve) => resolve(this.#method(name).apply(this.#api, args))).catch((error) => {
      throw decodeError(error);
    });
  }

  /** `set(key, value)`, or `set({ key: value, ... })` (setMultiple). Resolves to the main process's answer (`true`). */
  set(key, value) {
    // biome-ignore lint/complexity/noArguments: set(object) and set(object, undefined) are different calls
    if (key !== null && typeof key === 'object' && !Array.isArray(key) && arguments.length === 1) return this.#call('setMultiple', [key]);
    return this.#call('set', [key, value]);
  }

  /** Deletes `key`; resolves to `true`. */
  delete(key) { return this.#call('delete', [key]); }
  /** Clears the store (to its defaults); resolves to `true`. */
  clear() { return this.#call('clear', []); }
  /** Sets every key (dot paths) of `data` as one change; resolves to `true`. */
  setMultiple(data) { return this.#call('setMultiple', [data]); }
  /** The main store's `getStoreInfo()` (its keys, size, path, ...). */
  getInfo() { return this.#call('getInfo', []); }
  /** Makes the main store re-read its file (changes arrive as events); resolves to `true`. */
  reload() { return this.#call('reload', []); }
  /** Takes a backup; resolves to its path. */
  createBackup(reason) { return this.#call('createBackup', reason === undefined ? [] : [reason]); }
  /** The backups, newest first. */
  listBackups() { return this.#call('listBackups', []); }
  /** Restores a backup given by the file name (or the path listBackups gave). */
  restoreBackup(backup) { return this.#call('restoreBackup', [backup]); }
  /** Makes the store what it was at `timestamp` (ISO string, Date or ms). */
  rollbackToTimestamp(timestamp) { return this.#call('rollbackToTimestamp', [timestamp]); }
  /** The change history. */
  getHistorySummary() { return this.#call('getHistorySummary', []); }
  /** Checks `data` against the main store's schema: `{ valid, errors }`. */
  validateData(data) { return this.#call('validateData', [data]); }
  /** The migration snapshots, newest first. */
  listMigrationBackups() { return this.#call('listMigrationBackups', []); }
  /** Restores a migration snapshot (file name). */
  restoreMigrationBackup(name) { return this.#call('restoreMigrationBackup', [name]); }
  /** Checks a migration snapshot (file name): `{ valid, errors }`. */
  validateMigrationBackup(name) { return this.#call('validateMigrationBackup', [name]); }

  // -- atomic operations (issue 20): the main process runs them with
  // store.update() on the latest state of every process and window; they need
  // registerStoreIpc(..., { atomicOperations: true }) and a storeAPI with
  // update() (tad-store/preload's createStoreAPI/exposeStoreAPI with
  // { atomicOperations: true }). Each resolves to the new value.

  /** Adds `by` (default 1) to the number at `key` (absent: 0). */
  increment(key, by = 1) { return this.#call('update', [key, { op: 'increment', by }]); }
  /** Appends `value` to the array at `key` (absent: []); with `{ unique: true }` only when no equal element is there. */
  append(key, value, options) { return this.#call('update', [key, { op: 'append', value, unique: Boolean(options && options.unique) }]); }
  /** Removes every element equal to `value` (compared as JSON) from the array at `key`. */
  remove(key, value) { return this.#call('update', [key, { op: 'remove', value }]); }
  /** Flips the boolean at `key` (absent: false, so it becomes true). */
  toggle(key) { return this.#call('update', [key, { op: 'toggle' }]); }
}

/** A client on `options.api` (default `window.storeAPI`). */
function createStoreClient(options) {
  return new StoreClient(options);
}

let defaultClient = null;

/** The client every `tad-store/react` hook uses unless a `StoreProvider` gives another (on `window.storeAPI`). */
function getDefaultClient() {
  if (!defaultClient) defaultClient = new StoreClient();
  return defaultClient;
}

module.exports = {
  StoreClient,
  StoreService: StoreClient,
  createStoreClient,
  getDefaultClient,
  segmentsOf,
  keyOf,
};
