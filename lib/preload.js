'use strict';

/**
 * `tad-store/preload`: the seed's `window.storeAPI` (store-preload.js), one
 * call:
 *
 *   // preload.js
 *   require('tad-store/preload').exposeStoreAPI();
 *
 * The same 21 members with the same channels and argument order, exposed
 * through `contextBridge.exposeInMainWorld('storeAPI', ...)` (or set on
 * `window` when context isolation is off), without the seed's bugs:
 *
 * - one `'store-changed'` listener on `ipcRenderer` for every `onChange`
 *   subscription, added with the first and removed with the last, and one
 *   `store-on-change` / `store-off-change` call for each such period (the
 *   seed added a listener and a main-process registration per call, and its
 *   `store-off-change` dropped every other subscription of the window);
 * - each event reaches each subscription once; `null` and `'*'` keys are
 *   never passed on;
 * - `onChange(key)` also hears a change of a parent of `key` (a bulk change
 *   names top-level keys: restore, rollback, clear...), with the values at
 *   `key`, called only when they differ; a change under `key` arrives as that
 *   change (`callback(newValue, oldValue, changedKey)`);
 * - `getKey` reads a cache kept by `tad-store/renderer`'s client (exact through
 *   bulk changes); `setKey` writes through the main process only (the seed
 *   wrote into its cache first and then called `window.storeAPI`, which does
 *   not exist in the preload's world);
 * - a second `exposeStoreAPI()` (the preload loaded twice) returns the first
 *   API instead of exposing a second one.
 *
 * Works in a sandboxed preload once bundled (it needs only `electron`).
 */

const { StoreClient, segmentsOf } = require('./renderer.js');

const CHANNEL = 'store-changed';

function argError(message) {
  const e = new TypeError(message);
  e.code = 'E_INVALID_ARGUMENT';
  return e;
}

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

function valueAt(node, segs) {
  for (const s of segs) {
    if (node === null || typeof node !== 'object' || !hasOwn(node, s)) return undefined;
    node = node[s];
  }
  return node;
}

/** Deep equality of JSON values (key order ignored). */
function jsonEqual(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
  return true;
}

