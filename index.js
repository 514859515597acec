'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { EventEmitter } = require('node:events');

const binding = require('./lib/loader.js');
const NativeStore = require('./lib/native.js');
const { electronApp, initRenderer } = require('./lib/electron.js');
const { normalizeOptions, keyBytes } = require('./lib/options.js');
const { AutomaticBackups } = require('./lib/backups.js');
const FILE_NAMES = require('./lib/names.js');
const { reportListenerError, dispatchCoreEvent, deliverChanges, emitChange } = require('./lib/events.js');
const { storeError, closedError } = require('./lib/errors.js');
const { checkValueType, toJsonText, stringifyDeep, jsonEqual, segmentsOf } = require('./lib/values.js');
const versionGuard = require('./lib/version-guard.js');
// loaded on first use: a plain store (no migrations, update() or
// transaction(), reset() under defaultsLayer) never needs them, and each
// module is part of what `require('tad-store')` costs a fresh process
const lazy = (file) => {
  let mod = null;
  return () => mod || (mod = require(file));
};
const migrationsLib = lazy('./lib/migrations.js');
const atomicLib = lazy('./lib/atomic.js');
const layerLib = lazy('./lib/layer.js');
const processEnd = require('./lib/process-end.js');

const MIGRATION_KEY = '__internal__.migrations.version';

const INTERNAL_KEY = '__internal__';
const createPlainObject = () => Object.create(null);

// ---------------------------------------------------------------------------
// Which module loaded tad-store (conf infers the project from it)
// ---------------------------------------------------------------------------

// conf infers the project from the package.json nearest to the directory of
// the module that required it (conf re-evaluates itself on every require to
// know each one; tad-store keeps one Store class, so it is the module that
// required it first). No parent module (ESM, a REPL): the working directory.
let parentDir = '.';
try {
  parentDir = path.dirname((module.parent && module.parent.filename) || '.');
} catch {}

// ---------------------------------------------------------------------------
// Open files: the native core keeps one document per file in a process,
// shared by every Store instance on it (each with its own handle and
// options) in every JS environment (main thread, worker threads). Here: the
// JS side of that sharing in this environment (the instances to deliver
// events to, read caches). The hooks that make every change durable when the
// process ends: lib/process-end.js.
// ---------------------------------------------------------------------------

const openCores = new Map();

// Bumped by the native side, from any thread, when a file open here changes
// without a call from this environment (another worker thread's change,
// another process's caught up): the read caches compare it before answering.
// (A renderer that is not cross-origin isolated has no SharedArrayBuffer.)
const foreignChanges = new Int32Array(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
binding.envRegister(foreignChanges);

/** `flush(options)`'s `file` (the JSON file current too), checked. */
function flushFileOption(options) {
  if (options === undefined || options === null) return false;
  if (typeof options !== 'object') throw new TypeError(`Expected \`options\` to be an object, got ${typeof options}`);
  if (options.file === undefined) return false;
  if (typeof options.file !== 'boolean') throw new TypeError(`Expected \`options.file\` to be a boolean, got ${typeof options.file}`);
  return options.file;
}

/** `JSON.stringify(v)`, for values of any nesting (the engine's own overflows past a few thousand levels). */
function jsonOf(v) {
  try {
    return JSON.stringify(v);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // (no nesting limit: only compared, never stored from here)
    return stringifyDeep('value', v, '', -Infinity);
  }
}

/** Structural equality of two JSON-like values, key order and prototypes aside. */
function sameJson(a, b) {
  const ta = jsonOf(a);
  const tb = jsonOf(b);
  if (ta === tb) return true;
  if (ta === undefined || tb === undefined) return false;
  return jsonEqual(JSON.parse(ta), JSON.parse(tb));
}

function sha256(text) {
  return require('node:crypto').createHash('sha256').update(text).digest('hex');
}

/** Whether the constructor has something to do in its opening transaction. */
function wantsTransaction(opts) {
  // (with `defaultsLayer` the defaults are never written: nothing to do for them)
  return Boolean(opts.custom || (opts.defaults && !opts.defaultsLayer) || opts.schema || opts.rootSchema || opts.steps || opts.validate);
}

/** A time given as an ISO string, a Date or milliseconds → milliseconds. */
function toMillis(t) {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : typeof t === 'number' ? t : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new TypeError(`Expected a time (an ISO 8601 string, a Date or milliseconds since 1970), got ${typeof t === 'string' ? JSON.stringify(t) : typeof t}`);
  }
  return ms;
}

// ---------------------------------------------------------------------------
// The Store
// ---------------------------------------------------------------------------

/**
 * A settings store: electron-store 8's API on a native, crash-safe core.
 * See index.d.ts for the documentation of each member.
 */
class Store {
  #native;
  #core;
  #opts;
  #defaults;
  #subs = [];
  #closed = false;
  // JSON text of recently read keys, valid while the core's generation is unchanged
  #cache = new Map();
  #cacheGen = -1;
  #flags = 0;
  // automatic backups of this instance (lib/backups.js)
  #backups = null;

  /**
   * conf's constructor, as named steps: the options resolved; the file opened
   * (one crossing into the core); what opening found reported; one
   * initializing transaction (defaults, migrations, checks); background work
   * started.
   */
  constructor(options = {}) {
    const opts = normalizeOptions(options, parentDir);
    this.#opts = opts;
    this.#defaults = { ...(opts.defaults || {}) };
    const fileExtension = opts.fileExtension ? `.${opts.fileExtension}` : '';
    /** Absolute path of the store file. */
    this.path = path.resolve(opts.cwd, `${opts.name}${fileExtension}`);
    /** conf's event emitter: `'change'` after every change; `'error'` when writing fails. */
    this.events = new EventEmitter();
    const opened = this.#open(opts);
    this.#reportRecovery();
    this.#initialize(opts, opened);
    this.#startBackgroundWork(opts, opened);
  }

