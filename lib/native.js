'use strict';

/**
 * A handle-based view of the native store: the binding exports free functions
 * taking a numeric handle (much cheaper to call than class methods), and this
 * small class binds them to one handle so index.js reads naturally.
 */
class NativeStore {
  #b;
  #h;

  constructor(binding, settings) {
    this.#b = binding;
    this.#h = binding.storeOpen(settings);
  }

  openReport() { return this.#b.storeOpenReport(this.#h); }
  get(key) { return this.#b.storeGet(this.#h, key); }
  has(key) { return this.#b.storeHas(this.#h, key); }
  set(key, json, wantOld) { return this.#b.storeSet(this.#h, key, json, wantOld); }
  delete(key, wantOld) { return this.#b.storeDelete(this.#h, key, wantOld); }
  setMany(json, op) { return this.#b.storeSetMany(this.#h, json, op); }
  replaceAll(json, op, keepInternal) { return this.#b.storeReplaceAll(this.#h, json, op, keepInternal); }
  fillDefaults(json) { return this.#b.storeFillDefaults(this.#h, json); }
  reload() { return this.#b.storeReload(this.#h); }
  toJson() { return this.#b.storeToJson(this.#h); }
  size() { return this.#b.storeSize(this.#h); }
  keys() { return this.#b.storeKeys(this.#h); }
  flushSync() { return this.#b.storeFlushSync(this.#h); }
  flush() { return this.#b.storeFlush(this.#h); }
  status() { return this.#b.storeStatus(this.#h); }
  close() { return this.#b.storeClose(this.#h); }
}

module.exports = NativeStore;
