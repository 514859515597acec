'use strict';

/**
 * The renderer bridge (SPEC §6): the seed's 20 `ipcMain.handle` channels on a
 * tad-store `Store`, with its argument order and return values, so the seed's
 * preload (`window.storeAPI`) and renderer `StoreService` work unchanged.
 *
 *   const { registerStoreIpc } = require('tad-store/ipc');
 *   const unregister = registerStoreIpc(ipcMain, store, { allowedOrigins: ['app://main'] });
 *
 * Changes reach renderers as `'store-changed'` `{ key, newValue, oldValue,
 * timestamp }`: one store-level listener, one send per recipient per key event
 * (never a duplicate from subscription plus broadcast, never a null or '*'
 * key). Recipients are the windows (`BrowserWindow.getAllWindows()` or the
 * `windows` option) and every sender that called `store-on-change`; a
 * destroyed one is forgotten and never sent to.
 *
 * Security (Electron's checklist item 17): every call's sender can be
 * validated (`allowedOrigins`, checked with a URL parser; `validateSender`);
 * `readableKeys` / `writableKeys` / `protectedKeys` restrict keys on the
 * resolved path; restores take only a listed backup's name or path; hostile
 * arguments are refused with an error and change nothing.
 */

const { segmentsOf, toJsonText } = require('./values.js');
const { operationFn } = require('./atomic.js');

const CHANNELS = [
  'store-get', 'store-set', 'store-delete', 'store-has', 'store-clear',
  'store-get-all', 'store-set-multiple', 'store-info', 'store-reload',
  'store-create-backup', 'store-list-backups', 'store-restore-backup',
  'store-on-change', 'store-off-change', 'store-rollback', 'store-history-summary',
  'store-validate-data', 'store-list-migration-backups',
  'store-restore-migration-backup', 'store-validate-migration-backup',
];

/**
 * The atomic operations channel (issue 20), registered with `{ atomicOperations:
 * true }`: `store-update (key, { op, ... })` runs `store.update()` with a
 * declarative operation (increment, append, remove, toggle) and resolves to the
 * new value (`true` when renderers may not read the key).
 */
const ATOMIC_CHANNEL = 'store-update';

const DOT = Symbol.for('tad-store.dotNotation');
const MAX_KEY_LENGTH = 1024;

/** An error that keeps its code when Electron passes only the message on. */
function ipcError(code, message) {
  const e = new Error(`${code}: ${message}`);
  e.code = code;
  return e;
}

/** Electron strips custom properties from errors thrown in `handle`: keep the code in the message. */
function forIpc(error) {
  if (error && typeof error === 'object' && typeof error.code === 'string' && !String(error.message).startsWith(`${error.code}:`)) {
    const e = new Error(`${error.code}: ${error.message}`);
    e.code = error.code;
    e.cause = error;
    return e;
  }
  return error;
}

/**
 * The origin of a URL, parsed with WHATWG URL. Custom schemes (`app://main`)
 * have an opaque origin ('null') in the URL standard: theirs is scheme + host
 * (`app://main`), so `app://main.evil` is a different one. file: pages are
 * `'file://'`. A URL without a host is refused.
 */
function originOf(url) {
  const u = new URL(url);
  if (u.protocol === 'file:') return 'file://';
  if (u.origin !== 'null') return u.origin;
  if (!u.host) throw new TypeError(`no origin in ${JSON.stringify(url)}`);
  return `${u.protocol}//${u.host}`;
}

function normalizeOrigin(o) {
  if (typeof o !== 'string') throw new TypeError('Expected `allowedOrigins` to be an array of origin strings');
  if (o === 'file://' || o === 'file:') return 'file://';
  return originOf(o);
}

/** Is `segs` equal to or under one of `rules` (segment lists)? */
function within(segs, rules) {
  return rules.some(r => r.length <= segs.length && r.every((s, i) => s === segs[i]));
}

/** Does `segs` contain (is a parent of, or equal to) one of `rules`? */
function covers(segs, rules) {
  return rules.some(r => segs.length <= r.length && segs.every((s, i) => s === r[i]));
}

/**
 * A dot-notation key for `segs` that `segmentsOf` parses back to them: each
 * `.` inside a segment is escaped as `\\.`.
 */
function keyOf(segs) {
  return segs.map(s => s.replace(/\./g, '\\.')).join('.');
}

