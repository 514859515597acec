'use strict';

/**
 * tad-store/renderer (issue 21, part 2): the client's cache against a real
 * Store across a real process boundary. Each "renderer" is a child process
 * (fixtures/renderer-client-child.js, forked with `serialization: 'advanced'`)
 * running the seed's preload verbatim or tad-store/preload, and the client on
 * its `window.storeAPI`; this process is Electron's main, with
 * `registerStoreIpc` on a real Store (renderer-harness.js). The oracle for
 * "each change once" is the main store's own subscriptions: a renderer's
 * `subscribe(key)` must see exactly what `store.onChange(key)` saw.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { Store, fixture } = require('./helpers.js');
const { registerStoreIpc } = require('../ipc');
const { FakeIpcMain, openRenderer, plainAll, nextChange, DEADLINE } = require('./renderer-harness.js');
const { StoreClient, createStoreClient, getDefaultClient, storeService, StoreService } = require('../renderer');
const internals = require('../lib/renderer.js');
const { segmentsOf: storeSegmentsOf } = require('../lib/values.js');

const ROOT = path.join(__dirname, '..');

/** Runs `code` in another process on the store in `dir` (another app instance writing). */
function otherProcess(dir, code) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', `const S = require(${JSON.stringify(ROOT)}); const s = new S({ cwd: ${JSON.stringify(dir)}, backups: false }); ${code}; s.close();`], { stdio: 'inherit' });
    c.on('exit', code2 => (code2 === 0 ? resolve() : reject(new Error(`the other process exited with ${code2}`))));
  });
}

/** What the main store's own subscription on `key` sees (the oracle). */
function oracle(store, keys) {
  const seen = {};
  for (const key of keys) {
    seen[key] = [];
    store.onChange(key, (newValue, oldValue) => seen[key].push({ newValue: clonePlain(newValue), oldValue: clonePlain(oldValue) }));
  }
  return seen;
}
const clonePlain = v => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

function noDuplicateSends(r) {
  assert.equal(new Set(r.wc.sent).size, r.wc.sent.length, 'every payload sent once to this renderer');
  for (const c of r.seen) {
    assert.equal(typeof c.key, 'string');
    assert.ok(c.key !== '' && c.key !== '*');
  }
}

