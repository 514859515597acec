'use strict';

// The TAD surface: getAll, setMultiple, onChange, reload, getStoreInfo,
// flush/flushSync/close, sharing between instances, durability, ESM.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { Store, fixture, plain, writeFile, noSymlinks, assertSelfKilled } = require('./helpers.js');

const INDEX = path.join(__dirname, '..', 'index.js');
const INDEX_MJS = path.join(__dirname, '..', 'index.mjs');

/** Records every onChange('*') event as [key, new, old]. */
function recordAll(store) {
  const events = [];
  store.onChange('*', (newValue, oldValue, key) => events.push([key, newValue, oldValue]));
  return events;
}

const byKey = events => [...events].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));

/** Runs a CommonJS snippet in a child node process; `STORE` is the package. */
function runChild(code) {
  return spawnSync(process.execPath, ['-e', `const Store = require(${JSON.stringify(INDEX)});\n${code}`], { encoding: 'utf8' });
}

// ---------------------------------------------------------------------------
// getAll / setMultiple
// ---------------------------------------------------------------------------

test('getAll() equals store and is a fresh copy', t => {
  const s = fixture(t).open();
  s.set({ a: 1, b: { c: [1] } });
  const all = s.getAll();
  assert.deepEqual({ ...all }, { a: 1, b: { c: [1] } });
  assert.deepEqual({ ...all }, plain(s));
  all.b.c.push(2);
  assert.deepEqual(s.get('b.c'), [1]);
  s.close();
});

test('setMultiple() applies every key (dot paths) as one change and returns true', t => {
  const s = fixture(t).open();
  s.set('keep', 'x');
  let changes = 0;
  let anyCalls = 0;
  s.events.on('change', () => changes++);
  s.onDidAnyChange(() => anyCalls++);
  const events = recordAll(s);
  assert.equal(s.setMultiple({ a: 1, 'b.c': 2, 'b.d': [3], keep: 'x' }), true);
  assert.deepEqual(plain(s), { keep: 'x', a: 1, b: { c: 2, d: [3] } });
  assert.equal(changes, 1, "one 'change' event");
  assert.equal(anyCalls, 1, 'one onDidAnyChange call');
  assert.deepEqual(byKey(events), [['a', 1, undefined], ['b.c', 2, undefined], ['b.d', [3], undefined]], 'unchanged keys give no event');
  s.flushSync({ file: true });
  assert.deepEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')), plain(s));
  s.close();
});

test('setMultiple() is atomic: one bad value among many writes nothing and fires nothing', t => {
  const s = fixture(t).open();
  s.set({ a: 1, b: 2 });
  s.flushSync({ file: true });
  const bytes = fs.readFileSync(s.path);
  const events = recordAll(s);
  let changes = 0;
  s.events.on('change', () => changes++);
  const circular = {};
  circular.self = circular;
  const bad = [
    { a: 10, c: 3, z: 1n },
    { a: 10, c: 3, z: circular },
    { a: 10, c: 3, z: new Map() },
    { a: 10, c: 3, z: () => {} },
    { a: 10, c: 3, z: undefined },
    { a: 10, c: 3, 'z.__proto__.x': 1 },
    { a: 10, c: 3, '__internal__.x': 1 },
    { a: 10, 'c.constructor': 3 },
  ];
  for (const data of bad) {
    assert.throws(() => s.setMultiple(data), TypeError, Object.keys(data).join(','));
  }
  assert.deepEqual(plain(s), { a: 1, b: 2 });
  assert.deepEqual(events, []);
  assert.equal(changes, 0);
  s.flushSync({ file: true });
  assert.ok(fs.readFileSync(s.path).equals(bytes), 'file unchanged');
  assert.equal({}.x, undefined);
  s.close();
});

test('setMultiple({}) and setMultiple with only unchanged values fire no event', t => {
  const s = fixture(t).open();
  s.set('a', 1);
  const events = recordAll(s);
  assert.equal(s.setMultiple({}), true);
  assert.equal(s.setMultiple({ a: 1 }), true);
  assert.deepEqual(events, []);
  s.close();
});

// ---------------------------------------------------------------------------
// onChange
// ---------------------------------------------------------------------------