function checkKey(key, what = 'key') {
  if (typeof key !== 'string') throw new TypeError(`Expected \`${what}\` to be a string, got ${key === null ? 'null' : typeof key}`);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new TypeError(`Expected \`${what}\` to be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
}

/**
 * @param ipcMain Electron's `ipcMain` (or anything with `handle` / `removeHandler`)
 * @param store a tad-store `Store`
 * @param options see index.d.ts (`ipc.d.ts`)
 * @returns a function removing every handler and listener this call added
 */
function registerStoreIpc(ipcMain, store, options = {}) {
  if (!ipcMain || typeof ipcMain.handle !== 'function' || typeof ipcMain.removeHandler !== 'function') {
    throw new TypeError('Expected `ipcMain` to have handle() and removeHandler() (Electron\'s ipcMain)');
  }
  if (!store || typeof store.onChange !== 'function' || typeof store.getAll !== 'function') {
    throw new TypeError('Expected `store` to be a tad-store Store');
  }
  if (options === null || typeof options !== 'object') throw new TypeError('Expected `options` to be an object');
  const dot = store[DOT] !== false;
  const rules = (name) => {
    const list = options[name];
    if (list === undefined || list === null) return null;
    if (!Array.isArray(list) || !list.every(k => typeof k === 'string' && k.length > 0)) {
      throw new TypeError(`Expected \`${name}\` to be an array of key paths`);
    }
    return list.map(k => segmentsOf(k, dot));
  };
  const readable = rules('readableKeys');
  const writable = rules('writableKeys');
  const hidden = rules('protectedKeys') || [];
  const origins = options.allowedOrigins === undefined || options.allowedOrigins === null
    ? null
    : (Array.isArray(options.allowedOrigins) ? options.allowedOrigins.map(normalizeOrigin) : (() => { throw new TypeError('Expected `allowedOrigins` to be an array'); })());
  const validateSender = options.validateSender;
  if (validateSender !== undefined && typeof validateSender !== 'function') throw new TypeError('Expected `validateSender` to be a function');
  const maxValueBytes = options.maxValueBytes === undefined ? 1 << 20 : options.maxValueBytes;
  if (!Number.isInteger(maxValueBytes) || maxValueBytes <= 0) throw new TypeError('Expected `maxValueBytes` to be a positive integer');
  if (options.atomicOperations !== undefined && typeof options.atomicOperations !== 'boolean') throw new TypeError('Expected `atomicOperations` to be a boolean');
  const atomicOperations = options.atomicOperations === true;
  if (atomicOperations && typeof store.update !== 'function') throw new TypeError('Expected `store` to be a tad-store Store with update() (atomicOperations)');
  const senderChecked = origins !== null || validateSender !== undefined || options.requireSenderFrame === true;

  // -- recipients -------------------------------------------------------------
  const subscribed = new Set();
  const cleanups = new Map();
  const windowList = () => {
    if (typeof options.windows === 'function') return options.windows() || [];
    if (Array.isArray(options.windows)) return options.windows;
    const BW = options.BrowserWindow || electronBrowserWindow();
    return BW && typeof BW.getAllWindows === 'function' ? BW.getAllWindows() : [];
  };
  const alive = (wc) => wc && !(typeof wc.isDestroyed === 'function' && wc.isDestroyed());
  const forget = (wc) => {
    subscribed.delete(wc);
    const off = cleanups.get(wc);
    if (off) {
      cleanups.delete(wc);
      off();
    }
  };
  const track = (wc) => {
    if (subscribed.has(wc)) return;
    subscribed.add(wc);
    if (typeof wc.once === 'function') {
      const onDestroyed = () => forget(wc);
      wc.once('destroyed', onDestroyed);
      cleanups.set(wc, () => { if (typeof wc.removeListener === 'function') wc.removeListener('destroyed', onDestroyed); });
    }
  };
  const recipients = () => {
    const out = new Set();
    for (const w of windowList()) {
      const wc = w && w.webContents ? w.webContents : w;
      if (alive(wc) && !(w && typeof w.isDestroyed === 'function' && w.isDestroyed())) out.add(wc);
    }
    for (const wc of subscribed) {
      if (alive(wc)) out.add(wc);
      else forget(wc);
    }
    return out;
  };

  // -- checks -----------------------------------------------------------------
  const checkSender = (event) => {
    if (!senderChecked) return;
    const frame = event && event.senderFrame;
    if (!frame || typeof frame.url !== 'string') throw ipcError('E_FORBIDDEN_SENDER', 'the call has no sender frame');
    if (origins !== null) {
      let origin;
      try {
        origin = originOf(frame.url);
      } catch {
        throw ipcError('E_FORBIDDEN_SENDER', `the sender's URL does not parse: ${JSON.stringify(frame.url)}`);
      }
      if (!origins.includes(origin)) throw ipcError('E_FORBIDDEN_SENDER', `origin ${origin} is not allowed`);
    }
    if (validateSender && validateSender(event) !== true) throw ipcError('E_FORBIDDEN_SENDER', 'the sender was refused');
  };
  const mayRead = (segs) => !within(segs, hidden) && !covers(segs, hidden) && (readable === null || within(segs, readable));
  const mayWrite = (segs) => !within(segs, hidden) && !covers(segs, hidden) && (writable === null || within(segs, writable));
  const readCheck = (key) => {
    checkKey(key);
    if (!mayRead(segmentsOf(key, dot))) throw ipcError('E_FORBIDDEN_KEY', `renderers may not read ${JSON.stringify(key)}`);
  };
  const writeCheck = (key) => {
    checkKey(key);
    if (!mayWrite(segmentsOf(key, dot))) throw ipcError('E_FORBIDDEN_KEY', `renderers may not write ${JSON.stringify(key)}`);
  };
  const restricted = readable !== null || hidden.length > 0;
  // the value's JSON text as the store will write it: the store's own checks
  // (a value JSON cannot hold; nesting past the store's limit, E_TOO_DEEP),
  // at any nesting (the engine's JSON.stringify overflows past a few thousand levels)
  const sizeCheck = (value, key, above) => {
    const text = toJsonText(key, value, key, above);
    if (text !== undefined && Buffer.byteLength(text) > maxValueBytes) {
      throw ipcError('E_TOO_LARGE', `the value is ${Buffer.byteLength(text)} bytes; renderers may write at most ${maxValueBytes}`);
    }
  };
  /** What renderers may see of the whole document. */
  const visible = (all) => {
    if (!restricted) return all;
    const out = {};
    const walk = (src, dst, segs) => {
      for (const k of Object.keys(src)) {
        const s = [...segs, k];
        if (mayRead(s)) dst[k] = src[k];
        else if (src[k] && typeof src[k] === 'object' && !Array.isArray(src[k]) && (readable === null ? covers(s, hidden) : covers(s, readable))) {
          dst[k] = {};
          walk(src[k], dst[k], s);
        }
      }
    };
    walk(all, out, []);
    return out;
  };

  // -- change delivery ----------------------------------------------------------
  const unsubscribeStore = store.onChange('*', (newValue, oldValue, changed, path) => {
    if (typeof changed !== 'string' || changed === '' || changed === '*') return;
    // a bulk change names top-level keys, which may contain dots: the store
    // gives the segments, and the key sent is written so that it parses back
    // to them (`'a.b'` as one key is sent as `'a\\.b'`, dot-prop's escape)
    const segs = Array.isArray(path) && path.length > 0 ? path : segmentsOf(changed, dot);
    const key = dot ? keyOf(segs) : changed;
    if (key === '*') return;
    if (restricted && !mayRead(segs)) return;
    const payload = { key, newValue, oldValue, timestamp: Date.now() };
    for (const wc of recipients()) {
      try {
        wc.send('store-changed', payload);
      } catch {
        // a window closing mid-send: forgotten on its 'destroyed'
      }
    }
  });

  const handlers = {
    'store-get': (event, key, defaultValue) => { readCheck(key); return store.get(key, defaultValue); },
    'store-set': (event, key, value) => {
      writeCheck(key);
      if (value === undefined) throw new TypeError('Use `delete()` to clear values');
      sizeCheck(value, key, () => segmentsOf(key, dot).length);
      store.set(key, value);
      return true;
    },
    'store-delete': (event, key) => { writeCheck(key); store.delete(key); return true; },
    'store-has': (event, key) => { readCheck(key); return store.has(key); },
    'store-clear': () => {
      if (writable !== null || hidden.length > 0) throw ipcError('E_FORBIDDEN_KEY', 'renderers may not clear a store with key restrictions');
      store.clear();
      return true;
    },
    // getAll() is already a fresh copy (IPC clones it again): no JSON round trip
    'store-get-all': () => visible(store.getAll()),
    'store-set-multiple': (event, data) => {
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new TypeError('Expected `data` to be an object');
      for (const k of Object.keys(data)) writeCheck(k);
      sizeCheck(data, 'data', 0);
      store.setMultiple(data);
      return true;
    },
    'store-info': () => {
      const info = store.getStoreInfo();
      return restricted ? { ...info, keys: info.keys.filter(k => mayRead(segmentsOf(k, false))) } : info;
    },
    'store-reload': () => { store.reload(); return true; },
    'store-create-backup': (event, reason) => {
      if (reason !== undefined && (typeof reason !== 'string' || reason.length > 200)) throw new TypeError('Expected `reason` to be a string of at most 200 characters');
      return store.createBackup(reason === undefined ? 'manual' : reason);
    },
    'store-list-backups': () => store.listBackups(),
    'store-restore-backup': (event, backup) => {
      if (writable !== null || hidden.length > 0) throw ipcError('E_FORBIDDEN_KEY', 'renderers may not restore a store with key restrictions');
      checkKey(backup, 'backup');
      return store.restoreBackup(backup);
    },
    'store-on-change': (event) => { if (event && event.sender) track(event.sender); return 'listener-registered'; },
    'store-off-change': () => 'listeners-cleaned',
    'store-rollback': (event, timestamp) => {
      if (writable !== null || hidden.length > 0) throw ipcError('E_FORBIDDEN_KEY', 'renderers may not roll back a store with key restrictions');
      if (!(typeof timestamp === 'number' && Number.isFinite(timestamp)) && typeof timestamp !== 'string' && !(timestamp instanceof Date)) {
        throw new TypeError('Expected `timestamp` to be an ISO string, a Date or a number of milliseconds');
      }
      return store.rollbackToTimestamp(timestamp);
    },
    'store-history-summary': () => {
      if (restricted) throw ipcError('E_FORBIDDEN_KEY', 'renderers may not read the history of a store with read restrictions');
      return store.getHistorySummary();
    },
    'store-validate-data': (event, data) => {
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new TypeError('Expected `data` to be an object');
      sizeCheck(data, 'data', 0);
      return store.validateData(data);
    },
    'store-list-migration-backups': () => store.listMigrationBackups(),
    'store-restore-migration-backup': (event, name) => {
      if (writable !== null || hidden.length > 0) throw ipcError('E_FORBIDDEN_KEY', 'renderers may not restore a store with key restrictions');
      checkKey(name, 'name');
      return store.restoreMigrationBackup(name);
    },
    'store-validate-migration-backup': (event, name) => { checkKey(name, 'name'); return store.validateMigrationBackup(name); },
  };
  if (atomicOperations) {
    handlers[ATOMIC_CHANNEL] = (event, key, operation) => {
      writeCheck(key);
      const fn = operationFn(key, operation);
      if ('value' in operation) sizeCheck(operation.value, key, () => segmentsOf(key, dot).length + 1);
      const next = store.update(key, (current) => {
        const value = fn(current);
        // the result as written: within the renderers' size limit
        sizeCheck(value, key, () => segmentsOf(key, dot).length);
        return value;
      });
      return mayRead(segmentsOf(key, dot)) ? next : true;
    };
  }

  const added = [];
  try {
    for (const channel of atomicOperations ? [...CHANNELS, ATOMIC_CHANNEL] : CHANNELS) {
      const fn = handlers[channel];
      ipcMain.handle(channel, async (event, ...args) => {
        try {
          checkSender(event);
          return await fn(event, ...args);
        } catch (error) {
          throw forIpc(error);
        }
      });
      added.push(channel);
    }
  } catch (error) {
    for (const c of added) ipcMain.removeHandler(c);
    unsubscribeStore();
    throw error;
  }

  let done = false;
  return function unregisterStoreIpc() {
    if (done) return;
    done = true;
    for (const c of added) ipcMain.removeHandler(c);
    unsubscribeStore();
    for (const wc of [...subscribed]) forget(wc);
  };
}

function electronBrowserWindow() {
  if (!process.versions.electron) return null;
  try {
    return require('electron').BrowserWindow || null;
  } catch {
    return null;
  }
}

module.exports = { registerStoreIpc, CHANNELS, ATOMIC_CHANNEL };