test('several renderers (seed preload and tad-store/preload) stay exact through every kind of change, each change delivered once', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const store = new Store({ cwd: dir, backups: false, watch: true, defaults: { settings: { theme: 'dark', size: 12 }, list: [1, 2, 3] } });
  t.after(() => store.close({ force: true }));
  const ipcMain = new FakeIpcMain();
  const windows = [];
  registerStoreIpc(ipcMain, store, { windows: () => windows });
  const renderers = [];
  for (const preload of ['seed', 'tad', 'seed', 'tad']) renderers.push(await openRenderer(t, ipcMain, { preload }));
  // three are windows; the fourth gets events only because its preload called store-on-change
  for (const r of renderers.slice(0, 3)) windows.push({ webContents: r.wc, isDestroyed: () => r.wc.destroyed });
  const WATCHED = ['settings', 'settings.theme', 'list', 'a', 'remote', 'lit\\.key', 'whole.doc'];
  const expected = oracle(store, WATCHED);
  const everyEvent = [];
  store.onChange('*', (n, o, k, p) => everyEvent.push(p));
  for (const r of renderers) {
    await r.call('init');
    for (const key of [...WATCHED, '*']) await r.call('watch', key);
  }
  // a second client in one renderer: its own cache and listeners
  await renderers[2].call('init', 'second');
  for (const key of WATCHED) await renderers[2].call('watch', key, 'second');

  const exact = async (what) => {
    const want = plainAll(store);
    for (const [i, r] of renderers.entries()) {
      assert.deepStrictEqual(await r.call('all'), want, `${what}: renderer ${i}`);
    }
    assert.deepStrictEqual(await renderers[2].call('all', 'second'), want, `${what}: second client`);
  };
  await exact('init');
  store.set('settings.theme', 'light');
  await exact('set a path');
  store.delete('settings.size');
  await exact('delete');
  store.setMultiple({ a: 1, 'b.c': { d: 2 } });
  await exact('setMultiple');
  store.set({ list: [1, 2, 3, 4] });
  await exact('set(object)');
  store.set('list.6', 7); // the store fills the gap with nulls
  await exact('set past the end of an array');
  const t0 = Date.now();
  await new Promise(res => setTimeout(res, 5));
  store.set('later', true);
  const backup = await store.createBackup('x');
  store.set('a', 99);
  await exact('before rollback');
  await store.rollbackToTimestamp(t0);
  await exact('rollback');
  await store.restoreBackup(path.basename(backup));
  await exact('restore');
  store.clear();
  await exact('clear');
  store.store = { whole: { doc: 1 }, 'lit.key': 5, settings: { theme: 'x' } };
  await exact('store = (with a top-level key that has a dot)');
  store.set('lit\\.key', 6);
  await exact('set of the dotted key');
  // an external edit, picked up by the watcher
  await store.flush({ file: true });
  const edited = nextChange(store, k => k === 'edited', 'the external edit');
  const doc = JSON.parse(fs.readFileSync(store.path, 'utf8'));
  delete doc['lit.key'];
  doc.edited = 'outside';
  doc.whole.doc = 2;
  fs.writeFileSync(store.path, JSON.stringify(doc));
  await edited;
  await exact('external edit');
  // another process's writes
  const remote = nextChange(store, () => JSON.stringify(store.get('remote')) === JSON.stringify({ k0: 0, k1: 1, k2: 2, k3: 3, k4: 4 }), 'the other process\'s writes');
  await otherProcess(dir, "for (let i = 0; i < 5; i++) s.set('remote.k' + i, i)");
  await remote;
  await exact('another process');
  store.reload();
  await exact('reload (nothing changed)');
  // writes from renderers: each renderer's cache has its own write when the call resolves
  assert.equal(await renderers[0].call('setThenGet', 'settings.theme', 'from-0'), 'from-0');
  assert.deepStrictEqual(await renderers[1].call('setThenGet', 'whole', { doc: 3, more: [1] }), { doc: 3, more: [1] });
  assert.equal(await renderers[3].call('call', 'delete', 'edited'), true);
  assert.equal(await renderers[3].call('has', 'edited'), false);
  await renderers[1].call('call', 'setMultiple', { 'a.x': 1, list: [] });
  await exact('writes from renderers');
  await renderers[2].call('api', 'reload');
  await exact('reload through IPC');

  // each change once: every renderer's subscription saw what the store's own saw
  for (const [i, r] of renderers.entries()) {
    noDuplicateSends(r);
    for (const key of WATCHED) {
      const got = r.notes.filter(n => n.client === 'main' && n.watch === key).map(n => ({ newValue: n.newValue, oldValue: n.oldValue }));
      assert.deepStrictEqual(got, expected[key], `renderer ${i}, subscribe(${JSON.stringify(key)})`);
      if (i === 2) {
        const second = r.notes.filter(n => n.client === 'second' && n.watch === key).map(n => ({ newValue: n.newValue, oldValue: n.oldValue }));
        assert.deepStrictEqual(second, expected[key], `second client, subscribe(${JSON.stringify(key)})`);
      }
    }
    // '*': one call per event that changed something, with the event's key
    // (a key that is one top-level name with a dot arrives escaped)
    const all = r.notes.filter(n => n.client === 'main' && n.watch === '*');
    const keys = new Set(all.map(n => n.key));
    assert.ok(keys.has('lit\\.key') && !keys.has('lit.key'), 'the dotted top-level key is named unambiguously');
    assert.ok(all.length <= everyEvent.length && all.length >= everyEvent.length - 1, `renderer ${i}: ${all.length} '*' notes for ${everyEvent.length} events`);
    for (let j = 1; j < all.length; j++) {
      assert.ok(!(all[j].key === all[j - 1].key && JSON.stringify(all[j].newValue) === JSON.stringify(all[j - 1].newValue) && JSON.stringify(all[j].oldValue) === JSON.stringify(all[j - 1].oldValue)), `renderer ${i}: a '*' note repeated: ${JSON.stringify(all[j])}`);
    }
  }
  // the values are frozen: a component cannot change the cache behind the store's back
  assert.equal(await renderers[0].call('frozen', 'whole'), true);
});