test("onChange('*') gets (new, old, key) once per changed key, never a null key", t => {
  const s = fixture(t).open();
  const events = recordAll(s);
  s.set('a.b', 1);
  s.set('a.b', 1); // no change
  s.set({ x: 1, 'a.c': 2 });
  s.delete('a.b');
  s.delete('never');
  s.set('list', [1, 2]);
  s.delete('list.0');
  assert.deepEqual(events, [
    ['a.b', 1, undefined],
    ['x', 1, undefined],
    ['a.c', 2, undefined],
    ['a.b', undefined, 1],
    ['list', [1, 2], undefined],
    ['list.0', null, 1],
  ]);
  for (const [key] of events) assert.equal(typeof key, 'string');
  s.close();
});

test('onChange(key) gets (new, old, key) for that key and its children; unsubscribe works', t => {
  const s = fixture(t).open();
  const calls = [];
  const off = s.onChange('theme', (n, o, k) => calls.push([n, o, k]));
  s.set('theme', 'dark');
  s.set('theme.detail', 1); // replaces the string with an object
  s.set('other', 1);
  s.set('theme', { detail: 1 }); // same deep value: no event
  off();
  s.set('theme', 'light');
  assert.deepEqual(calls, [
    ['dark', undefined, 'theme'],
    [{ detail: 1 }, 'dark', 'theme'],
  ]);
  s.close();
});

test('onChange listeners get copies: mutating new/old values does not touch the store', t => {
  const s = fixture(t).open();
  s.set('o', { list: [1] });
  s.onChange('*', (n, o) => {
    if (n && n.list) n.list.push('mutated');
    if (o && o.list) o.list.push('mutated');
  });
  s.onChange('o', n => n.list.push('mutated'));
  s.set('o', { list: [2] });
  assert.deepEqual(s.get('o'), { list: [2] });
  s.close();
});

test('bulk operations give one event per changed top-level key', t => {
  const s = fixture(t).open({ defaults: { d: 'dflt' } });
  s.set({ a: 1, b: { c: 1 }, same: true });
  const events = recordAll(s);

  s.store = { a: 1, b: { c: 2 }, same: true, n: null, d: 'dflt' };
  assert.deepEqual(byKey(events), [['b', { c: 2 }, { c: 1 }], ['n', null, undefined]], 'store=');

  events.length = 0;
  s.clear();
  assert.deepEqual(byKey(events), [['a', undefined, 1], ['b', undefined, { c: 2 }], ['n', undefined, null], ['same', undefined, true]], 'clear');
  assert.deepEqual(plain(s), { d: 'dflt' });

  events.length = 0;
  s.setMultiple({ x: 1, y: 2, d: 'dflt' });
  assert.deepEqual(byKey(events), [['x', 1, undefined], ['y', 2, undefined]], 'setMultiple');

  events.length = 0;
  s.flushSync({ file: true });
  writeFile(path.dirname(s.path), path.basename(s.path), JSON.stringify({ d: 'edited', x: 1, z: [1] }, null, '\t'));
  s.reload();
  assert.deepEqual(byKey(events), [['d', 'edited', 'dflt'], ['y', undefined, 2], ['z', [1], undefined]], 'reload');
  for (const [key] of events) assert.notEqual(key, null);
  s.close();
});

// ---------------------------------------------------------------------------
// reload
// ---------------------------------------------------------------------------

test('reload() picks up an external edit, fires events for what changed, and the edit persists', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir });
  s.set({ a: 1, b: { c: 2 }, keep: 'same' });
  s.flushSync({ file: true });
  const events = recordAll(s);
  const deep = [];
  s.onDidChange('b.c', (n, o) => deep.push([n, o]));
  let any = 0;
  s.onDidAnyChange(() => any++);
  fs.writeFileSync(s.path, JSON.stringify({ b: { c: 3 }, keep: 'same', added: [true] }, null, '\t'));
  assert.equal(s.reload(), true);
  assert.deepEqual(plain(s), { b: { c: 3 }, keep: 'same', added: [true] });
  assert.deepEqual(byKey(events), [['a', undefined, 1], ['added', [true], undefined], ['b', { c: 3 }, { c: 2 }]]);
  assert.deepEqual(deep, [[3, 2]]);
  assert.equal(any, 1);
  // reloading an unchanged file changes nothing
  events.length = 0;
  assert.equal(s.reload(), true);
  assert.deepEqual(events, []);
  // later writes build on the reloaded state; reopening does not resurrect old values
  s.set('after', 1);
  s.close();
  const again = fx.open({ cwd: dir });
  assert.deepEqual(plain(again), { b: { c: 3 }, keep: 'same', added: [true], after: 1 });
  again.close();
});