  /**
   * Opens the file in one crossing: the core (shared with the instances
   * already on the file), this environment's event sink for it, the report,
   * the constructor's transaction begun, the schema's defaults, and the
   * `defaults` filled in (with custom `serialize`, after the file is read:
   * see #initialize).
   */
  #open(opts) {
    // with custom serialize functions the store keeps its own JSON document
    // beside its journal, and writes `path` through them
    const nativePath = opts.custom ? path.join(opts.historyDir, `${path.basename(this.path)}${FILE_NAMES.dataSuffix}`) : this.path;
    const target = { core: null };
    this.#native = new NativeStore(binding, {
      path: nativePath,
      file: this.path,
      historyDir: opts.historyDir,
      backupDir: opts.backup.directory,
      maxBackups: opts.backup.maxBackups,
      schema: opts.schema ? JSON.stringify(opts.schema) : undefined,
      rootSchema: opts.rootSchema ? JSON.stringify(opts.rootSchema) : undefined,
      defaults: opts.defaults ? toJsonText('defaults', opts.defaults, 'defaults', 0) : undefined,
      mode: opts.configFileMode,
      durability: opts.durability,
      defaultsLayer: opts.defaultsLayer,
      clearInvalidConfig: Boolean(opts.clearInvalidConfig),
      compact: opts.compact,
      ...opts.crypto,
      historyMax: opts.historyMax,
      dotNotation: opts.accessPropertiesByDotNotation !== false,
      // a transaction only when the constructor has something to do in it
      // (onNewerVersion: begun from JS once the version is known not newer)
      begin: opts.onNewerVersion === 'allow' && wantsTransaction(opts),
      fillDefaults: !opts.custom && !opts.defaultsLayer && opts.onNewerVersion === 'allow' && Boolean(opts.defaults || opts.schema || opts.rootSchema),
      readKey: opts.steps ? MIGRATION_KEY : undefined,
    }, event => Store.#onCoreEvent(target.core, event));
    // the native store holds its own copy of the keys
    if (opts.crypto.secretKey) opts.crypto.secretKey.fill(0);
    if (opts.crypto.encryptionKey) opts.crypto.encryptionKey.fill(0);
    opts.crypto = { legacy: Boolean(opts.crypto.encryptionKey), secretKeys: opts.crypto.secretKeys };
    const opened = this.#native.opened;
    this.#handleIdCache = opened.handleId;
    this.#attach(opened, target);
    return opened;
  }

  /** What opening found (once per file and environment): warnings, a `'recovered'` event. */
  #reportRecovery() {
    const report = this.#core.report;
    if (report.quarantined && !report.reported) {
      report.reported = true;
      const how = report.recovered ? `it was ${report.recovered}` : 'the store started from defaults';
      process.emitWarning(`tad-store: the store file ${this.path} was damaged; it was kept as ${report.quarantined} and ${how}`, { code: 'TAD_STORE_QUARANTINED' });
      process.nextTick(() => this.events.emit('recovered', { ...report }));
    }
    if (report.invalidUtf8 && !this.#core.utf8Warned) {
      this.#core.utf8Warned = true;
      process.emitWarning(`tad-store: the store file ${this.path} holds bytes that are not UTF-8 (saved in another encoding?); they read as U+FFFD, as electron-store reads them, and the file is left as it is until the next change`, { code: 'TAD_STORE_INVALID_UTF8' });
    }
  }

  /**
   * Opening is one transaction (begun by #open unless the store is
   * read-only): defaults, migrations and the check of the loaded data are
   * written as one change, or not at all.
   */
  #initialize(opts, opened) {
    // onNewerVersion: a store last migrated by a newer app version is refused,
    // or opened for reading with nothing written (see lib/version-guard.js)
    const guarded = opts.onNewerVersion !== 'allow';
    const newer = guarded ? versionGuard.newerVersion(this.get(MIGRATION_KEY), opts.projectVersion) : null;
    if (newer !== null) {
      if (opts.onNewerVersion === 'throw') {
        this.#abandon(false);
        throw versionGuard.newerVersionError(this.path, newer, opts.projectVersion);
      }
      this.#versionLock = { newer, ours: opts.projectVersion };
      this.newerVersion = newer;
      return;
    }
    let name = 'defaults';
    let began = opened.began;
    if (guarded && !this.#core.report.readOnly && wantsTransaction(opts)) {
      this.#native.begin();
      began = true;
    }
    try {
      this.#opening = true;
      if (opts.custom && this.#importSerialized(opts)) name = 'external-change';
      // conf: schema defaults (truthy ones) under `defaults`, for reset() and clear()
      if (opened.schemaDefaults !== null) {
        const truthy = {};
        for (const [k, v] of Object.entries(JSON.parse(opened.schemaDefaults))) if (v) truthy[k] = v;
        this.#defaults = { ...truthy, ...this.#defaults };
      }
      // defaults merged under the file's keys and schema defaults (conf's
      // constructor), unchecked; the result is checked once migrations have run
      // (conf checks before, and breaks migrations that fix data)
      if (opened.changes !== null) {
        this.#run(() => opened.changes, true);
      } else if ((opts.custom || guarded) && !opts.defaultsLayer && (opts.defaults || opts.schema || opts.rootSchema)) {
        this.#run(() => this.#native.fillDefaults(opened.existed, this.#listFlags() | NativeStore.NO_SCHEMA), true);
      }
      if (opts.steps && this.#migrate(opts, opened)) name = 'migration';
      if (this.#checkLoaded(opts)) name = 'sanitize';
      if (began) this.#native.commit(name);
    } catch (error) {
      this.#opening = false;
      this.#abandon(began);
      throw error;
    }
    this.#opening = false;
  }

  /** The custom-serialize export, automatic backups, the watcher, the slow-operation threshold. */
  #startBackgroundWork(opts, opened) {
    if (processEnd.isExiting()) processEnd.flushReporting(this, 'on exit');
    const locked = this.#versionLock !== null;
    if (opts.custom && !locked) this.#exportSerialized(undefined, true);
    // (the open counted the keys; a transaction may have changed them)
    this.#backups = new AutomaticBackups(this.#native, opts.backup, error => this.#reportBackupError(error), () => this.#closed);
    // (a store held read-only by onNewerVersion gets no backup: nothing is written)
    if (!locked) this.#backups.start(opened.began ? undefined : opened.size);
    if (opts.watch) this.#run(() => this.#native.watch());
    if (opts.slowOperationMs !== undefined) this.#native.setSlowThreshold(opts.slowOperationMs);
  }


  // -- internals -----------------------------------------------------------

  #opening = false;
  /** `onNewerVersion: 'read-only'` found a newer version: `{ newer, ours }` (writes throw E_READ_ONLY). */
  #versionLock = null;
  #exportGiven = undefined;
  /** When a held export is tried again (a timer), while one waits. */
  #exportTimer = null;

  /** What the last export wrote (`storeHistory/<file>.serialized.json`, read by the core): `{ sha, seq }` or null. */
  #readMark() {
    try {
      const text = this.#native.exportMark(this.path);
      return text === null ? null : JSON.parse(text);
    } catch {
      return null;
    }
  }

  /**
   * Custom `deserialize`: at open, the store file is read through it. When it
   * holds what the store itself last wrote, the store's journal decides (it
   * may hold later changes). Otherwise — a file conf or electron-store wrote,
   * or an edit — its content replaces the store's as one history entry
   * (reversible). A file `deserialize` cannot read throws as conf does, unless
   * the store has its own copy of the data (then that is kept, the file is
   * set aside as `<file>.corrupt-<ms>` and written again).
   */
  #importSerialized(opts) {
    let text;
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (error) {
      if (error.code === 'ENOENT') return false;
      throw error;
    }
    const mark = this.#readMark();
    if (mark && mark.sha === sha256(text)) return false;
    let value;
    try {
      value = opts.custom.deserialize(text);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new TypeError(`Expected \`deserialize\` to return an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
      }
    } catch (error) {
      const haveOwn = mark !== null || this.#native.size() > 0;
      if (!haveOwn && !(opts.clearInvalidConfig && error && error.name === 'SyntaxError')) throw error;
      const kept = `${this.path}${FILE_NAMES.corruptInfix}${Date.now()}`;
      try { fs.renameSync(this.path, kept); } catch {}
      process.emitWarning(`tad-store: ${this.path} could not be read through \`deserialize\` (${error && error.message}); it was kept as ${kept} and ${haveOwn ? 'the store kept its own copy of the data' : 'the store started from defaults'}`, { code: 'TAD_STORE_QUARANTINED' });
      return false;
    }
    if (sameJson(value, this.store)) return false;
    const json = toJsonText('store', value, 'store', 0);
    this.#run(() => this.#native.replaceAll(json, 'external-change', true, this.#listFlags() | NativeStore.NO_SCHEMA), true);
    return true;
  }

  /**
   * Custom `serialize`: after every change the whole store is written through
   * it (as conf does: a full serialize per change, on the calling thread),
   * checked first — `deserialize(serialize(store))` must give the store back,
   * or the file is not written. The store's own journal and document hold the
   * change either way; a failed export is an 'error' event (E_SERIALIZE) and
   * the next change writes the file again. `given`: the object passed to
   * `store =` (serialized as it is when it equals the new state).
   */
  #exportSerialized(given, onlyIfStale = false) {
    const custom = this.#opts.custom;
    if (!custom || this.#opening || this.#closed || this.#core.report.readOnly) return;
    const state = this.store;
    const seq = this.#native.status().seq;
    if (onlyIfStale) {
      const mark = this.#readMark();
      const exists = fs.existsSync(this.path);
      if (exists ? (mark && mark.seq === seq) : Object.keys(state).length === 0) return;
    }
    try {
      const value = given !== undefined && sameJson(given, state) ? given : state;
      const text = custom.serialize(value);
      if (typeof text !== 'string' && !Buffer.isBuffer(text)) throw new TypeError(`Expected \`serialize\` to return a string, got ${text === null ? 'null' : typeof text}`);
      const asText = typeof text === 'string' ? text : text.toString('utf8');
      const back = custom.deserialize(asText);
      if (!sameJson(back, state)) {
        throw storeError('E_SERIALIZE', `tad-store: deserialize(serialize(store)) does not give the store back, so ${this.path} was not written (the change is kept in the store's journal)`);
      }
      // written by the core's atomic write (a newer export replaces one
      // still waiting for its rename); a file another program holds waits
      // in its temp file and is tried again on a timer
      const mark = JSON.stringify({ sha: sha256(asText), seq });
      this.#scheduleExportRetry(this.#native.exportSerialized(this.path, text, mark));
    } catch (error) {
      this.#exportFailed(error);
    }
  }

  #exportFailed(error) {
    // a file error from the core: its OS error (EBUSY, ENOSPC, ...) as `cause`, as fs's errors were
    const fromCore = error && (error.code === 'E_IO' || error.code === 'E_NOSPC') && error.cause;
    const fields = fromCore ? { cause: error.cause, path: error.path } : { cause: error };
    const e = error && error.code === 'E_SERIALIZE' ? error : storeError('E_SERIALIZE', `tad-store: writing ${this.path} through \`serialize\` failed: ${error && error.message} (the change is kept in the store's journal)`, fields);
    if (this.events.listenerCount('error') > 0) {
      try { this.events.emit('error', e); } catch (listenerError) { reportListenerError(this, listenerError); }
    } else {
      process.emitWarning(e.message, { code: 'TAD_STORE_SERIALIZE_ERROR' });
    }
  }

  /** `retryMs`: null (the export is in place), or when to try a held one again. */
  #scheduleExportRetry(retryMs) {
    if (this.#exportTimer) clearTimeout(this.#exportTimer);
    this.#exportTimer = null;
    if (retryMs === null) return;
    this.#exportTimer = setTimeout(() => this.#finishPendingExport(false), retryMs);
    this.#exportTimer.unref();
  }

  /**
   * Tries a held export's rename again (the core counts the tries and keeps
   * the temp file meanwhile); once they are spent (or with `last`, at close)
   * the failure is reported with its code and the temp file removed — the
   * store's journal keeps the change, and the next change (or open) writes
   * the file.
   */
  #finishPendingExport(last) {
    try {
      this.#scheduleExportRetry(this.#native.exportRetry(last));
    } catch (error) {
      this.#scheduleExportRetry(null);
      this.#exportFailed(error);
    }
  }

  /**
   * Joins the JS side of the file's core (shared with the other instances on
   * it); `target` is what the event listener given to the open delivers to
   * (when it is this environment's listener for the file).
   */
  #attach(opened, target) {
    const id = opened.coreId;
    let core = openCores.get(id);
    if (!core) {
      core = { id, instances: new Set(), gen: 0, seen: Atomics.load(foreignChanges, 0), subscriptions: 0, storeText: null, report: opened.report };
      openCores.set(id, core);
    }
    if (opened.listening) target.core = core;
    core.instances.add(this);
    this.#core = core;
    processEnd.track(this);
  }

  /** Leaves the core (this instance is closed). */
  #detach() {
    this.#closed = true;
    if (this.#backups) this.#backups.stop(false);
    this.#core.subscriptions -= this.#subs.length;
    this.#subs.length = 0;
    this.#core.instances.delete(this);
    if (this.#core.instances.size === 0) openCores.delete(this.#core.id);
    processEnd.untrack(this);
  }

  /** Background events of the file (on the JS thread): see `dispatchCoreEvent` (lib/events.js). */
  static #onCoreEvent(core, e) {
    if (core === null) return;
    dispatchCoreEvent([...core.instances], e, Store.#eventHooks);
  }

  static #eventHooks = {
    /** Other environments' and processes' changes, applied: delivered as this environment's are. */
    changes(inst, changes) {
      const core = inst.#core;
      core.gen++;
      core.storeText = null;
      inst.#afterChange(changes, true);
    },
    handleId: inst => inst.#handleId(),
  };

  #handleIdCache = -1;
  #cachedGets = 0;
  #handleId() {
    return this.#handleIdCache;
  }

  /** Releases the handle after a failed construction (its transaction is undone). */
  #abandon(began) {
    if (began) {
      try {
        const undone = JSON.parse(this.#native.abort());
        this.#changed();
        if (undone.length > 0) this.#afterChange(undone, true);
      } catch {}
    }
    this.#detach();
    try {
      this.#native.close(true);
    } catch {}
  }

  #setInternal(version) {
    try {
      this.#native.set(MIGRATION_KEY, JSON.stringify(version), false, NativeStore.NO_SCHEMA);
    } finally {
      this.#changed();
    }
  }

  /** The migrations (lib/migrations.js), run against this store inside the opening transaction. Returns whether a step ran. */
  #migrate(opts, { existed, readValue }) {
    return migrationsLib().runMigrations(this, opts, {
      path: this.path,
      existed,
      // (read by the open; a custom-serialize store read its file since)
      recorded: opts.custom ? this.get(MIGRATION_KEY) : readValue === null ? undefined : JSON.parse(readValue),
      setVersion: version => this.#setInternal(version),
      snapshot: reason => this.#native.migrationSnapshotSync(reason),
      withoutSchema: steps => {
        const flags = this.#flags;
        // (`defaultsLayer`: migrations read and write the user's own values)
        this.#flags |= NativeStore.NO_SCHEMA | (opts.defaultsLayer ? NativeStore.USER : 0);
        this.#changed();
        try {
          steps();
        } finally {
          this.#flags = flags;
          this.#changed();
        }
      },
      newer: version => {
        this.newerVersion = version;
      },
    });
  }

  /**
   * Schema (after migrations) and custom validation of the loaded document.
   * Returns whether the document was sanitized; throws E_SCHEMA in 'throw' mode.
   */
  #checkLoaded(opts) {
    if (!opts.schema && !opts.rootSchema && !opts.validate) return false;
    const errors = this.#validationErrors(null);
    if (errors.length === 0) return false;
    if (opts.onInvalidData === 'sanitize') {
      this.#run(() => this.#native.sanitize(this.#listFlags()), true);
      const left = this.#validationErrors(null);
      if (left.length > 0) {
        process.emitWarning(`tad-store: ${this.path} still fails validation after sanitizing: ${left.join('; ')}`, { code: 'TAD_STORE_INVALID_DATA' });
      }
      return true;
    }
    throw storeError('E_SCHEMA', `Config schema violation: ${errors.join('; ')}`, { errors });
  }

  /** Schema errors plus the custom `validate` function's, for `data` (null: the store). */
  #validationErrors(data) {
    const errors = JSON.parse(this.#native.validate(data === null ? '' : toJsonText('data', data, 'data', 0)));
    if (this.#opts.validate) {
      const custom = this.#opts.validate(data === null ? this.store : data);
      if (Array.isArray(custom)) errors.push(...custom.map(String));
      else if (custom !== undefined && custom !== null && custom !== true) {
        throw new TypeError('Expected the `validate` option to return an array of error messages');
      }
    }
    return errors;
  }

  #live() {
    if (this.#closed) throw closedError();
    return this.#native;
  }

  /** `#live()` for a change: refused while `onNewerVersion: 'read-only'` holds the store. */
  #writable() {
    const native = this.#live();
    const lock = this.#versionLock;
    if (lock !== null) throw versionGuard.readOnlyError(this.path, lock.newer, lock.ours);
    return native;
  }

  /** Invalidates the read caches after a (possible) change. */
  #changed() {
    const core = this.#core;
    core.gen++;
    core.storeText = null;
    if (processEnd.isExiting() && !this.#opening) processEnd.flushReporting(this, 'on exit');
  }

  /**
   * The file's core, its read caches dropped when something else changed it
   * since they were filled (another environment or process: see
   * `foreignChanges`).
   */
  #fresh() {
    const core = this.#core;
    const seen = Atomics.load(foreignChanges, 0);
    if (core.seen !== seen) {
      core.seen = seen;
      core.gen++;
      core.storeText = null;
    }
    return core;
  }

  /** Flags for calls returning change lists: values only when someone listens. */
  #listFlags() {
    return this.#flags | (this.#core.subscriptions > 0 ? NativeStore.VALUES : 0);
  }

  /** Whether any instance on this file has a subscription (then old values are needed). */
  #listening() {
    return this.#core.subscriptions > 0;
  }

  /** Runs a native call returning a change list (JSON or null) and delivers it. */
  #run(call, literal) {
    let result;
    try {
      result = call();
    } finally {
      this.#changed();
    }
    if (result !== null && result !== undefined) {
      const entries = JSON.parse(result);
      if (entries.length > 0) this.#afterChange(entries, literal);
    }
    return result;
  }

  /**
   * After a change: critical-key backups of every instance on the file, then
   * the change events. `entries`: [{k, o?, n?}]; `literal`: keys are top-level
   * names (else paths as given).
   */
  #afterChange(entries, literal) {
    // a transaction runs: delivered (merged) once it commits, never if it fails
    if (this.#core.muted) {
      this.#core.muted.push([entries, literal]);
      return;
    }
    if (this.#opts.custom) {
      const given = this.#exportGiven;
      this.#exportGiven = undefined;
      this.#exportSerialized(given);
    }
    const instances = [...this.#core.instances];
    for (const inst of instances) if (inst.#backups) inst.#backups.noteCritical(entries, literal, processEnd.isExiting());
    if (!this.#listening()) {
      emitChange(this.#core.instances);
      return;
    }
    const dot = this.#opts.accessPropertiesByDotNotation !== false;
    const paths = entries.map(e => (literal ? [e.k] : segmentsOf(e.k, dot)));
    for (const inst of instances) deliverChanges(inst, inst.#subs, entries, paths, inst.#opts.defaultsLayer);
  }

  #subscribe(sub) {
    this.#live();
    this.#subs.push(sub);
    this.#core.subscriptions++;
    return () => {
      const i = this.#subs.indexOf(sub);
      if (i !== -1) {
        this.#subs.splice(i, 1);
        this.#core.subscriptions--;
      }
    };
  }

  // -- automatic backups -----------------------------------------------------

  #reportBackupError(error) {
    // a store closed while its backup was queued has nothing left to back up
    if (error.code === 'E_CLOSED') return;
    error.message = `tad-store: automatic backup failed: ${error.message}`;
    reportListenerError(this, error);
  }

  /** The property name a value is stored under (what its `toJSON(key)` receives). */
  #propertyName(key, value) {
    if (value === null || typeof value !== 'object' || typeof value.toJSON !== 'function') return key;
    const segs = segmentsOf(key, this.#opts.accessPropertiesByDotNotation !== false);
    return segs[segs.length - 1];
  }

  #checkReserved(key) {
    if (this.#opts.accessPropertiesByDotNotation !== false ? key === INTERNAL_KEY || key.startsWith(`${INTERNAL_KEY}.`) : key === INTERNAL_KEY) {
      throw new TypeError(`Please don't use the ${INTERNAL_KEY} key, as it's used to manage this module internal operations.`);
    }
  }

  #setObject(object, op) {
    this.#writable();
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      throw new TypeError(`Expected an object of key/value pairs, got ${object === null ? 'null' : Array.isArray(object) ? 'an array' : typeof object}`);
    }
    const entries = Object.entries(object);
    for (const [k, v] of entries) {
      this.#checkReserved(k);
      checkValueType(k, v);
    }
    for (const s of Object.getOwnPropertySymbols(object)) {
      if (Object.prototype.propertyIsEnumerable.call(object, s)) throw new TypeError(`Keys must be strings, got the symbol ${String(s)}`);
    }
    // one JSON object text, each value checked and encoded like set(key, value)
    const dot = this.#opts.accessPropertiesByDotNotation !== false;
    const parts = entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(k, v, this.#propertyName(k, v), () => segmentsOf(k, dot).length)}`);
    const text = `{${parts.join(',')}}`;
    const native = this.#live();
    this.#run(() => native.setMany(text, op, this.#listFlags()), false);
  }

  // -- electron-store surface ----------------------------------------------

  /** Gets the item at `key` (a fresh copy), or `defaultValue` if absent. */
  get(key, defaultValue) {
    const native = this.#live();
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${typeof key}`);
    const gen = this.#fresh().gen;
    if (this.#cacheGen !== gen) {
      this.#cache.clear();
      this.#cacheGen = gen;
    }
    let text = this.#cache.get(key);
    if (text === undefined) {
      text = native.get(key, this.#flags);
      if (this.#cache.size < 256) this.#cache.set(key, text);
    } else {
      this.#cachedGets++;
    }
    return text === null ? defaultValue : JSON.parse(text);
  }

  /** Sets `key` to `value`, or every key/value of an object. */
  set(key, value) {
    const native = this.#writable();
    if (typeof key === 'object' && key !== null) {
      this.#setObject(key, 'set');
      return;
    }
    if (typeof key !== 'string') {
      throw new TypeError(`Expected \`key\` to be of type \`string\` or \`object\`, got ${key === null ? 'null' : typeof key}`);
    }
    if (value === undefined) throw new TypeError('Use `delete()` to clear values');
    this.#checkReserved(key);
    const text = toJsonText(key, value, this.#propertyName(key, value), () => segmentsOf(key, this.#opts.accessPropertiesByDotNotation !== false).length);
    const want = this.#listening();
    let old;
    try {
      old = native.set(key, text, want, this.#flags);
    } finally {
      this.#changed();
    }
    if (old === null) return;
    if (old.charCodeAt(0) === 33) {
      // '!': the schema's defaults filled the value, or changed other keys too
      this.#afterChange(JSON.parse(old.slice(1)), false);
      return;
    }
    const entry = { k: key };
    if (want) {
      entry.n = JSON.parse(text);
      if (old !== '') entry.o = JSON.parse(old);
    }
    this.#afterChange([entry], false);
  }

  /**
   * Sets `key` to `fn(current)`, run on the latest value of `key` across
   * every process (the shared journal is locked and caught up first), as one
   * change. Returns the new value. See index.d.ts.
   */
  update(key, fn) {
    const native = this.#writable();
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${key === null ? 'null' : typeof key}`);
    if (typeof fn !== 'function') throw new TypeError(`Expected \`fn\` to be of type \`function\`, got ${fn === null ? 'null' : typeof fn}`);
    this.#checkReserved(key);
    const remote = native.atomicBegin();
    let text;
    let want;
    try {
      if (remote !== null) this.#changed();
      const next = fn(this.get(key));
      atomicLib().checkUpdateResult(key, next);
      text = toJsonText(key, next, this.#propertyName(key, next), () => segmentsOf(key, this.#opts.accessPropertiesByDotNotation !== false).length);
      want = this.#listening();
    } catch (error) {
      native.atomicEnd();
      if (remote !== null) this.#afterChange(JSON.parse(remote), true);
      throw error;
    }
    let old;
    try {
      old = native.updateSet(key, text, want, this.#flags);
    } finally {
      this.#changed();
      if (remote !== null) this.#afterChange(JSON.parse(remote), true);
    }
    if (old === null) return JSON.parse(text);
    if (old.charCodeAt(0) === 33) {
      // '!': the schema's defaults filled the value, or changed other keys too
      this.#afterChange(JSON.parse(old.slice(1)), false);
      return this.get(key);
    }
    const entry = { k: key };
    if (want) {
      entry.n = JSON.parse(text);
      if (old !== '') entry.o = JSON.parse(old);
    }
    this.#afterChange([entry], false);
    return JSON.parse(text);
  }

  /**
   * Runs `fn(tx)` as one atomic change on the latest state across every
   * process: all of its changes are written as one history entry, or — when
   * it throws — none are (listeners see nothing). Returns what `fn` returns.
   * See index.d.ts.
   */
  transaction(fn) {
    const native = this.#writable();
    if (typeof fn !== 'function') throw new TypeError(`Expected \`fn\` to be of type \`function\`, got ${fn === null ? 'null' : typeof fn}`);
    const core = this.#core;
    const remote = native.atomicBegin();
    const deliverRemote = () => {
      if (remote !== null) this.#afterChange(JSON.parse(remote), true);
    };
    if (remote !== null) this.#changed();
    try {
      native.begin();
    } catch (error) {
      native.atomicEnd();
      deliverRemote();
      throw error;
    }
    const buffered = [];
    core.muted = buffered;
    const { tx, end } = atomicLib().makeTx(this);
    let result;
    try {
      result = fn(tx);
      atomicLib().checkTransactionResult(result);
      core.muted = null;
      native.commit('transaction');
    } catch (error) {
      core.muted = null;
      end();
      try {
        native.abort();
      } catch {}
      this.#changed();
      native.atomicEnd();
      deliverRemote();
      throw error;
    }
    end();
    native.atomicEnd();
    deliverRemote();
    const merged = atomicLib().mergeChanges(buffered, this.#listening());
    if (merged.literal.length > 0) this.#afterChange(merged.literal, true);
    if (merged.paths.length > 0) this.#afterChange(merged.paths, false);
    return result;
  }

  /** Whether `key` exists. */
  has(key) {
    const native = this.#live();
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${typeof key}`);
    return native.has(key, this.#flags);
  }

  /** Deletes `key` (an array element becomes `null`, as electron-store writes it). */
  delete(key) {
    const native = this.#writable();
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${typeof key}`);
    this.#run(() => native.delete(key, this.#listening(), this.#flags), false);
  }

  /** Resets the given keys to their `defaults` (keys without a default are left alone). */
  reset(...keys) {
    const native = this.#live();
    for (const key of keys) {
      if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${typeof key}`);
    }
    if (this.#opts.defaultsLayer) {
      // the user's value is removed, so the default shows (a key without a
      // default is left alone, as conf leaves it)
      const dot = this.#opts.accessPropertiesByDotNotation !== false;
      for (const key of keys) {
        const i = native.inspect(key);
        if (i.defaultValue === undefined || i.userValue === undefined) continue;
        this.delete(dot ? layerLib().resetTarget(key, segmentsOf(key, true), k => native.inspect(k)) : key);
      }
      return;
    }
    for (const key of keys) {
      const value = this.#defaults[key];
      if (value !== undefined && value !== null) this.set(key, value);
    }
  }

  /** Deletes everything but `defaults` (and the internal migration state), as one change. */
  clear() {
    const native = this.#writable();
    // conf writes {} (through Ajv: the schema's defaults), then reset()s each
    // default key — a set(key), so with dot notation a default named 'a.b'
    // lands at a → b, and each gets the schema defaults it makes apply. Here:
    // one change.
    const dot = this.#opts.accessPropertiesByDotNotation !== false;
    const parts = [];
    // (`defaultsLayer`: the user's values go, the defaults show through)
    if (this.#opts.defaultsLayer) {
      this.#run(() => native.clear('{}', this.#listFlags()), true);
      return;
    }
    for (const [k, v] of Object.entries(this.#defaults)) {
      if (v === undefined || v === null) continue;
      parts.push(`${JSON.stringify(k)}:${toJsonText(k, v, this.#propertyName(k, v), () => segmentsOf(k, dot).length)}`);
    }
    this.#run(() => native.clear(`{${parts.join(',')}}`, this.#listFlags()), true);
  }

  /** The whole store (a fresh copy, null-prototype like conf's). */
  get store() {
    const native = this.#live();
    const core = this.#fresh();
    if (this.#opts.defaultsLayer) return Object.assign(createPlainObject(), JSON.parse(this.#viewText(native, core)));
    // The document's JSON text is kept until the next change: reading the whole
    // store again (renderers asking for everything) is then only a JSON.parse.
    let text = core.storeText;
    if (text === null) {
      text = native.toJson();
      core.storeText = text;
    }
    return Object.assign(createPlainObject(), JSON.parse(text));
  }

  /**
   * `defaultsLayer`: this instance's view as JSON text, kept until the next
   * change (the view is per instance: its defaults are its own); inside a
   * migration, the user's own values.
   */
  #viewText(native, core) {
    if (this.#flags & NativeStore.USER) return native.userJson();
    if (this.#viewGen !== core.gen) {
      this.#view = native.toJson();
      this.#viewGen = core.gen;
    }
    return this.#view;
  }

  #view = null;
  #viewGen = -1;

  /**
   * `defaultsLayer`: `{ value, defaultValue, userValue, source }` of `key`.
   * See index.d.ts.
   */
  inspect(key) {
    const native = this.#live();
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${key === null ? 'null' : typeof key}`);
    const i = native.inspect(key);
    return { value: i.value, defaultValue: i.defaultValue, userValue: i.userValue, source: i.source };
  }

  set store(value) {
    const native = this.#writable();
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new TypeError(`Expected the store to be an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    }
    const text = toJsonText('store', value, 'store', 0);
    this.#exportGiven = value;
    try {
      this.#run(() => native.replaceAll(text, 'store', true, this.#listFlags()), true);
    } finally {
      this.#exportGiven = undefined;
    }
  }

  /** Number of top-level items. */
  get size() {
    const native = this.#live();
    if (this.#flags & NativeStore.USER) return Object.keys(JSON.parse(native.userJson())).length;
    return native.size();
  }

  *[Symbol.iterator]() {
    for (const entry of Object.entries(this.store)) yield entry;
  }

  /** Calls `callback(newValue, oldValue)` when the value at `key` changes. Returns an unsubscribe function. */
  onDidChange(key, callback) {
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${typeof key}`);
    if (typeof callback !== 'function') throw new TypeError(`Expected \`callback\` to be of type \`function\`, got ${typeof callback}`);
    const segs = segmentsOf(key, this.#opts.accessPropertiesByDotNotation !== false);
    return this.#subscribe({ kind: 'key', key, segs, cb: callback, current: this.get(key), withKey: false });
  }

  /** Calls `callback(newStore, oldStore)` on any change. Returns an unsubscribe function. */
  onDidAnyChange(callback) {
    if (typeof callback !== 'function') throw new TypeError(`Expected \`callback\` to be of type \`function\`, got ${typeof callback}`);
    return this.#subscribe({ kind: 'any', cb: callback, current: this.store });
  }

  /** Opens the store file in the user's editor (Electron's `shell.openPath`). */
  async openInEditor() {
    this.#live();
    const electron = electronApp();
    if (!electron || !electron.shell) {
      throw storeError('E_UNSUPPORTED', `openInEditor() needs Electron's shell module; outside Electron open ${this.path} yourself`);
    }
    const error = await electron.shell.openPath(this.path);
    if (error) throw storeError('E_IO', error);
  }

  // -- TAD surface -----------------------------------------------------------

  /** The whole store (same as `store`). */
  getAll() {
    return this.store;
  }

  /** Sets every key/value of `data` as one atomic change. Returns `true`. */
  setMultiple(data) {
    this.#live();
    this.#setObject(data, 'setMultiple');
    return true;
  }

  /**
   * Calls `callback(newValue, oldValue, key)` when `key` changes; with `'*'`, once
   * per changed key of every change. Returns an unsubscribe function.
   */
  onChange(key, callback) {
    if (typeof key !== 'string') throw new TypeError(`Expected \`key\` to be of type \`string\`, got ${typeof key}`);
    if (typeof callback !== 'function') throw new TypeError(`Expected \`callback\` to be of type \`function\`, got ${typeof callback}`);
    if (key === '*') return this.#subscribe({ kind: 'all-keys', cb: callback, current: this.#opts.defaultsLayer ? this.store : undefined });
    const segs = segmentsOf(key, this.#opts.accessPropertiesByDotNotation !== false);
    return this.#subscribe({ kind: 'key', key, segs, cb: callback, current: this.get(key), withKey: true });
  }

  /**
   * Re-reads the shared journal and the file now: other processes' changes and
   * an edit another program made to the file are applied, and change events
   * fire for what changed. A damaged file throws `E_CORRUPT` and is not applied.
   */
  /**
   * Re-encrypts everything the store wrote (document, journal, backups,
   * migration snapshots, quarantined copies) under `newKey` (`secretKeys`
   * stores: a Buffer of at least 16 bytes; `encryptionKey` stores: the new
   * password). Atomic across a crash: until it completes the store opens with
   * either key, and the next open finishes it (new key) or undoes it (old
   * key). Returns `{ document, journalEntries, snapshots, quarantined,
   * backups: { rotated, failed: [{ path, code, message }] } }`; backups it
   * could not re-encrypt are left as they were and listed in `failed`.
   */
  rotateSecretKey(newKey) {
    const native = this.#writable();
    const key = keyBytes(newKey, 'newKey', Boolean(this.#opts.crypto && this.#opts.crypto.legacy));
    try {
      return native.rotateSecretKey(key);
    } finally {
      key.fill(0);
    }
  }

  reload() {
    const native = this.#live();
    this.#run(() => native.reload(), true);
    return true;
  }

  /** `{ path, size, fileSize, keys, version, listeners, durability, ... }` */
  getStoreInfo() {
    const native = this.#live();
    const status = native.status();
    const keys = native.keys();
    return {
      path: this.path,
      size: keys.length,
      fileSize: status.fileSize,
      keys,
      version: this.get(`${INTERNAL_KEY}.migrations.version`, this.#opts.projectVersion ?? null),
      listeners: this.#subs.length,
      durability: this.#opts.durability,
      seq: status.seq,
      durableSeq: status.durableSeq,
      checkpointedSeq: status.checkpointedSeq,
      pendingWrites: status.pending,
      journalBytes: status.journalBytes,
      writerError: status.writerError,
      readOnly: status.readOnly,
      recovery: { ...this.#core.report, journalDamage: this.#core.report.journalDamage || status.journalDamage },
    };
  }

  /**
   * Resolves when every change so far is durable (its journal record fsynced;
   * rejects with the write error). The JSON file itself is rewritten later by
   * the checkpoint schedule, on `close()` and when the process ends;
   * `flush({ file: true })` also waits for it to hold every change.
   */
  flush(options) {
    if (this.#closed) return Promise.reject(closedError());
    let file;
    try {
      file = flushFileOption(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#native.flush(file).then(() => undefined);
  }

  /** Blocks until every change so far is durable (`{ file: true }`: and in the JSON file). */
  flushSync(options) {
    if (this.#closed) throw closedError();
    this.#native.flushSync(flushFileOption(options));
  }

  /**
   * Flushes and releases the store. Further calls throw `E_CLOSED`. The file stays
   * open for other Store instances on the same path until they close too. When
   * the changes cannot be written (disk full, I/O error) it throws that error and
   * the store stays open with them; `close({ force: true })` closes anyway and
   * drops them.
   */
  close(options) {
    if (this.#closed) return;
    const force = options !== null && typeof options === 'object' && options.force === true;
    if (this.#backups) this.#backups.stop(true);
    // an export still held: one last try now (its failure is reported)
    if (this.#exportTimer) this.#finishPendingExport(true);
    try {
      this.#native.close(force);
    } catch (error) {
      // still open: the changes are kept, and so are the timers
      if (this.#backups) this.#backups.startTimer();
      throw error;
    }
    this.#detach();
  }

  /**
   * The process (or this worker) ends and the store stays open for the
   * 'exit' handlers still to run: the scheduled backups stop, a critical-key
   * backup that is due is taken, every change is written.
   */
  [processEnd.ENDING](when) {
    if (this.#closed) return;
    if (this.#backups) this.#backups.stop(true);
    processEnd.flushReporting(this, when);
  }

  // -- backups and history (Promise-returning; the disk work runs off the JS thread)

  /** Takes a verified backup now. Resolves to its path. */
  async createBackup(reason = 'manual') {
    const native = this.#live();
    if (typeof reason !== 'string') throw new TypeError(`Expected \`reason\` to be a string, got ${typeof reason}`);
    return (await native.createBackup(reason, false)).path;
  }

  /** The backups, newest first: `[{ file, path, metadata }]`. */
  async listBackups() {
    return this.#live().listBackups();
  }

  /**
   * Restores a backup named by its file name or the `path` listBackups() gave
   * (nothing else: other paths and links are `E_BACKUP_NOT_FOUND`). Its hash is
   * verified (`E_BACKUP_CORRUPT`), the current state is backed up first, and the
   * change events fire for what changed. Resolves to `true`.
   */
  async restoreBackup(fileOrPath) {
    this.#writable();
    if (typeof fileOrPath !== 'string' || fileOrPath === '') {
      throw new TypeError(`Expected a backup file name or path, got ${fileOrPath === '' ? 'an empty string' : typeof fileOrPath}`);
    }
    return this.#restore(fileOrPath, false);
  }

  /**
   * One native task: verified and the current state backed up on a worker
   * thread, applied on the JS thread; resolves to the change list (JSON).
   */
  async #restore(name, migration) {
    let changes;
    try {
      // values in the change list only when someone listens (#listFlags)
      changes = await this.#native.restore(name, migration, this.#listFlags());
    } finally {
      this.#changed();
    }
    const entries = JSON.parse(changes);
    if (entries.length > 0) this.#afterChange(entries, true);
    return true;
  }

  /**
   * `{ totalEntries, entries, metadata: { totalEntries, lastOperation, lastModified } }`;
   * each entry `{ seq, timestamp, time, operation, keys, hashBefore, hashAfter, reversible }`.
   */
  async getHistorySummary() {
    const native = this.#live();
    const history = await native.history();
    // the journal may briefly hold more than the retained number (it is trimmed
    // after the store file is written); report the retained ones
    const entries = history.slice(-Math.max(this.#opts.historyMax, 1));
    const last = entries[entries.length - 1];
    return {
      totalEntries: entries.length,
      entries,
      metadata: {
        totalEntries: entries.length,
        lastOperation: last ? { type: last.operation, timestamp: last.timestamp } : null,
        lastModified: last ? last.timestamp : null,
      },
    };
  }

  /** One native task: the history read on a worker thread, the rollback applied on the JS thread. */
  async #rollback(byTime, value, rolledBackTo) {
    const native = this.#writable();
    let result;
    try {
      result = await native.rollback(byTime, value, this.#listFlags());
    } finally {
      this.#changed();
    }
    const changes = JSON.parse(result.changes);
    if (changes.length > 0) this.#afterChange(changes, true);
    return { success: true, rolledBackTo: rolledBackTo(result), changesReverted: result.reverted, seq: result.targetSeq };
  }

  /**
   * Makes the store exactly what it was at time `t` (ISO string, Date or ms):
   * every later change is undone, newest first, and the result is verified
   * against the recorded hash. The rollback is itself a change (undo it with
   * another rollback). A `t` older than the kept history rejects with
   * `E_HISTORY_TRUNCATED` and changes nothing.
   */
  rollbackToTimestamp(t) {
    let ms;
    try {
      this.#live();
      ms = toMillis(t);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#rollback(true, ms, () => new Date(ms).toISOString());
  }

  /** Makes the store what it was right after change `seq` (0: before the first kept change's history began). */
  rollbackToSeq(seq) {
    try {
      this.#live();
      if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError(`Expected \`seq\` to be a non-negative integer, got ${typeof seq === 'number' ? seq : typeof seq}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#rollback(false, seq, r => r.targetSeq);
  }

  /** Checks `data` against the schema and the custom `validate`: `{ valid, errors }`. */
  validateData(data) {
    this.#live();
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      return { valid: false, errors: ['`` must be object'] };
    }
    const errors = this.#validationErrors(data);
    return { valid: errors.length === 0, errors };
  }

  /** The migration snapshots (`storeHistory/migrations/`), newest first. */
  async listMigrationBackups() {
    // each with the versions of the run it was taken before (fromVersion, toVersion)
    const list = await this.#live().listMigrationBackups();
    return list.map(info => ({ ...info, ...versionGuard.snapshotVersions(info) }));
  }

  /** Checks a migration snapshot (file name only): hash, parse, schema → `{ valid, errors }`. */
  async validateMigrationBackup(name) {
    const native = this.#live();
    if (typeof name !== 'string' || name === '') throw new TypeError('Expected a migration backup file name');
    const result = await native.validateMigrationBackup(name);
    if (result.valid && this.#opts.validate) {
      // the native check passed, so the name is a snapshot of this store that parses
      const file = path.join(this.#opts.historyDir, 'migrations', name);
      const custom = this.#opts.validate(JSON.parse(await fs.promises.readFile(file, 'utf8')));
      if (Array.isArray(custom) && custom.length > 0) return { valid: false, errors: custom.map(String) };
    }
    return result;
  }

  /** Restores a migration snapshot (file name only), like restoreBackup(). */
  async restoreMigrationBackup(name) {
    this.#live();
    if (typeof name !== 'string' || name === '') throw new TypeError('Expected a migration backup file name');
    // (allowed in read-only mode: the way back for a downgraded user, which
    // lifts it when the restored state is not from a newer version)
    const done = await this.#restore(name, true);
    const lock = this.#versionLock;
    if (lock !== null && versionGuard.newerVersion(this.get(MIGRATION_KEY), lock.ours) === null) {
      this.#versionLock = null;
      this.newerVersion = undefined;
    }
    return done;
  }

  /** `{ storeSize, keyCount, listenerCount, backupCount, lastBackup, historyEntries, ... }` */
  getHealthReport() {
    const native = this.#live();
    const status = native.status();
    const backups = native.listBackupsSync();
    const newest = backups.find(b => b.metadata);
    const journalDamage = this.#core.report.journalDamage || status.journalDamage;
    return {
      storeSize: status.fileSize,
      keyCount: native.size(),
      listenerCount: this.#subs.length,
      backupCount: backups.length,
      lastBackup: newest ? newest.metadata.backupTime : null,
      historyEntries: status.historyEntries,
      durability: this.#opts.durability,
      pendingWrites: status.pending,
      lastCheckpointMs: status.lastCheckpointMs,
      writerError: status.writerError,
      journalTrimError: status.journalTrimError,
      readOnly: status.readOnly,
      watching: native.isWatching(),
      recovery: { ...this.#core.report, journalDamage },
      performance: this.getPerformanceStats(),
      healthy: status.writerError === null && !journalDamage,
    };
  }

  /**
   * Per operation (`get`, `has`, `set`, `delete`, `setMultiple`, `replace`,
   * `reload`, `flush`) of this instance: `{ count, mean, p50, p95, max }` in
   * microseconds, measured in the core with a fixed-size histogram (reads are
   * counted every call and timed one call in 16).
   */
  getPerformanceStats() {
    const stats = {};
    for (const { op, ...timings } of this.#live().performance()) stats[op] = timings;
    if (this.#cachedGets > 0) {
      // repeated gets of an unchanged key are answered from the JS side's
      // cache of the value's JSON (no native call): counted, not timed
      const g = stats.get || { count: 0, mean: 0, p50: 0, p95: 0, max: 0 };
      stats.get = { ...g, count: g.count + this.#cachedGets, cached: this.#cachedGets };
    }
    return stats;
  }

  resetPerformanceStats() {
    this.#live().resetPerformance();
    this.#cachedGets = 0;
  }

  /** Whether `close()` was called. */
  /** Whether keys are dot paths (read by tad-store/ipc to resolve key rules). */
  get [Symbol.for('tad-store.dotNotation')]() {
    return this.#opts.accessPropertiesByDotNotation !== false;
  }

  /**
   * electron-store 8's `Store.initRenderer()`: in Electron's main process it
   * answers the renderer-side `new Store()`'s synchronous
   * 'electron-store-get-data' request ({ defaultCwd, appVersion }), as
   * electron-store does. Outside Electron there is nothing to set up.
   */
  static initRenderer() {
    return initRenderer();
  }

  get closed() {
    return this.#closed;
  }
}

module.exports = Store;
module.exports.Store = Store;
module.exports.default = Store;
