'use strict';

/**
 * A handle-based view of one native `Store` instance: the binding exports free
 * functions taking a numeric handle (much cheaper to call than class methods),
 * and this small class binds them to one handle so index.js reads naturally.
 * Each JS Store has its own handle (its own durability, dot notation, schema
 * and backup options); instances on one file share the native core behind
 * them. `flags` are per call: NO_SCHEMA (while migrations run), VALUES
 * (someone listens, so change lists carry old and new values) and USER
 * (`defaultsLayer`: `get`/`has` read the user's own values, as migrations do).
 */
// Keys cross to the native side as Node-API strings, which turn an unpaired
// surrogate into U+FFFD (so 'k\ud800' and 'k\udc00' would be one key). Such
// keys, and keys holding U+FDD0, are sent in the core's JS-string encoding
// instead: an unpaired surrogate U+D800+n as U+FDD0 U+E000+n, U+FDD0 doubled
// (see core/src/value.rs, `MARK`). Other keys are sent as they are.
const NEEDS_ENCODING = /[\ud800-\udfff\ufdd0]/;

function encodeString(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u === 0xfdd0) {
      out += '\ufdd0\ufdd0';
    } else if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i] + s[i + 1];
      i++;
    } else if (u >= 0xd800 && u <= 0xdfff) {
      out += `\ufdd0${String.fromCharCode(0xe000 + (u - 0xd800))}`;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** `key` as the native side takes it (see above). */
function nativeKey(key) {
  return NEEDS_ENCODING.test(key) ? encodeString(key) : key;
}

class NativeStore {
  #b;
  #h;

  /**
   * Opens the file (one crossing: see `storeOpen` in src/open.rs); `listener`
   * gets the file's events when this is the environment's first instance on
   * it. `opened` is what the open did.
   */
  constructor(binding, settings, listener) {
    this.#b = binding;
    this.opened = binding.storeOpen(settings, listener);
    this.#h = this.opened.handle;
  }

  get(key, flags) { return this.#b.storeGet(this.#h, flags, nativeKey(key)); }
  has(key, flags) { return this.#b.storeHas(this.#h, flags, nativeKey(key)); }
  set(key, json, wantOld, flags) { return this.#b.storeSet(this.#h, flags, nativeKey(key), json, wantOld); }
  delete(key, wantOld, flags) { return this.#b.storeDelete(this.#h, flags, nativeKey(key), wantOld); }
  setMany(json, op, flags) { return this.#b.storeSetMany(this.#h, flags, json, op); }
  replaceAll(json, op, keepInternal, flags) { return this.#b.storeReplaceAll(this.#h, flags, json, op, keepInternal); }
  clear(json, flags) { return this.#b.storeClear(this.#h, flags, json); }
  fillDefaults(existed, flags) { return this.#b.storeFillDefaults(this.#h, flags, Boolean(existed)); }
  sanitize(flags) { return this.#b.storeSanitize(this.#h, flags); }
  begin() { return this.#b.storeBegin(this.#h); }
  commit(name) { return this.#b.storeCommit(this.#h, name); }
  abort() { return this.#b.storeAbort(this.#h); }
  reload() { return this.#b.storeReload(this.#h); }
  atomicBegin() { return this.#b.storeAtomicBegin(this.#h); }
  atomicEnd() { return this.#b.storeAtomicEnd(this.#h); }
  updateSet(key, json, wantOld, flags) { return this.#b.storeUpdateSet(this.#h, flags, nativeKey(key), json, wantOld); }
  rotateSecretKey(key) { return this.#b.storeRotateSecretKey(this.#h, key); }
  watch() { return this.#b.storeWatch(this.#h); }
  performance() { return this.#b.storePerformance(this.#h); }
  resetPerformance() { return this.#b.storeResetPerformance(this.#h); }
  setSlowThreshold(ms) { return this.#b.storeSetSlowThreshold(this.#h, ms); }
  isWatching() { return this.#b.storeIsWatching(this.#h); }
  toJson() { return this.#b.storeToJson(this.#h); }
  userJson() { return this.#b.storeUserJson(this.#h); }
  inspect(key) { return JSON.parse(this.#b.storeInspect(this.#h, nativeKey(key))); }
  size() { return this.#b.storeSize(this.#h); }
  keys() { return JSON.parse(this.#b.storeKeys(this.#h)); }
  flushSync() { return this.#b.storeFlushSync(this.#h); }
  flush() { return this.#b.storeFlush(this.#h); }
  status() { return this.#b.storeStatus(this.#h); }
  close(force) { return this.#b.storeClose(this.#h, Boolean(force)); }
  createBackup(reason, onlyIfChanged) { return this.#b.storeCreateBackup(this.#h, reason, onlyIfChanged); }
  createBackupSync(reason, onlyIfChanged) { return this.#b.storeCreateBackupSync(this.#h, reason, onlyIfChanged); }
  listBackups() { return this.#b.storeListBackups(this.#h); }
  listBackupsSync() { return this.#b.storeListBackupsSync(this.#h); }
  restore(name, migration, flags) { return this.#b.storeRestore(this.#h, name, migration, flags); }
  history() { return this.#b.storeHistory(this.#h); }
  rollback(byTime, value) { return this.#b.storeRollback(this.#h, byTime, value); }
  validate(json) { return this.#b.storeValidate(this.#h, json); }
  schemaDefaults() { return this.#b.storeSchemaDefaults(this.#h); }
  migrationSnapshotSync(reason) { return this.#b.storeMigrationSnapshotSync(this.#h, reason); }
  listMigrationBackups() { return this.#b.storeListMigrationBackups(this.#h); }
  validateMigrationBackup(name) { return this.#b.storeValidateMigrationBackup(this.#h, name); }
}

NativeStore.NO_SCHEMA = 4;
NativeStore.VALUES = 8;
// reads of the user's own values (`defaultsLayer`: what migrations see)
NativeStore.USER = 16;

module.exports = NativeStore;