test('a snapshot racing with changes: events before the answer that it does not hold, and after it', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false, defaults: { keep: 1, gone: { x: 1 }, nested: { a: 1, b: 2 } } });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store);
  for (const preload of ['seed', 'tad']) {
    let raced = 0;
    const r = await openRenderer(t, ipcMain, {
      preload,
      intercept: async (event, channel, args, next) => {
        if (channel !== 'store-get-all' || raced++ > 0) return next();
        // changes whose events reach the renderer before the answer, and
        // which the answer holds
        store.set('nested.a', 10);
        store.delete('gone');
        const answer = await next();
        // changes made after the answer was taken, whose events still reach
        // the renderer before it (a main process answering late): the
        // answer lacks them, the events carry them
        store.set('nested.b', 20);
        store.set('late', { y: [1, 2] });
        store.set('keep', 2);
        return answer;
      },
    });
    if (preload === 'tad') {
      // the tad preload's own cache asked first; the page's client asks now
      assert.equal(raced, 1);
      raced = 0;
    }
    await r.call('watch', '*');
    await r.call('watch', 'nested');
    await r.call('init');
    assert.equal(await r.call('status'), 'ready');
    assert.deepStrictEqual(await r.call('all'), plainAll(store), preload);
    // the first load tells no listener: nothing changed for the page
    assert.deepStrictEqual(r.notes, [], preload);
    // and later events apply normally
    store.set('nested.a', 11);
    assert.deepStrictEqual(await r.call('all'), plainAll(store));
    assert.deepStrictEqual(r.notes.map(n => n.key), ['nested.a', 'nested']);
    store.reset('keep');
    store.set('nested', { a: 1, b: 2 });
    store.delete('late');
  }
});

test('a renderer that reloads: a new page in the same process, and a new process on the same webContents', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false, defaults: { n: 0 } });
  const ipcMain = new FakeIpcMain();
  const windows = [];
  registerStoreIpc(ipcMain, store, { windows: () => windows });
  for (const preload of ['seed', 'tad']) {
    let r = await openRenderer(t, ipcMain, { preload });
    windows.push({ webContents: r.wc, isDestroyed: () => r.wc.destroyed });
    await r.call('init');
    await r.call('watch', 'n');
    store.set('n', 1);
    // the page reloads: a new window object, preload and client; the old page's listeners are gone
    await r.call('reload');
    store.set('n', 2); // while the new page has no client yet
    await r.call('init');
    await r.call('watch', 'n');
    assert.deepStrictEqual(await r.call('all'), plainAll(store));
    store.set('n', 3);
    assert.deepStrictEqual(await r.call('get', 'n'), 3);
    assert.deepStrictEqual(r.notes.map(n => n.newValue), [1, 3], `${preload}: the old page's listener saw 1, the new page's 3 (2 is in its first load)`);
    // the renderer process dies and a new one takes the webContents (what a
    // crashed and reloaded window is): changes meanwhile are in its first load
    await r.kill();
    store.set('n', 4);
    store.set('gone-while-dead', true);
    const sentBefore = r.wc.sent.length;
    r = await openRenderer(t, ipcMain, { preload, wc: r.wc });
    await r.call('init');
    await r.call('watch', '*');
    assert.deepStrictEqual(await r.call('all'), plainAll(store));
    store.set('n', 5);
    assert.equal(await r.call('get', 'n'), 5);
    assert.deepStrictEqual(r.notes.map(n => [n.key, n.newValue]), [['n', 5]], 'one event per change after the reload (no subscription piled up)');
    assert.equal(r.wc.sent.length, sentBefore + 1);
    noDuplicateSends(r);
    store.delete('gone-while-dead');
    windows.length = 0;
  }
});