test('reload() right after set() (before any flush) keeps the set value', t => {
  const s = fixture(t).open();
  s.set('fresh', 1);
  s.reload();
  assert.equal(s.get('fresh'), 1);
  s.close();
});

test('reload() of a damaged file throws E_CORRUPT and keeps the state; the store stays usable', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir });
  s.set({ a: 1, b: [1, 2] });
  s.flushSync({ file: true });
  const events = recordAll(s);
  for (const damage of ['{"a": 2, "b": [1', '', '[1, 2]', '\u0000\u0000\u0000']) {
    fs.writeFileSync(s.path, damage);
    assert.throws(() => s.reload(), e => e.code === 'E_CORRUPT' && !(e instanceof TypeError), JSON.stringify(damage));
    assert.deepEqual(plain(s), { a: 1, b: [1, 2] });
  }
  assert.deepEqual(events, []);
  s.set('c', 3);
  s.close();
  const again = fx.open({ cwd: dir });
  assert.deepEqual(plain(again), { a: 1, b: [1, 2], c: 3 });
  again.close();
});

test('reload() is seen by every instance on the path', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const a = fx.open({ cwd: dir });
  const b = fx.open({ cwd: dir });
  a.set('v', 1);
  a.flushSync({ file: true });
  const seen = [];
  b.onDidChange('v', (n, o) => seen.push([n, o]));
  fs.writeFileSync(a.path, '{"v": 2}');
  a.reload();
  assert.equal(b.get('v'), 2);
  assert.deepEqual(seen, [[2, 1]]);
  a.close();
  b.close();
});

// ---------------------------------------------------------------------------
// getStoreInfo / flush
// ---------------------------------------------------------------------------

test('getStoreInfo() shape: path, size, fileSize, keys, version, listeners, durability', async t => {
  const s = fixture(t).open();
  s.set({ b: 1, 10: [1], a: { x: 1 } });
  const off = s.onChange('*', () => {});
  s.onDidChange('a', () => {});
  await s.flush({ file: true });
  const info = s.getStoreInfo();
  assert.equal(info.path, s.path);
  assert.equal(info.size, 3);
  assert.equal(info.size, s.size);
  assert.deepEqual(info.keys, ['10', 'b', 'a']);
  assert.deepEqual(info.keys, Object.keys(s.store));
  assert.equal(info.fileSize, fs.statSync(s.path).size);
  assert.equal(info.version, null);
  assert.equal(info.listeners, 2);
  assert.equal(info.durability, 'deferred');
  assert.equal(info.pendingWrites, 0);
  assert.equal(typeof info.recovery, 'object');
  off();
  assert.equal(s.getStoreInfo().listeners, 1);
  s.close();
});

test('getStoreInfo().version reads __internal__.migrations.version; clear() keeps __internal__', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  writeFile(dir, 'config.json', JSON.stringify({ __internal__: { migrations: { version: '1.2.3' } }, a: 1 }, null, '\t'));
  const s = fx.open({ cwd: dir });
  assert.equal(s.getStoreInfo().version, '1.2.3');
  assert.equal(s.get('__internal__.migrations.version'), '1.2.3');
  s.clear();
  assert.equal(s.has('a'), false);
  assert.equal(s.getStoreInfo().version, '1.2.3', 'clear() keeps __internal__ (documented deviation)');
  s.close();
});

test('flush() resolves once the file holds every change; flushSync() likewise', async t => {
  const s = fixture(t).open();
  for (let i = 0; i < 200; i++) s.set(`k${i % 20}`, { i, list: [i, i + 1] });
  s.delete('k3');
  const result = s.flush({ file: true });
  assert.ok(result instanceof Promise);
  await result;
  assert.deepEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')), plain(s));
  assert.equal(fs.readFileSync(s.path, 'utf8'), JSON.stringify(s.store, undefined, '\t'), 'electron-store bytes');
  const info = s.getStoreInfo();
  assert.equal(info.durableSeq, info.seq);
  assert.equal(info.checkpointedSeq, info.seq);
  s.set('more', true);
  s.flushSync({ file: true });
  assert.equal(JSON.parse(fs.readFileSync(s.path, 'utf8')).more, true);
  s.close();
});

