'use strict';

/**
 * Atomic operations over IPC (issue 20): `registerStoreIpc(..., {
 * atomicOperations: true })` adds `store-update (key, { op, ... })` —
 * increment, append, remove, toggle — run by `store.update()` in the main
 * process, so renderers (a function cannot cross IPC) get read-modify-writes
 * that lose nothing. Renderers are real child processes (structured clone, as
 * Electron's IPC) running tad-store/preload and tad-store/renderer's client.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { fixture } = require('./helpers.js');
const { registerStoreIpc, CHANNELS, ATOMIC_CHANNEL } = require('../ipc');
const { FakeIpcMain, openRenderer } = require('./renderer-harness.js');

test('without atomicOperations the 20 seed channels are all that is registered', t => {
  const store = fixture(t).open({ backups: false });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store);
  assert.equal(ipcMain.handlers.has(ATOMIC_CHANNEL), false);
  assert.equal(ipcMain.handlers.size, CHANNELS.length);
  assert.throws(() => registerStoreIpc(new FakeIpcMain(), store, { atomicOperations: 'yes' }), TypeError);
});

test('two renderers and the main process incrementing one counter at once lose nothing', async t => {
  const store = fixture(t).open({ backups: false });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store, { atomicOperations: true });
  assert.equal(ipcMain.handlers.has('store-update'), true);
  const a = await openRenderer(t, ipcMain, { preload: 'tad', atomic: true });
  const b = await openRenderer(t, ipcMain, { preload: 'tad', atomic: true });
  const N = 150;
  const burst = async (r, by) => {
    const results = [];
    for (let i = 0; i < N; i++) results.push(r.call('call', 'increment', 'count', by));
    return Promise.all(results);
  };
  const main = (async () => {
    for (let i = 0; i < N; i++) {
      store.update('count', (n = 0) => n + 100);
      await new Promise(r => setImmediate(r));
    }
  })();
  const [ra, rb] = await Promise.all([burst(a, 1), burst(b, 10), main]);
  assert.equal(store.get('count'), N * 111);
  // each call resolved to the value it produced: all distinct
  assert.equal(new Set([...ra, ...rb]).size, 2 * N);
  const history = await store.getHistorySummary();
  assert.ok(history.entries.every(e => e.operation === 'update'));
});

test('append, remove and toggle from a renderer; the renderer client reads its own writes', async t => {
  const store = fixture(t).open({ backups: false });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store, { atomicOperations: true });
  const r = await openRenderer(t, ipcMain, { preload: 'tad', atomic: true });
  await r.call('init');
  assert.deepEqual(await r.call('call', 'append', 'tabs', { id: 1 }), [{ id: 1 }]);
  assert.deepEqual(await r.call('call', 'append', 'tabs', { id: 2 }), [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(await r.call('call', 'append', 'tabs', { id: 2 }, { unique: true }), [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(await r.call('call', 'append', 'tabs', { id: 1 }), [{ id: 1 }, { id: 2 }, { id: 1 }]);
  assert.deepEqual(await r.call('call', 'remove', 'tabs', { id: 1 }), [{ id: 2 }]);
  assert.deepEqual(await r.call('call', 'remove', 'missing.list', 'x'), []);
  assert.equal(await r.call('call', 'toggle', 'ui.sidebar'), true);
  assert.equal(await r.call('call', 'toggle', 'ui.sidebar'), false);
  assert.equal(await r.call('call', 'increment', 'stats.opened'), 1);
  assert.equal(await r.call('call', 'increment', 'stats.opened', -3.5), -2.5);
  assert.deepEqual(JSON.parse(JSON.stringify(store.getAll())), { tabs: [{ id: 2 }], missing: { list: [] }, ui: { sidebar: false }, stats: { opened: -2.5 } });
  // the client's cache follows (the change events)
  const deadline = Date.now() + 60_000;
  while (JSON.stringify(await r.call('call', 'get', 'stats.opened')) !== '-2.5') {
    if (Date.now() > deadline) throw new Error('the renderer cache never caught up');
    await new Promise(res => setTimeout(res, 10));
  }
});

test('atomic operations obey the key restrictions and refuse hostile input, changing nothing', async t => {
  const store = fixture(t).open({ backups: false, schema: { limited: { type: 'number', maximum: 2 } } });
  store.set({ name: 'text', flag: 'not a boolean', limited: 2, secret: { n: 1 }, open: { n: 1 } });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store, { atomicOperations: true, writableKeys: ['name', 'flag', 'limited', 'open', 'big'], protectedKeys: ['secret'], readableKeys: ['name', 'flag', 'limited', 'big'], maxValueBytes: 1000 });
  const r = await openRenderer(t, ipcMain, { preload: 'tad', atomic: true });
  const before = JSON.stringify(store.getAll());
  const refused = [
    [['store-update', 'secret.n', { op: 'increment' }], /E_FORBIDDEN_KEY/],
    [['store-update', 'other', { op: 'increment' }], /E_FORBIDDEN_KEY/],
    [['store-update', '__proto__.polluted', { op: 'toggle' }], /E_FORBIDDEN_KEY/],
    [['store-update', 'name', { op: 'increment' }], /not a number/],
    [['store-update', 'flag', { op: 'toggle' }], /not a boolean/],
    [['store-update', 'name', { op: 'append', value: 1 }], /not an array/],
    [['store-update', 'limited', { op: 'increment' }], /E_SCHEMA/],
    [['store-update', 'limited', { op: 'increment', by: '1' }], /finite number/],
    [['store-update', 'limited', { op: 'increment', by: Infinity }], /finite number/],
    [['store-update', 'limited', { op: 'increment', by: Number.MAX_VALUE }], /E_SCHEMA|finite/],
    [['store-update', 'name', { op: 'eval', code: 'x' }], /op/],
    [['store-update', 'name', null], /operation/],
    [['store-update', 'name', ['increment']], /operation/],
    [['store-update', 'big', { op: 'append' }], /value/],
    [['store-update', 'big', { op: 'append', value: 'x'.repeat(2000) }], /E_TOO_LARGE/],
    [['store-update', 123, { op: 'toggle' }], /key/],
    [['store-update', '', { op: 'toggle' }], /key/],
  ];
  for (const [args, pattern] of refused) {
    await assert.rejects(r.call('raw', ...args), pattern, JSON.stringify(args).slice(0, 80));
  }
  // growing an array past the size limit one small append at a time is refused too
  for (let i = 0; i < 30; i++) await r.call('raw', 'store-update', 'big', { op: 'append', value: 'y'.repeat(20) });
  await assert.rejects(async () => {
    for (let i = 0; i < 100; i++) await r.call('raw', 'store-update', 'big', { op: 'append', value: 'y'.repeat(20) });
  }, /E_TOO_LARGE/);
  const after = JSON.parse(JSON.stringify(store.getAll()));
  assert.ok(after.big.length < 60);
  delete after.big;
  assert.deepEqual(after, JSON.parse(before));
  assert.equal({}.polluted, undefined);
  // a key renderers may write but not read: the answer does not reveal the value
  assert.equal(await r.call('raw', 'store-update', 'open.n', { op: 'increment' }), true);
  assert.equal(store.get('open.n'), 2);
});

test('renderer atomic operations and another process\'s update() on one store file lose nothing', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const store = fx.open({ cwd: dir, backups: false });
  const ipcMain = new FakeIpcMain();
  registerStoreIpc(ipcMain, store, { atomicOperations: true });
  const r = await openRenderer(t, ipcMain, { preload: 'tad', atomic: true });
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'atomic-child.js'), dir, 0, 300, 'counter', 'deferred'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise(resolve => child.once('exit', code => resolve(code)));
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', code => reject(new Error(`child exited ${code}`)));
  });
  child.stdin.end('go\n');
  const calls = [];
  for (let i = 0; i < 300; i++) calls.push(r.call('raw', 'store-update', 'n', { op: 'increment' }));
  await Promise.all(calls);
  assert.equal(await done, 0);
  assert.equal(store.update('n', n => n), 600);
});