test('hostile calls through the client are refused with their codes and change nothing, in the store or the cache', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false, watch: true, defaults: { settings: { theme: 'dark' }, ai: { apiKey: 'sk-secret', model: 'm' } }, schema: { port: { type: 'number' } } });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store, { allowedOrigins: ['app://main'], writableKeys: ['settings', 'ai.model', 'port'], protectedKeys: ['ai.apiKey'], maxValueBytes: 10000 });
  const r = await openRenderer(t, ipcMain, { preload: 'tad' });
  await r.call('init');
  const before = JSON.stringify(store.getAll());
  const cacheBefore = await r.call('all');
  assert.ok(!JSON.stringify(cacheBefore).includes('sk-secret'), 'the protected key never reaches the renderer');
  const refused = [
    [['set', null, 'x'], /./],
    [['set', '__proto__.polluted', 1], /E_FORBIDDEN_KEY/],
    [['set', 'settings.__proto__.polluted', 1], /./],
    [['set', 'settings.big', 'x'.repeat(20000)], /E_TOO_LARGE/],
    [['set', 'ai.apiKey', 'stolen'], /E_FORBIDDEN_KEY/],
    [['set', 'port', 'not a number'], /E_SCHEMA/],
    [['setMultiple', [1, 2]], /./],
    [['delete', 'ai'], /E_FORBIDDEN_KEY/],
    [['clear'], /E_FORBIDDEN_KEY/],
    [['restoreBackup', '../../etc/passwd'], /E_FORBIDDEN_KEY/],
    [['rollbackToTimestamp', { not: 'a time' }], /E_FORBIDDEN_KEY|timestamp/],
  ];
  for (const [[method, ...args], code] of refused) {
    await assert.rejects(r.call('call', method, ...args), code, `${method}(${JSON.stringify(args).slice(0, 60)})`);
  }
  // codes cross as `code` (Electron passes only the message; the client reads it back)
  await assert.rejects(r.call('call', 'set', 'port', 'x'), err => err.code === 'E_SCHEMA');
  await assert.rejects(r.call('call', 'set', 'ai.apiKey', 'x'), err => err.code === 'E_FORBIDDEN_KEY');
  // a bad argument to a read is a TypeError at once
  await assert.rejects(r.call('get', 42), err => err.code === 'E_INVALID_ARGUMENT');
  assert.equal(JSON.stringify(store.getAll()), before, 'the store is unchanged');
  assert.deepStrictEqual(await r.call('all'), cacheBefore, 'the cache is unchanged');
  // an external edit with a top-level "__proto__" key: an own key in the cache, no pollution
  await store.flush({ file: true });
  const edited = nextChange(store, k => k === '__proto__', 'the edit with __proto__');
  const doc = JSON.parse(fs.readFileSync(store.path, 'utf8'));
  fs.writeFileSync(store.path, JSON.stringify(doc).replace(/^\{/, '{"__proto__":{"polluted":1},'));
  await edited;
  assert.deepStrictEqual(await r.call('get', '__proto__'), { polluted: 1 });
  assert.equal(await r.call('has', 'polluted'), false);
  assert.equal({}.polluted, undefined);
  const all = await r.call('all');
  assert.ok(Object.prototype.hasOwnProperty.call(all, '__proto__'));
  // an allowed write still works
  assert.equal(await r.call('setThenGet', 'settings.theme', 'light'), 'light');
});

