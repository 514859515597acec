'use strict';

/**
 * The renderer bridge (issue 9) across a real process boundary: each
 * "renderer" is a child process forked with `serialization: 'advanced'`
 * (structured clone, as Electron's IPC) running the seed's preload and a
 * StoreService-equivalent client (fixtures/renderer-child.js). This process
 * plays Electron's main: an `ipcMain` with `handle` / `removeHandler`, and per
 * renderer a `webContents`-shaped object (`send`, `isDestroyed`, the
 * 'destroyed' event) whose `send` crosses to the child.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { fork, spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');

const { Store, fixture } = require('./helpers.js');
const { registerStoreIpc, CHANNELS } = require('../ipc');

const CHILD = path.join(__dirname, 'fixtures', 'renderer-child.js');
const ROOT = path.join(__dirname, '..');
// every wait is for an event, with a deadline generous enough for a loaded
// machine: it fails the test loudly instead of hanging it
const DEADLINE = 60_000;

class FakeIpcMain {
  constructor() { this.handlers = new Map(); }
  handle(channel, fn) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, fn);
  }
  removeHandler(channel) { this.handlers.delete(channel); }
}

/** A renderer process and its main-side webContents. */
async function openRenderer(t, ipcMain, { url = 'app://main/index.html', frame = true } = {}) {
  const child = fork(CHILD, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const wc = new EventEmitter();
  wc.destroyed = false;
  wc.sent = [];
  wc.isDestroyed = () => wc.destroyed;
  wc.send = (channel, payload) => {
    if (wc.destroyed) throw new Error('Object has been destroyed');
    wc.sent.push(payload);
    child.send({ type: 'event', channel, payload });
  };
  const r = { child, wc, seen: [], waiters: [], replies: new Map(), nextId: 0 };
  r.destroy = () => {
    wc.destroyed = true;
    wc.emit('destroyed');
    child.kill('SIGKILL');
  };
  const poke = () => { for (const w of r.waiters.slice()) if (w.pred()) { r.waiters.splice(r.waiters.indexOf(w), 1); clearTimeout(w.timer); w.resolve(); } };
  r.until = (pred, what) => new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const w = { pred, resolve };
    w.timer = setTimeout(() => { r.waiters.splice(r.waiters.indexOf(w), 1); reject(new Error(`timed out: ${what}`)); }, DEADLINE);
    r.waiters.push(w);
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for the renderer to start')), DEADLINE);
    child.once('message', (m) => { clearTimeout(timer); resolve(m); });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`the renderer exited (${code ?? signal}) before it was ready`)); });
  });
  // a renderer that dies fails every call still waiting for it
  child.once('exit', (code, signal) => {
    for (const [id, p] of r.replies) {
      r.replies.delete(id);
      p.reject(new Error(`the renderer exited (${code ?? signal}) before answering call ${id}`));
    }
  });
  child.on('message', async (msg) => {
    if (msg.type === 'invoke') {
      const h = ipcMain.handlers.get(msg.channel);
      const event = { sender: wc, senderFrame: frame ? { url } : null };
      if (!h) return child.send({ type: 'result', id: msg.id, ok: false, message: `Error: No handler registered for '${msg.channel}'` });
      try {
        const value = await h(event, ...msg.args);
        child.send({ type: 'result', id: msg.id, ok: true, value });
      } catch (error) {
        // Electron passes on `${error}` only: name and message
        child.send({ type: 'result', id: msg.id, ok: false, message: String(error) });
      }
    } else if (msg.type === 'seen') {
      r.seen.push(msg.change);
      poke();
    } else if (msg.type === 'reply') {
      const p = r.replies.get(msg.id);
      if (!p) return; // answered after its deadline: that call already failed
      r.replies.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.message));
    }
  });
  r.call = (fn, ...args) => new Promise((resolve, reject) => {
    const id = ++r.nextId;
    const timer = setTimeout(() => {
      r.replies.delete(id);
      reject(new Error(`timed out waiting for the renderer's ${fn}(${args.map(a => JSON.stringify(a)).join(', ')})`));
    }, DEADLINE);
    const settle = f => v => { clearTimeout(timer); f(v); };
    r.replies.set(id, { resolve: settle(resolve), reject: settle(reject) });
    child.send({ type: 'call', id, fn, args });
  });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await ready;
  return r;
}