test('many flush() calls in flight all resolve', async t => {
  const s = fixture(t).open();
  const pending = [];
  for (let i = 0; i < 50; i++) {
    s.set('n', i);
    pending.push(s.flush({ file: true }));
  }
  await Promise.all(pending);
  assert.equal(JSON.parse(fs.readFileSync(s.path, 'utf8')).n, 49);
  s.close();
});

// ---------------------------------------------------------------------------
// Several instances on one path
// ---------------------------------------------------------------------------

test('two instances on one path share state and both get events', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const a = fx.open({ cwd: dir });
  const b = fx.open({ cwd: dir });
  const seenA = [];
  const seenB = [];
  a.onChange('*', (n, o, k) => seenA.push([k, n, o]));
  b.onDidChange('x', (n, o) => seenB.push([n, o]));
  a.set('x', 1);
  assert.equal(b.get('x'), 1);
  b.set('x', 2);
  b.set('y', 'from-b');
  assert.deepEqual(plain(a), { x: 2, y: 'from-b' });
  assert.deepEqual(seenA, [['x', 1, undefined], ['x', 2, 1], ['y', 'from-b', undefined]]);
  assert.deepEqual(seenB, [[1, undefined], [2, 1]]);
  a.close();
  assert.equal(b.get('y'), 'from-b', 'closing one instance leaves the other working');
  b.set('z', 3);
  b.close();
  const c = fx.open({ cwd: dir });
  assert.deepEqual(plain(c), { x: 2, y: 'from-b', z: 3 });
  c.close();
});

test('instances sharing a file keep their own durability and dot-notation options', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const deferred = fx.open({ cwd: dir });
  const sync = fx.open({ cwd: dir, durability: 'sync', accessPropertiesByDotNotation: false });
  for (let i = 0; i < 20; i++) {
    sync.set('counter', i);
    const info = sync.getStoreInfo();
    assert.equal(info.durability, 'sync');
    assert.equal(info.pendingWrites, 0, 'a sync set is durable when it returns, even on a shared file');
  }
  sync.set('a.b', 'literal');
  assert.equal(sync.get('a.b'), 'literal');
  assert.equal(deferred.get('a\\.b'), 'literal', 'the literal key "a.b" as the dot-notation instance sees it');
  assert.equal(deferred.get('a'), undefined);
  deferred.set('x.y', 1);
  assert.deepEqual(deferred.get('x'), { y: 1 });
  assert.equal(sync.get('x.y'), undefined, 'no dot paths for the literal instance');
  assert.deepEqual(sync.get('x'), { y: 1 });
  deferred.close();
  sync.close();
});

test('a cwd spelled differently (trailing slash, "./") is the same store', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const a = fx.open({ cwd: dir });
  const b = fx.open({ cwd: `${dir}${path.sep}.${path.sep}` });
  assert.equal(a.path, b.path);
  a.set('x', 1);
  b.set('y', 2);
  assert.deepEqual(plain(a), { x: 1, y: 2 });
  a.close();
  b.close();
});

test('the same file reached through a symlinked cwd does not lose updates', { skip: noSymlinks() }, t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const link = `${dir}-link`;
  fs.symlinkSync(dir, link);
  t.after(() => fs.rmSync(link, { force: true }));
  const a = fx.open({ cwd: dir });
  const b = fx.open({ cwd: link });
  a.set('x', 1);
  b.set('y', 2);
  a.close();
  b.close();
  const c = fx.open({ cwd: dir });
  assert.deepEqual(plain(c), { x: 1, y: 2 });
  c.close();
});

// ---------------------------------------------------------------------------
// Durability
// ---------------------------------------------------------------------------