test('keys: dot-escaped paths, a top-level key with a dot, and a store without dot notation', async t => {
  const fx = fixture(t);
  const dotted = fx.open({ backups: false });
  let ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, dotted);
  let r = await openRenderer(t, ipcMain, { preload: 'seed' });
  await r.call('init');
  dotted.set('a\\.b', 1);   // one key "a.b"
  dotted.set('a.b', 2);     // a → b
  dotted.store = { ...dotted.store, 'x.y': { z: 1 } };
  assert.deepStrictEqual(await r.call('all'), plainAll(dotted));
  assert.equal(await r.call('get', 'a\\.b'), 1);
  assert.equal(await r.call('get', 'a.b'), 2);
  assert.deepStrictEqual(await r.call('get', 'x\\.y'), { z: 1 });
  assert.equal(await r.call('get', 'x.y'), undefined);
  // a store without dot notation: its client is told so, as the store is
  const flat = fx.open({ backups: false, accessPropertiesByDotNotation: false, defaults: { 'p.q': 0 } });
  ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, flat);
  r = await openRenderer(t, ipcMain, { preload: 'tad' });
  await r.call('make', 'flat', { accessPropertiesByDotNotation: false });
  await r.call('init', 'flat');
  await r.call('watch', 'a.b', 'flat');
  flat.set('a.b', 1);
  flat.set('c', { 'd.e': 2 });
  flat.store = { ...flat.store, 'a.b': 3 };
  assert.deepStrictEqual(await r.call('all', 'flat'), plainAll(flat));
  assert.equal(await r.call('get', 'a.b', undefined, 'flat'), 3);
  assert.deepStrictEqual(r.notes.map(n => n.newValue), [1, 3]);
  // the client's parser is the store's
  for (const key of ['a', 'a.b', 'a\\.b', 'a\\\\.b', 'a.b.c\\.d', '\\.', 'a.', '.a', 'a..b', 'x\\', 'x\\.']) {
    assert.deepStrictEqual(internals.segmentsOf(key, true), storeSegmentsOf(key, true), key);
    assert.deepStrictEqual(internals.segmentsOf(internals.keyOf(storeSegmentsOf(key, true)), true), storeSegmentsOf(key, true), `keyOf round trip: ${key}`);
  }
});

test('the main process re-registers its IPC: refresh() catches up and tells the listeners what they missed', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false, defaults: { a: 1, b: { c: 1 } } });
  const ipcMain = new FakeIpcMain();
  let unregister = registerStoreIpc(ipcMain, store);
  const r = await openRenderer(t, ipcMain, { preload: 'tad' });
  await r.call('init');
  await r.call('watch', 'b.c');
  await r.call('watch', '*');
  unregister();
  store.set('b.c', 2); // nobody sends this
  store.set('z', 1);
  unregister = registerStoreIpc(ipcMain, store);
  t.after(unregister);
  assert.equal(await r.call('get', 'b.c'), 1, 'the cache missed it (no event)');
  await r.call('call', 'refresh');
  assert.deepStrictEqual(await r.call('all'), plainAll(store));
  assert.deepStrictEqual(r.notes.filter(n => n.watch === 'b.c').map(n => [n.newValue, n.oldValue]), [[2, 1]]);
  assert.deepStrictEqual(r.notes.filter(n => n.watch === '*').map(n => n.key).sort(), ['b', 'z']);
  // a refresh with nothing missed tells nobody
  const n = r.notes.length;
  await r.call('call', 'refresh');
  assert.equal(r.notes.length, n);
  // dispose: no more listening; initialize again
  await r.call('dispose');
  assert.equal(await r.call('status'), 'idle');
  await assert.rejects(r.call('get', 'a'), err => err.code === 'E_NOT_READY');
  store.set('a', 5);
  await r.call('init');
  assert.equal(await r.call('get', 'a'), 5);
});

// -- the client on its own (a scripted storeAPI: every ordering controlled) -----------------

function scriptedApi(initial = {}) {
  const api = {
    doc: JSON.parse(JSON.stringify(initial)),
    listeners: new Set(),
    subscribed: 0,
    getAllCalls: 0,
    answers: [],
    getAll() {
      api.getAllCalls++;
      return new Promise((resolve, reject) => api.answers.push({ resolve, reject, snapshot: JSON.parse(JSON.stringify(api.doc)) }));
    },
    onChange(key, cb) {
      assert.equal(key, '*');
      api.subscribed++;
      api.listeners.add(cb);
      return () => { api.subscribed--; api.listeners.delete(cb); };
    },
    emit(key, newValue, oldValue) {
      for (const cb of [...api.listeners]) cb(newValue, oldValue, key);
    },
    set: async (k, v) => { api.emit(k, v); return true; },
  };
  return api;
}