const plainAll = (s) => JSON.parse(JSON.stringify(s.getAll()));

/** Waits until the renderer's StoreService cache equals the store (re-checked on every change it sees). */
async function synced(r, store, what) {
  const deadline = Date.now() + DEADLINE;
  for (;;) {
    const cache = await r.call('cache');
    try {
      assert.deepStrictEqual(cache, plainAll(store));
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${what}: renderer cache ${JSON.stringify(cache)} != store ${JSON.stringify(plainAll(store))}`);
      const n = r.seen.length;
      await r.until(() => r.seen.length > n, `${what}: next change`).catch(() => {});
    }
  }
}

function noDuplicates(r) {
  for (const c of r.seen) {
    assert.equal(typeof c.key, 'string');
    assert.notEqual(c.key, '*');
    assert.ok(c.key.length > 0);
    assert.equal(typeof c.timestamp, 'number');
  }
  // every payload sent once to this renderer
  assert.equal(new Set(r.wc.sent).size, r.wc.sent.length);
}

test('every channel round-trips with the seed\'s arguments and return values', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false, defaults: { settings: { theme: 'dark' } }, schema: { port: { type: 'number' } } });
  const ipcMain = new FakeIpcMain();
  const unregister = registerStoreIpc(ipcMain, store);
  assert.deepStrictEqual([...ipcMain.handlers.keys()].sort(), [...CHANNELS].sort());
  assert.equal(CHANNELS.length, 20);
  const r = await openRenderer(t, ipcMain);
  assert.equal(await r.call('set', 'settings.theme', 'light'), true);
  assert.equal(await r.call('get', 'settings.theme'), 'light');
  assert.equal(await r.call('get', 'missing', 'dflt'), 'dflt');
  assert.equal(await r.call('has', 'settings'), true);
  assert.equal(await r.call('delete', 'settings.theme'), true);
  assert.equal(store.has('settings.theme'), false);
  assert.equal(await r.call('setMultiple', { a: 1, 'b.c': [1, 2] }), true);
  assert.deepStrictEqual(await r.call('getAll'), { settings: {}, a: 1, b: { c: [1, 2] } });
  const info = await r.call('getInfo');
  assert.equal(info.path, store.path);
  assert.equal(await r.call('reload'), true);
  const backupPath = await r.call('createBackup', 'from-renderer');
  assert.ok(fs.existsSync(backupPath));
  const backups = await r.call('listBackups');
  assert.equal(backups[0].metadata.reason, 'from-renderer');
  const before = Date.now();
  await new Promise(res => setTimeout(res, 5));
  store.set('a', 2);
  const rolled = await r.call('rollbackToTimestamp', before);
  assert.equal(rolled.success, true);
  assert.equal(store.get('a'), 1);
  const summary = await r.call('getHistorySummary');
  assert.ok(summary.totalEntries > 3);
  assert.deepStrictEqual(await r.call('validateData', { port: 80 }), { valid: true, errors: [] });
  assert.equal((await r.call('validateData', { port: 'x' })).valid, false);
  assert.deepStrictEqual(await r.call('listMigrationBackups'), []);
  await assert.rejects(r.call('restoreMigrationBackup', 'nope.json'), /E_BACKUP_NOT_FOUND/);
  await assert.rejects(r.call('validateMigrationBackup', 'nope.json'), /E_BACKUP_NOT_FOUND/);
  store.set('a', 5);
  const restored = await r.call('restoreBackup', backups[0].file);
  assert.ok(restored);
  assert.equal(store.get('a'), 1);
  assert.equal(await r.call('raw', 'store-on-change', 'x'), 'listener-registered');
  assert.equal(await r.call('raw', 'store-off-change', 'x'), 'listeners-cleaned');
  assert.equal(await r.call('clear'), true);
  // errors keep their code across IPC (Electron keeps only the message)
  await assert.rejects(r.call('set', 'port', 'not a number'), /E_SCHEMA/);
  unregister();
  assert.equal(ipcMain.handlers.size, 0, 'every handler removed');
  await assert.rejects(r.call('get', 'a'), /No handler registered/);
});

test("the renderer's cache stays equal to the store through every kind of change, one event per key", async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  // Opened through the fixture: it is closed before the fixture removes its directory (t.after hooks
  // run in the order they were added, so a hook added here would run after the removal, and the
  // watching store would write its deleted file back into the directory being removed).
  const store = fx.open({ cwd: dir, backups: false, watch: true, defaults: { settings: { theme: 'dark', size: 12 }, list: [1] } });
  const ipcMain = new FakeIpcMain();
  const windows = [];
  registerStoreIpc(ipcMain, store, { windows: () => windows });
  const r = await openRenderer(t, ipcMain);
  windows.push({ webContents: r.wc, isDestroyed: () => r.wc.destroyed });
  await r.call('init');
  await synced(r, store, 'init');
  store.set('settings.theme', 'light');
  await synced(r, store, 'set');
  store.delete('settings.size');
  await synced(r, store, 'delete');
  store.setMultiple({ a: 1, 'b.c': { d: 2 } });
  await synced(r, store, 'setMultiple');
  const t0 = Date.now();
  await new Promise(res => setTimeout(res, 5));
  store.set('later', true);
  await synced(r, store, 'set later');
  const backup = await store.createBackup('x');
  store.set('a', 99);
  await synced(r, store, 'set a');
  await store.rollbackToTimestamp(t0);
  await synced(r, store, 'rollback');
  await store.restoreBackup(path.basename(backup));
  await synced(r, store, 'restore');
  store.clear();
  await synced(r, store, 'clear');
  store.store = { whole: { doc: 1 } };
  await synced(r, store, 'store =');
  // an external edit (the watcher) and reload()
  await store.flush({ file: true });
  fs.writeFileSync(store.path, JSON.stringify({ ...JSON.parse(fs.readFileSync(store.path, 'utf8')), edited: 'outside' }));
  await r.until(() => r.seen.some(c => c.key === 'edited'), 'external edit');
  await synced(r, store, 'external edit');
  // another process's writes
  await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', `const S = require(${JSON.stringify(ROOT)}); const s = new S({ cwd: ${JSON.stringify(dir)}, backups: false }); for (let i = 0; i < 5; i++) s.set('remote.k' + i, i); s.close();`], { stdio: 'inherit' });
    c.on('exit', code => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
  await r.until(() => r.seen.some(c => c.key === 'remote'), 'remote writes');
  await synced(r, store, 'another process');
  noDuplicates(r);
  // the renderer subscribed (store-on-change) and is a window: still one event per key event
  const sets = r.seen.filter(c => c.key === 'settings.theme');
  assert.equal(sets.length, 1, 'one event, not one per subscription + broadcast');
  // bulk changes: one event per changed top-level key
  const clearKeys = r.seen.filter(c => c.newValue === undefined && ['a', 'b', 'later', 'settings', 'list'].includes(c.key));
  assert.ok(clearKeys.length > 0);
});

test('hostile inputs and a forbidden sender are refused with nothing changed', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false, defaults: { settings: { theme: 'dark' }, ai: { apiKey: 'sk-secret', model: 'm' } } });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store, {
    allowedOrigins: ['app://main'],
    writableKeys: ['settings', 'ai.model'],
    protectedKeys: ['ai.apiKey'],
    maxValueBytes: 10000,
  });
  const r = await openRenderer(t, ipcMain);
  const before = JSON.stringify(store.getAll());
  const seqBefore = store.getStoreInfo().seq;
  const refused = [
    ['set', 1, 'x'],
    ['set', null, 'x'],
    ['set', '', 'x'],
    ['set', '__proto__.polluted', 1],
    ['set', 'settings.__proto__.polluted', 1],
    ['set', 'constructor.prototype.x', 1],
    ['set', 'settings.big', 'x'.repeat(20000)],
    // (a value nested deeper than the store's limit cannot cross a real IPC:
    // the structured clone overflows at a few thousand levels, below the
    // limit; depth.spec.js calls the handlers with one: E_TOO_DEEP)
    ['set', 'other', 1],
    ['set', 'ai', { apiKey: 'mine', model: 'x' }],
    ['set', 'ai.apiKey', 'stolen'],
    ['setMultiple', { 'settings.ok': 1, 'ai.apiKey': 'x' }],
    ['setMultiple', null],
    ['setMultiple', [1, 2]],
    ['delete', 'ai.apiKey'],
    ['delete', 'ai'],
    ['clear'],
    ['get', 'ai.apiKey'],
    ['get', 'ai'],
    ['has', 'ai.apiKey'],
    ['restoreBackup', '../../etc/passwd'],
    ['restoreBackup', 42],
    ['rollbackToTimestamp', { not: 'a time' }],
    ['getHistorySummary'],
    ['get', 'k'.repeat(5000)],
  ];
  for (const [fn, ...args] of refused) {
    await assert.rejects(r.call(fn, ...args), Error, `${fn} ${JSON.stringify(args).slice(0, 60)}`);
  }
  assert.equal(JSON.stringify(store.getAll()), before, 'nothing changed');
  assert.equal(store.getStoreInfo().seq, seqBefore, 'no history entry');
  assert.equal({}.polluted, undefined);
  // what is allowed works, and the protected key never leaves the main process
  assert.equal(await r.call('set', 'settings.theme', 'light'), true);
  assert.equal(await r.call('set', 'ai.model', 'n'), true);
  assert.deepStrictEqual(await r.call('get', 'ai.model'), 'n');
  const all = await r.call('getAll');
  assert.deepStrictEqual(all.ai, { model: 'n' });
  assert.ok(!JSON.stringify(all).includes('sk-secret'));
  store.set('ai.apiKey', 'sk-rotated');
  assert.ok(!r.wc.sent.some(c => JSON.stringify(c).includes('sk-')), 'no change event carries the protected key');
  // a sender from another origin, one without a frame, one with an unparsable URL
  for (const opts of [{ url: 'https://evil.example/app' }, { url: 'app://main.evil/x' }, { url: 'app://mainx/' }, { url: 'http://main/' }, { frame: false }, { url: 'not a url' }, { url: 'app:main' }]) {
    const bad = await openRenderer(t, ipcMain, opts);
    await assert.rejects(bad.call('get', 'settings'), /E_FORBIDDEN_SENDER/, JSON.stringify(opts));
    await assert.rejects(bad.call('set', 'settings.theme', 'evil'), /E_FORBIDDEN_SENDER/);
    bad.destroy();
  }
  assert.equal(store.get('settings.theme'), 'light');
  // the allowed origin, any path under it
  const good = await openRenderer(t, ipcMain, { url: 'app://main/sub/page.html?x=1' });
  assert.equal(await good.call('get', 'settings.theme'), 'light');
});

test('two renderers, one closing mid-stream: the other gets every change, nothing is sent to the closed one', async t => {
  const fx = fixture(t);
  const store = fx.open({ backups: false });
  const ipcMain = new FakeIpcMain();
  const unregister = registerStoreIpc(ipcMain, store);
  const a = await openRenderer(t, ipcMain);
  const b = await openRenderer(t, ipcMain);
  await a.call('init');
  await b.call('init');
  for (let i = 0; i < 50; i++) {
    store.set(`k${i}`, i);
    if (i === 20) a.destroy();
  }
  await synced(b, store, 'b after a closed');
  assert.equal(b.seen.length, 50);
  assert.ok(a.wc.sent.length <= 21, 'nothing sent after destroyed');
  noDuplicates(b);
  unregister();
  store.set('after', 1);
  assert.equal(b.wc.sent.length, 50, 'nothing sent after unregister');
});

test('Store.initRenderer exists and is harmless outside Electron', () => {
  assert.equal(typeof Store.initRenderer, 'function');
  Store.initRenderer();
});
