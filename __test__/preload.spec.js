'use strict';

/**
 * tad-store/preload (issue 21, part 2): `exposeStoreAPI()` with a stand-in
 * `electron` module (fixtures/electron-standin.js: a contextBridge that copies
 * values across worlds, an ipcRenderer wired to registerStoreIpc on a real
 * Store through an ordered asynchronous channel). The same preload across a
 * real process boundary, under tad-store/renderer's client, is in
 * renderer.spec.js.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const electron = require('./fixtures/electron-standin.js').useStandIn();
const { fixture } = require('./helpers.js');
const { registerStoreIpc } = require('../ipc');
const { DEADLINE } = require('./renderer-harness.js');

const { standIn, ipcRenderer } = electron;

// the seed's store-preload.js exposes these, in this order
const SEED_KEYS = [
  'get', 'set', 'delete', 'has', 'clear', 'getAll', 'setMultiple', 'getInfo', 'reload',
  'createBackup', 'listBackups', 'restoreBackup', 'onChange', 'getKey', 'setKey',
  'rollbackToTimestamp', 'getHistorySummary', 'validateData', 'listMigrationBackups',
  'restoreMigrationBackup', 'validateMigrationBackup',
];

/** A fresh copy of tad-store/preload (its once-per-page state starts over, as on a page load). */
function freshPreload() {
  for (const f of ['../lib/preload.js', '../preload.js']) delete require.cache[require.resolve(f)];
  return require('../preload');
}

/** Resolves once every message queued to the "renderer" so far is delivered. */
function drained() {
  return new Promise(resolve => setImmediate(() => setImmediate(resolve)));
}