test('client: the first load, concurrent initialize(), a failed load tried again, reads before it', async () => {
  const api = scriptedApi({ a: 1 });
  const client = new StoreClient({ api });
  assert.equal(client.status, 'idle');
  assert.throws(() => client.get('a'), err => err.code === 'E_NOT_READY');
  assert.equal(client.peek('a'), undefined);
  const statuses = [];
  client.subscribeStatus(s => statuses.push(s));
  const p1 = client.initialize();
  const p2 = client.initialize();
  assert.equal(p1, p2, 'one load for concurrent calls');
  assert.equal(api.subscribed, 1, 'one subscription');
  assert.equal(api.getAllCalls, 1);
  api.answers.shift().reject(new Error("Error invoking remote method 'store-get-all': Error: E_FORBIDDEN_SENDER: origin x is not allowed"));
  await assert.rejects(p1, err => err.code === 'E_FORBIDDEN_SENDER');
  assert.equal(client.status, 'error');
  assert.equal(client.error.code, 'E_FORBIDDEN_SENDER');
  assert.equal(api.subscribed, 0, 'a failed load leaves no subscription');
  const p3 = client.initialize();
  assert.notEqual(p3, p1);
  api.answers.shift().resolve({ a: 1, b: { c: [1, 2] } });
  await p3;
  assert.deepStrictEqual(statuses, ['loading', 'error', 'loading', 'ready']);
  assert.equal(client.get('b.c.1'), 2);
  assert.equal(client.get('missing', 'dflt'), 'dflt');
  assert.equal(client.has('b.c'), true);
  assert.equal(client.size, 2);
  assert.equal(await client.initialize(), undefined);
  assert.equal(api.subscribed, 1);
  assert.throws(() => client.get(null), TypeError);
  assert.throws(() => client.subscribe('a', 'not a function'), TypeError);
});

test('client: values are frozen and shared; a change replaces only its path; an equal value or a repeated event notifies nobody', async () => {
  const api = scriptedApi();
  const client = new StoreClient({ api });
  const init = client.initialize();
  api.answers.shift().resolve({ s: { theme: 'dark', colors: { bg: 1 } }, list: [{ x: 1 }], other: { y: 1 } });
  await init;
  const before = client.getAll();
  assert.ok(Object.isFrozen(before) && Object.isFrozen(before.s.colors) && Object.isFrozen(before.list[0]));
  assert.throws(() => { 'use strict'; before.s.theme = 'x'; }, TypeError);
  const seen = [];
  for (const key of ['s', 's.theme', 's.colors', 'other', 'list', '*']) client.subscribe(key, (n, o, k) => seen.push([key, k, n, o]));
  api.emit('s.theme', 'light', 'dark');
  const after = client.getAll();
  assert.notEqual(after, before);
  assert.notEqual(after.s, before.s);
  assert.equal(after.s.colors, before.s.colors, 'an unchanged part keeps its identity');
  assert.equal(after.other, before.other);
  assert.deepStrictEqual(seen.map(s => s[0]).sort(), ['*', 's', 's.theme']);
  seen.length = 0;
  // the same event again (a duplicate from a buggy main process), an equal object: nothing
  api.emit('s.theme', 'light', 'dark');
  api.emit('other', { y: 1 }, { y: 1 });
  api.emit('s', { theme: 'light', colors: { bg: 1 } });
  assert.deepStrictEqual(seen, []);
  assert.equal(client.getAll(), after);
  // a bulk change of the parent with one child changed: the child's listeners only where it changed
  api.emit('s', { theme: 'light', colors: { bg: 2 } });
  assert.deepStrictEqual(seen.map(s => s[0]).sort(), ['*', 's', 's.colors']);
  assert.deepStrictEqual(seen.find(s => s[0] === 's.colors').slice(2), [{ bg: 2 }, { bg: 1 }]);
  seen.length = 0;
  // a delete of a parent: the child hears undefined
  api.emit('s', undefined);
  assert.deepStrictEqual(seen.filter(s => s[0] === 's.theme').map(s => s.slice(1)), [['s.theme', undefined, 'light']]);
  // null and '*' keys (the seed's main process sent them) and malformed events are ignored
  api.emit(null, 1);
  api.emit('*', { all: 1 });
  api.emit('', 1);
  api.emit(42, 1);
  assert.equal(client.get('*'), undefined);
  // a listener that throws is reported, the others still hear
  const errors = [];
  client.onListenerError = e => errors.push(e);
  client.subscribe('other', () => { throw new Error('boom'); });
  let heard = 0;
  client.subscribe('other', () => heard++);
  api.emit('other', { y: 2 });
  assert.equal(errors.length, 1);
  assert.equal(heard, 1);
  // a listener that unsubscribes another during a notification: the other is not called
  let offB;
  let calledB = 0;
  client.subscribe('list', () => offB());
  offB = client.subscribe('list', () => calledB++);
  api.emit('list', []);
  assert.equal(calledB, 0);
});