for (const durability of ['sync', 'deferred']) {
  test(`durability '${durability}': data survives close and reopen`, t => {
    const fx = fixture(t);
    const dir = fx.dir();
    const s = fx.open({ cwd: dir, durability });
    assert.equal(s.getStoreInfo().durability, durability);
    s.set('x', { y: [1, 2] });
    s.set('n', 1);
    s.delete('n');
    s.setMultiple({ m: 'multi', 'x.z': true });
    s.close();
    const again = fx.open({ cwd: dir, durability });
    assert.deepEqual(plain(again), { x: { y: [1, 2], z: true }, m: 'multi' });
    again.close();
    assert.deepEqual(JSON.parse(fs.readFileSync(again.path, 'utf8')), { x: { y: [1, 2], z: true }, m: 'multi' });
  });
}

test("durability 'sync': every change is durable when set() returns", t => {
  const s = fixture(t).open({ durability: 'sync' });
  s.set('a', 1);
  let info = s.getStoreInfo();
  assert.equal(info.durableSeq, info.seq);
  s.setMultiple({ b: 2, c: 3 });
  s.delete('a');
  info = s.getStoreInfo();
  assert.equal(info.durableSeq, info.seq);
  assert.equal(info.pendingWrites, 0);
  s.close();
});

test('a process that exits without close() still has its changes saved', t => {
  const fx = fixture(t);
  for (const ending of ['', 'process.exit(0);', "throw new Error('crash');"]) {
    const dir = fx.dir();
    const r = runChild(`const s = new Store({ cwd: ${JSON.stringify(dir)} });\nfor (let i = 0; i < 50; i++) s.set('k' + i, i);\n${ending}`);
    assert.notEqual(r.signal, 'SIGKILL');
    const s = fx.open({ cwd: dir });
    assert.equal(s.size, 50, `ending ${JSON.stringify(ending)}: ${r.stderr}`);
    assert.equal(s.get('k49'), 49);
    s.close();
  }
});

test('SIGKILL after flush() (deferred) or right after set() (sync) loses nothing', t => {
  const fx = fixture(t);
  const cases = [
    ["{}", "s.flush().then(() => process.kill(process.pid, 'SIGKILL'));"],
    ["{}", "s.flushSync(); process.kill(process.pid, 'SIGKILL');"],
    ["{ durability: 'sync' }", "process.kill(process.pid, 'SIGKILL');"],
  ];
  for (const [opts, ending] of cases) {
    const dir = fx.dir();
    const r = runChild(`const s = new Store({ cwd: ${JSON.stringify(dir)}, ...${opts} });\nfor (let i = 0; i < 50; i++) s.set('k' + i, { i });\n${ending}`);
    assertSelfKilled(r, `${opts} ${ending}`);
    const s = fx.open({ cwd: dir });
    assert.equal(s.size, 50, `${opts} ${ending}`);
    assert.deepEqual(s.get('k49'), { i: 49 });
    s.close();
  }
});

test('SIGKILL with deferred writes in flight leaves a prefix of the operations', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const r = runChild(`const s = new Store({ cwd: ${JSON.stringify(dir)} });\ns.set('base', 'durable'); s.flushSync();\nfor (let i = 0; i < 300; i++) s.set('k' + i, i);\nprocess.kill(process.pid, 'SIGKILL');`);
  assertSelfKilled(r);
  const s = fx.open({ cwd: dir });
  const data = plain(s);
  assert.equal(data.base, 'durable', 'the flushed change survives');
  const n = Object.keys(data).length - 1;
  const expected = { base: 'durable' };
  for (let i = 0; i < n; i++) expected[`k${i}`] = i;
  assert.deepEqual(data, expected, 'no gaps, no reordering');
  s.close();
});

// ---------------------------------------------------------------------------
// Packaging
// ---------------------------------------------------------------------------

test('CommonJS exports: the class, .Store and .default', () => {
  const mod = require('..');
  assert.equal(typeof mod, 'function');
  assert.equal(mod.Store, mod);
  assert.equal(mod.default, mod);
  assert.equal(mod, Store);
});

test('ESM: import Store from index.mjs works', t => {
  const dir = fixture(t).dir();
  const code = [
    `import Store, { Store as Named } from ${JSON.stringify(INDEX_MJS)};`,
    `const s = new Store({ cwd: ${JSON.stringify(dir)} });`,
    "s.set('esm', { ok: true });",
    'await s.flush({ file: true });',
    "console.log(JSON.stringify({ same: Store === Named, value: s.get('esm'), info: s.getStoreInfo().size }));",
    's.close();',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { same: true, value: { ok: true }, info: 1 });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), { esm: { ok: true } });
});
