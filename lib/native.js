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
 * Keys cross as they are: the binding reads them as UTF-16 and the core
 * encodes them, so a key with an unpaired surrogate stays itself (see `Key`
 * in src/convert.rs).
 */
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

  get(key, flags) { return this.#b.storeGet(this.#h, flags, key); }
  has(key, flags) { return this.#b.storeHas(this.#h, flags, key); }
  set(key, json, wantOld, flags) { return this.#b.storeSet(this.#h, flags, key, json, wantOld); }
  delete(key, wantOld, flags) { return this.#b.storeDelete(this.#h, flags, key, wantOld); }
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
  updateSet(key, json, wantOld, flags) { return this.#b.storeUpdateSet(this.#h, flags, key, json, wantOld); }
  rotateSecretKey(key) { return this.#b.storeRotateSecretKey(this.#h, key); }
  watch() { return this.#b.storeWatch(this.#h); }
  performance() { return this.#b.storePerformance(this.#h); }
  resetPerformance() { return this.#b.storeResetPerformance(this.#h); }
  setSlowThreshold(ms) { return this.#b.storeSetSlowThreshold(this.#h, ms); }
  isWatching() { return this.#b.storeIsWatching(this.#h); }
  toJson() { return this.#b.storeToJson(this.#h); }
  userJson() { return this.#b.storeUserJson(this.#h); }
  inspect(key) { return JSON.parse(this.#b.storeInspect(this.#h, key)); }
  size() { return this.#b.storeSize(this.#h); }
  keys() { return JSON.parse(this.#b.storeKeys(this.#h)); }
  flushSync(file) { return this.#b.storeFlushSync(this.#h, Boolean(file)); }
  flush(file) { return this.#b.storeFlush(this.#h, Boolean(file)); }
  status() { return this.#b.storeStatus(this.#h); }
  close(force) { return this.#b.storeClose(this.#h, Boolean(force)); }
  createBackup(reason, onlyIfChanged) { return this.#b.storeCreateBackup(this.#h, reason, onlyIfChanged); }
  createBackupSync(reason, onlyIfChanged) { return this.#b.storeCreateBackupSync(this.#h, reason, onlyIfChanged); }
  listBackups() { return this.#b.storeListBackups(this.#h); }
  listBackupsSync() { return this.#b.storeListBackupsSync(this.#h); }
  restore(name, migration, flags) { return this.#b.storeRestore(this.#h, name, migration, flags); }
  history() { return this.#b.storeHistory(this.#h); }
  rollback(byTime, value, flags) { return this.#b.storeRollback(this.#h, byTime, value, flags); }
  validate(json) { return this.#b.storeValidate(this.#h, json); }
  schemaDefaults() { return this.#b.storeSchemaDefaults(this.#h); }
  migrationSnapshotSync(reason) { return this.#b.storeMigrationSnapshotSync(this.#h, reason); }
  listMigrationBackups() { return this.#b.storeListMigrationBackups(this.#h); }
  validateMigrationBackup(name) { return this.#b.storeValidateMigrationBackup(this.#h, name); }
  exportSerialized(file, data, mark) { return this.#b.storeExport(this.#h, file, data, mark); }
  exportRetry(last) { return this.#b.storeExportRetry(this.#h, last); }
  exportMark(file) { return this.#b.storeExportMark(this.#h, file); }
}

NativeStore.NO_SCHEMA = 4;
NativeStore.VALUES = 8;
// reads of the user's own values (`defaultsLayer`: what migrations see)
NativeStore.USER = 16;

module.exports = NativeStore;