test('client: events during the first load and during a refresh are applied to the snapshot, silently', async () => {
  const api = scriptedApi();
  const client = new StoreClient({ api });
  const notes = [];
  client.subscribe('*', (n, o, k) => notes.push(k));
  const init = client.initialize();
  api.emit('a', 1);           // before the answer; the snapshot holds it
  api.emit('b.c', 2);         // before the answer; the snapshot does not hold it
  api.answers.shift().resolve({ a: 1, b: { c: 1, d: 1 } });
  api.emit('a', 3);           // after the answer, before initialize() resolves
  await init;
  assert.deepStrictEqual(JSON.parse(JSON.stringify(client.getAll())), { a: 3, b: { c: 2, d: 1 } });
  assert.deepStrictEqual(notes, [], 'the first load tells nobody (events after it do, once ready)');
  api.emit('a', 4);
  assert.deepStrictEqual(notes, ['a']);
  // a refresh: events meanwhile apply at once and again on the snapshot
  const refresh = client.refresh();
  const refresh2 = client.refresh();
  assert.equal(refresh, refresh2, 'calls before the load starts share it');
  await Promise.resolve();
  await Promise.resolve();
  api.emit('e', 5);
  assert.equal(client.get('e'), 5);
  api.answers.shift().resolve({ a: 4, b: { c: 2, d: 9 } }); // missed: b.d = 9; e not in it yet
  await refresh;
  assert.deepStrictEqual(JSON.parse(JSON.stringify(client.getAll())), { a: 4, b: { c: 2, d: 9 }, e: 5 });
  assert.deepStrictEqual(notes, ['a', 'e', 'b']);
  assert.equal(api.getAllCalls, 2);
});

test('client: deep values (as deep as IPC carries) and arrays', async () => {
  const api = scriptedApi();
  const client = new StoreClient({ api });
  const init = client.initialize();
  let deep = 'leaf';
  for (let i = 0; i < 1500; i++) deep = { d: deep };
  api.answers.shift().resolve({ deep, list: [1, 2] });
  await init;
  assert.equal(client.get(`deep${'.d'.repeat(1500)}`), 'leaf');
  let deeper = 'leaf2';
  for (let i = 0; i < 1500; i++) deeper = { d: deeper };
  api.emit('deep', deeper);
  assert.equal(client.get(`deep${'.d'.repeat(1500)}`), 'leaf2');
  api.emit('list.4', 9);
  assert.deepStrictEqual([...client.get('list')], [1, 2, null, null, 9]);
  api.emit('list.0', null);
  assert.deepStrictEqual([...client.get('list')], [null, 2, null, null, 9]);
  api.emit('n.x', 1);
  api.emit('n', 5);
  api.emit('n.y', 2); // a non-object step becomes an object, as in the store
  assert.deepStrictEqual({ ...client.get('n') }, { y: 2 });
});

test('the default client, the seed names, the ESM entry', async t => {
  assert.equal(getDefaultClient(), getDefaultClient());
  assert.equal(storeService, getDefaultClient());
  assert.equal(StoreService, StoreClient);
  // no storeAPI on globalThis: a coded error, not a crash
  const c = createStoreClient();
  await assert.rejects(c.initialize(), err => err.code === 'E_NO_STORE_API');
  assert.equal(c.status, 'error');
  globalThis.storeAPI = scriptedApi({ g: 1 });
  t.after(() => { delete globalThis.storeAPI; });
  const p = c.initialize();
  globalThis.storeAPI.answers.shift().resolve({ g: 1 });
  await p;
  assert.equal(c.get('g'), 1);
  const esm = await import('../renderer.mjs');
  assert.equal(esm.StoreClient, StoreClient, 'one class for ESM and CJS (no dual-package hazard)');
  assert.equal(esm.storeService, storeService);
  assert.equal(typeof DEADLINE, 'number');
});