/** `a` is a proper prefix of `b`. */
function isPrefix(a, b) {
  if (a.length >= b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameSegs(a, b) {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function warn(message, error) {
  if (typeof console !== 'undefined' && console.warn) console.warn(`tad-store/preload: ${message}`, error);
}

/**
 * The storeAPI object over `ipcRenderer` (`invoke`, `on`, `removeListener`),
 * not exposed: `exposeStoreAPI` exposes it.
 */
function createStoreAPI(ipcRenderer, options = {}) {
  if (!ipcRenderer || typeof ipcRenderer.invoke !== 'function' || typeof ipcRenderer.on !== 'function' || typeof ipcRenderer.removeListener !== 'function') {
    throw argError('Expected `ipcRenderer` to have invoke(), on() and removeListener() (Electron\'s ipcRenderer)');
  }
  if (options === null || typeof options !== 'object') throw argError('Expected `options` to be an object');
  const dot = options.accessPropertiesByDotNotation !== false;
  const invoke = (channel, ...args) => ipcRenderer.invoke(channel, ...args);

  // -- one listener for every subscription ------------------------------------------
  const subs = new Set();
  let listening = false;
  const dispatch = (event, change) => {
    if (change === null || typeof change !== 'object') return;
    const { key, newValue, oldValue } = change;
    if (typeof key !== 'string' || key === '' || key === '*') return;
    const changed = segmentsOf(key, dot);
    for (const sub of [...subs]) {
      if (!subs.has(sub)) continue;
      try {
        if (sub.segs === null || sameSegs(changed, sub.segs) || isPrefix(sub.segs, changed)) {
          sub.callback(newValue, oldValue, key);
        } else if (isPrefix(changed, sub.segs)) {
          const rest = sub.segs.slice(changed.length);
          const n = valueAt(newValue, rest);
          const o = valueAt(oldValue, rest);
          if (!jsonEqual(n, o)) sub.callback(n, o, sub.key);
        }
      } catch (error) {
        warn('a change listener threw', error);
      }
    }
  };
  const start = () => {
    if (listening) return;
    listening = true;
    ipcRenderer.on(CHANNEL, dispatch);
    // now, not later: a window the main process knows only from this call
    // gets every change after it, and a store-get-all sent next is answered after it
    call('store-on-change');
  };
  const stop = () => {
    if (!listening || subs.size > 0) return;
    listening = false;
    ipcRenderer.removeListener(CHANNEL, dispatch);
    call('store-off-change');
  };
  const call = (channel) => {
    try {
      Promise.resolve(invoke(channel, '*')).catch(error => warn(`${channel} failed`, error));
    } catch (error) {
      warn(`${channel} failed`, error);
    }
  };
  const subscribe = (key, callback) => {
    if (typeof callback !== 'function') throw argError(`Expected \`callback\` to be a function, got ${typeof callback}`);
    if (key !== undefined && key !== null && key !== '' && typeof key !== 'string') throw argError(`Expected \`key\` to be a string, got ${typeof key}`);
    const all = !key || key === '*';
    const sub = { key: all ? '*' : key, segs: all ? null : segmentsOf(key, dot), callback };
    subs.add(sub);
    start();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      subs.delete(sub);
      stop();
    };
  };

  // -- the cache getKey reads -------------------------------------------------------------
  let cache = null;
  if (options.cache !== false) {
    cache = new StoreClient({
      api: { getAll: () => invoke('store-get-all'), onChange: subscribe },
      accessPropertiesByDotNotation: dot,
      onListenerError: error => warn('a cache listener threw', error),
    });
    cache.initialize().catch(error => warn('loading the cache failed (getKey answers undefined until a later getKey loads it)', error));
  }

  const api = {
    get: (key, defaultValue) => invoke('store-get', key, defaultValue),
    set: (key, value) => invoke('store-set', key, value),
    delete: (key) => invoke('store-delete', key),
    has: (key) => invoke('store-has', key),
    clear: () => invoke('store-clear'),
    getAll: () => invoke('store-get-all'),
    setMultiple: (data) => invoke('store-set-multiple', data),
    getInfo: () => invoke('store-info'),
    reload: () => invoke('store-reload'),
    createBackup: (reason) => invoke('store-create-backup', reason),
    listBackups: () => invoke('store-list-backups'),
    restoreBackup: (backupPath) => invoke('store-restore-backup', backupPath),
    onChange: (key, callback) => subscribe(key, callback),
    getKey: (path) => {
      if (cache === null) {
        const e = new Error('tad-store/preload: getKey() needs the cache (exposeStoreAPI({ cache: true }), the default)');
        e.code = 'E_UNSUPPORTED';
        throw e;
      }
      if (typeof path !== 'string') throw argError(`Expected \`path\` to be a string, got ${path === null ? 'null' : typeof path}`);
      if (cache.status === 'idle' || cache.status === 'error') cache.initialize().catch(error => warn('loading the cache failed', error));
      return cache.status === 'ready' ? cache.get(path) : undefined;
    },
    setKey: (path, value) => invoke('store-set', path, value),
    rollbackToTimestamp: (timestamp) => invoke('store-rollback', timestamp),
    getHistorySummary: () => invoke('store-history-summary'),
    validateData: (data) => invoke('store-validate-data', data),
    listMigrationBackups: () => invoke('store-list-migration-backups'),
    restoreMigrationBackup: (backupName) => invoke('store-restore-migration-backup', backupName),
    validateMigrationBackup: (backupName) => invoke('store-validate-migration-backup', backupName),
  };
  // issue 20: the main process registered `store-update` (registerStoreIpc's
  // `atomicOperations: true`): increment / append / remove / toggle, atomically
  if (options.atomicOperations === true) api.update = (key, operation) => invoke('store-update', key, operation);
  return api;
}

const exposed = new Map();

/**
 * Exposes the storeAPI as `window[name]` (default `'storeAPI'`) through
 * `contextBridge.exposeInMainWorld` (or sets it on `window` when the preload
 * runs without context isolation). Returns the API (the preload's own copy).
 * `contextBridge` / `ipcRenderer` default to `require('electron')`'s.
 */
function exposeStoreAPI(options = {}) {
  if (options === null || typeof options !== 'object') throw argError('Expected `options` to be an object');
  const name = options.name === undefined ? 'storeAPI' : options.name;
  if (typeof name !== 'string' || name === '') throw argError('Expected `name` to be a non-empty string');
  if (exposed.has(name)) return exposed.get(name);
  let { contextBridge, ipcRenderer } = options;
  if (!contextBridge || !ipcRenderer) {
    const electron = require('electron');
    contextBridge = contextBridge || electron.contextBridge;
    ipcRenderer = ipcRenderer || electron.ipcRenderer;
  }
  const isolated = options.contextIsolation !== undefined
    ? options.contextIsolation !== false
    : !(typeof process !== 'undefined' && process && process.contextIsolated === false);
  if (isolated && (!contextBridge || typeof contextBridge.exposeInMainWorld !== 'function')) {
    throw argError('Expected `contextBridge` to have exposeInMainWorld() (Electron\'s contextBridge)');
  }
  const api = createStoreAPI(ipcRenderer, options);
  if (isolated) contextBridge.exposeInMainWorld(name, api);
  else globalThis[name] = api;
  exposed.set(name, api);
  return api;
}

module.exports = { exposeStoreAPI, createStoreAPI };