function until(pred, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + DEADLINE;
    const poll = () => {
      if (pred()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out: ${what}`));
      setImmediate(poll);
    };
    poll();
  });
}

function setup(t, storeOptions = {}) {
  const fx = fixture(t);
  const store = fx.open({ backups: false, ...storeOptions });
  const ipcMain = { handlers: new Map(), handle(c, fn) { this.handlers.set(c, fn); }, removeHandler(c) { this.handlers.delete(c); } };
  const unregister = registerStoreIpc(ipcMain, store, { windows: () => [] });
  standIn.connect(ipcMain);
  t.after(() => {
    standIn.resetRenderer();
    unregister();
    for (const k of Object.keys(standIn.mainWorld)) delete standIn.mainWorld[k];
    standIn.exposures.length = 0;
    standIn.invoked.length = 0;
  });
  return { store, fx };
}

test('exposeStoreAPI() exposes exactly the seed\'s storeAPI through contextBridge, once', async t => {
  const { store } = setup(t, { defaults: { settings: { theme: 'dark' } } });
  const { exposeStoreAPI } = freshPreload();
  const api = exposeStoreAPI();
  assert.deepStrictEqual(standIn.exposures, ['storeAPI']);
  const exposed = standIn.mainWorld.storeAPI;
  assert.deepStrictEqual(Object.keys(exposed), SEED_KEYS);
  assert.deepStrictEqual(Object.keys(api), SEED_KEYS);
  for (const k of SEED_KEYS) assert.equal(typeof exposed[k], 'function', k);
  // the preload imported twice: the first API, no second exposure (which would throw in Electron)
  assert.equal(exposeStoreAPI(), api);
  assert.deepStrictEqual(standIn.exposures, ['storeAPI']);
  // every channel answers through the bridge as the seed's did
  assert.equal(await exposed.get('settings.theme'), 'dark');
  assert.equal(await exposed.set('settings.theme', 'light'), true);
  assert.equal(store.get('settings.theme'), 'light');
  assert.equal(await exposed.has('settings'), true);
  assert.equal(await exposed.setMultiple({ a: 1 }), true);
  assert.deepStrictEqual(await exposed.getAll(), { settings: { theme: 'light' }, a: 1 });
  assert.equal((await exposed.getInfo()).path, store.path);
  assert.equal(await exposed.reload(), true);
  assert.deepStrictEqual(await exposed.validateData({ a: 2 }), { valid: true, errors: [] });
  assert.deepStrictEqual(await exposed.listMigrationBackups(), []);
  assert.equal(await exposed.delete('a'), true);
  await assert.rejects(exposed.restoreBackup('../x'), /E_BACKUP_NOT_FOUND/);
  assert.ok((await exposed.getHistorySummary()).totalEntries > 0);
  assert.equal(await exposed.setKey('x.y', 1), true);
  assert.equal(store.get('x.y'), 1);
  // another name, and a window without context isolation
  exposeStoreAPI({ name: 'settingsAPI' });
  assert.deepStrictEqual(standIn.exposures, ['storeAPI', 'settingsAPI']);
  const { exposeStoreAPI: again } = freshPreload();
  const plain = again({ name: 'unisolatedAPI', contextIsolation: false });
  t.after(() => { delete globalThis.unisolatedAPI; });
  assert.equal(globalThis.unisolatedAPI, plain);
  assert.ok(!standIn.exposures.includes('unisolatedAPI'));
  assert.throws(() => again({ name: '' }), TypeError);
  assert.throws(() => again({ name: 'x', contextBridge: {}, ipcRenderer: {} }), TypeError);
});

test('one ipcRenderer listener and one store-on-change for any number of subscriptions; none left after the last', async t => {
  setup(t);
  const { createStoreAPI } = freshPreload();
  const before = ipcRenderer.listenerCount('store-changed');
  const api = createStoreAPI(ipcRenderer, { cache: false });
  assert.equal(ipcRenderer.listenerCount('store-changed'), before, 'nothing until the first subscription');
  const offs = [];
  for (let i = 0; i < 100; i++) offs.push(api.onChange(i % 3 === 0 ? '*' : `k${i}`, () => {}));
  assert.equal(ipcRenderer.listenerCount('store-changed'), before + 1);
  await drained();
  assert.equal(standIn.invoked.filter(c => c === 'store-on-change').length, 1);
  for (const off of offs) {
    off();
    off(); // twice: harmless
  }
  assert.equal(ipcRenderer.listenerCount('store-changed'), before, 'the listener goes with the last subscription');
  await drained();
  assert.equal(standIn.invoked.filter(c => c === 'store-off-change').length, 1);
  // a new period: one more pair
  const off = api.onChange('*', () => {});
  off();
  await drained();
  assert.equal(standIn.invoked.filter(c => c === 'store-on-change').length, 2);
  assert.equal(standIn.invoked.filter(c => c === 'store-off-change').length, 2);
  // with the cache (the default), its subscription is the one listener, for the page's lifetime
  const cached = createStoreAPI(ipcRenderer);
  assert.equal(ipcRenderer.listenerCount('store-changed'), before + 1);
  const offs2 = [cached.onChange('a', () => {}), cached.onChange('*', () => {})];
  assert.equal(ipcRenderer.listenerCount('store-changed'), before + 1);
  offs2.forEach(f => f());
  assert.equal(ipcRenderer.listenerCount('store-changed'), before + 1);
  assert.throws(() => cached.onChange('a', 'not a function'), TypeError);
  assert.throws(() => cached.onChange(42, () => {}), TypeError);
});

test('onChange delivers each event once: its key, a parent\'s change (values at the key), a child\'s change (as that change)', async t => {
  const { store } = setup(t, { defaults: { settings: { theme: 'dark', size: 12 } } });
  const { createStoreAPI } = freshPreload();
  const api = createStoreAPI(ipcRenderer);
  const seen = { all: [], settings: [], theme: [], other: [] };
  api.onChange('*', (n, o, k) => seen.all.push([k, n, o]));
  api.onChange('settings', (n, o, k) => seen.settings.push([k, n, o]));
  api.onChange('settings.theme', (n, o, k) => seen.theme.push([k, n, o]));
  api.onChange('other', (n, o, k) => seen.other.push([k, n, o]));
  api.onChange('settings', () => { throw new Error('a listener that throws'); });
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args);
  t.after(() => { console.warn = warn; });
  await drained();
  store.set('settings.theme', 'light');
  store.set('settings.size', 13);
  store.store = { settings: { theme: 'light', size: 14 }, other: 1 }; // a bulk change: the theme did not change
  store.clear();
  await until(() => seen.all.length === 6, 'six events');
  assert.deepStrictEqual(seen.all.map(e => e[0]), ['settings.theme', 'settings.size', 'settings', 'other', 'settings', 'other']);
  // clear() brings the defaults back: the theme is 'dark' again; size 12 → 13 → 14 → 12 never touched it
  assert.deepStrictEqual(seen.theme, [['settings.theme', 'light', 'dark'], ['settings.theme', 'dark', 'light']]);
  assert.deepStrictEqual(seen.settings.map(e => e[0]), ['settings.theme', 'settings.size', 'settings', 'settings']);
  assert.deepStrictEqual(seen.other, [['other', 1, undefined], ['other', undefined, 1]]);
  assert.equal(warnings.filter(w => /listener threw/.test(w[0])).length, 4, 'a listener that throws is reported; the others hear');
  // what a buggy main process sends (the seed's null and '*' keys) reaches nobody
  standIn.webContents.send('store-changed', { key: null, newValue: null, oldValue: null });
  standIn.webContents.send('store-changed', { key: '*', newValue: {}, oldValue: null });
  standIn.webContents.send('store-changed', null);
  standIn.webContents.send('store-changed', { key: 'other', newValue: 2, oldValue: undefined });
  await until(() => seen.all.length === 7, 'the well-formed event');
  assert.deepStrictEqual(seen.all[6], ['other', 2, undefined]);
});

test('getKey reads a cache exact through bulk changes; setKey writes through the main process', async t => {
  const { store } = setup(t, { defaults: { settings: { theme: 'dark' }, list: [1] } });
  const { createStoreAPI } = freshPreload();
  const api = createStoreAPI(ipcRenderer);
  assert.equal(api.getKey('settings.theme'), undefined, 'not loaded yet (the seed answered the same)');
  await until(() => api.getKey('settings.theme') === 'dark', 'the cache to load');
  const backup = await store.createBackup('b');
  store.set('settings.theme', 'light');
  store.setMultiple({ 'a.b': 1, list: [1, 2] });
  const p = api.setKey('settings.size', 3);
  assert.equal(api.getKey('settings.size'), undefined, 'no optimistic write: the store may refuse it');
  assert.equal(await p, true);
  assert.equal(api.getKey('settings.size'), 3, 'the change event came before the answer');
  await store.restoreBackup(path.basename(backup));
  await drained();
  assert.deepStrictEqual(JSON.parse(JSON.stringify(api.getKey('settings'))), store.get('settings'));
  assert.equal(api.getKey('a'), undefined);
  store.clear();
  await drained();
  assert.deepStrictEqual(JSON.parse(JSON.stringify(api.getKey('list'))), [1]);
  assert.throws(() => api.getKey(null), TypeError);
  const noCache = createStoreAPI(ipcRenderer, { cache: false });
  assert.throws(() => noCache.getKey('a'), err => err.code === 'E_UNSUPPORTED');
  // what getKey answers through the bridge is a copy: the page cannot change the cache
  const { exposeStoreAPI } = freshPreload();
  exposeStoreAPI();
  const exposed = standIn.mainWorld.storeAPI;
  await until(() => exposed.getKey('settings') !== undefined, 'the exposed cache to load');
  const got = exposed.getKey('settings');
  got.theme = 'changed by the page';
  assert.equal(exposed.getKey('settings.theme'), 'dark');
});

test('a preload whose store-on-change is refused (a forbidden origin) reports it and keeps working for allowed windows', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false });
  const ipcMain = { handlers: new Map(), handle(c, fn) { this.handlers.set(c, fn); }, removeHandler(c) { this.handlers.delete(c); } };
  const unregister = registerStoreIpc(ipcMain, store, { allowedOrigins: ['app://other'], windows: () => [] });
  standIn.connect(ipcMain);
  t.after(() => {
    standIn.resetRenderer();
    unregister();
  });
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args.map(String).join(' '));
  t.after(() => { console.warn = warn; });
  const { createStoreAPI } = freshPreload();
  const api = createStoreAPI(ipcRenderer);
  await until(() => warnings.some(w => /store-on-change failed/.test(w)) && warnings.some(w => /loading the cache failed/.test(w)), 'the refusals to be reported');
  assert.ok(warnings.some(w => /store-on-change failed.*E_FORBIDDEN_SENDER/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some(w => /loading the cache failed.*E_FORBIDDEN_SENDER/.test(w)), warnings.join('\n'));
  await assert.rejects(api.get('a'), /E_FORBIDDEN_SENDER/);
  // getKey after a failed load tries loading again (and is undefined meanwhile)
  assert.equal(api.getKey('a'), undefined);
  // (each failed load also ends its listening period: store-off-change, refused as well)
  await until(() => warnings.filter(w => /loading the cache failed/.test(w)).length === 2 && warnings.filter(w => /store-off-change failed/.test(w)).length === 2, 'the second load to fail');
});
