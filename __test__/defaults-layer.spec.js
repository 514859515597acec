'use strict';

/**
 * Defaults as a layer (issue 20, `defaultsLayer: true`): `defaults` and the
 * schema's defaults are read through, never written to the file. What the app
 * reads is compared with conf@10 doing the same thing (conf writes its
 * defaults into the file; the layer must look the same from outside the
 * file); the file's bytes are checked to hold the user's values only.
 * Several processes and renderers are real child processes.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { fixture, plain } = require('./helpers.js');
const { registerStoreIpc } = require('../ipc');
const { FakeIpcMain, openRenderer } = require('./renderer-harness.js');

const DEADLINE = 120_000;

const DEFAULTS = { n: 5, ui: { theme: 'light', size: 12, panel: { left: true } }, list: [1, 2] };
const SCHEMA = {
  n: { type: 'number' },
  ui: { type: 'object', properties: { size: { type: 'number', minimum: 6 } } },
  s: { type: 'string', default: 'schema' },
  c: { type: 'object', properties: { k: { type: 'boolean', default: true } } },
};

/** The store file's content (what the user's disk holds). */
function onDisk(store) {
  store.flushSync({ file: true });
  return fs.existsSync(store.path) ? JSON.parse(fs.readFileSync(store.path, 'utf8')) : null;
}

test('defaultsLayer is a boolean and is refused with a custom serialize', t => {
  const fx = fixture(t);
  assert.throws(() => fx.open({ defaultsLayer: 'yes' }), TypeError);
  assert.throws(() => fx.open({ defaultsLayer: true, serialize: v => JSON.stringify(v), deserialize: JSON.parse }), /defaultsLayer/);
  // off by default: electron-store's behaviour, the defaults in the file
  const s = fx.open({ defaults: { a: 1 } });
  assert.deepEqual(onDisk(s), { a: 1 });
});

test('reads look as conf@10 shows them while the file holds only the user\'s values', t => {
  const fx = fixture(t);
  const tad = fx.open({ defaultsLayer: true, defaults: DEFAULTS, schema: SCHEMA });
  const conf = fx.conf({ defaults: DEFAULTS, schema: SCHEMA });
  const check = (label, user) => {
    assert.deepStrictEqual(plain(tad), { ...conf.store }, `${label}: store`);
    assert.equal(tad.size, conf.size, `${label}: size`);
    assert.deepStrictEqual([...tad].map(([k]) => k).sort(), [...conf].map(([k]) => k).sort(), `${label}: iteration`);
    for (const k of ['n', 'ui', 'ui.theme', 'ui.size', 'ui.panel.left', 'list', 'list.0', 'list.length', 's', 'c', 'c.k', 'x', 'ui.nothing']) {
      assert.deepStrictEqual(tad.get(k), conf.get(k), `${label}: get(${k})`);
      assert.equal(tad.has(k), conf.has(k), `${label}: has(${k})`);
    }
    assert.deepStrictEqual(onDisk(tad), user, `${label}: the file`);
  };
  check('new', null);
  const both = fn => { fn(tad); fn(conf); };
  both(s => s.set('ui.theme', 'dark'));
  check('dot path', { ui: { theme: 'dark' } });
  both(s => s.set('ui.panel.right', true));
  both(s => s.set('c', {}));
  both(s => s.set('x', { y: [1, { z: null }] }));
  both(s => s.set('list', [9]));
  check('several sets', { ui: { theme: 'dark', panel: { right: true } }, c: {}, x: { y: [1, { z: null }] }, list: [9] });
  both(s => s.set({ n: 7, 'ui.size': 20 }));
  both(s => s.setMultiple ? s.setMultiple({ extra: 'e' }) : s.set({ extra: 'e' }));
  check('objects', { ui: { theme: 'dark', panel: { right: true }, size: 20 }, c: {}, x: { y: [1, { z: null }] }, list: [9], n: 7, extra: 'e' });
  // a schema default comes back after delete, in both
  both(s => s.set('s', 'mine'));
  both(s => s.delete('s'));
  both(s => s.delete('c.k'));
  // reset: the default shows
  both(s => s.reset('n', 'list', 'ui'));
  check('reset', { c: {}, x: { y: [1, { z: null }] }, extra: 'e' });
  both(s => s.clear());
  check('clear', {});
});

test('reset(key), delete(key) and clear() show the defaults; inspect(key) tells where a value comes from', t => {
  const fx = fixture(t);
  const s = fx.open({ defaultsLayer: true, defaults: DEFAULTS, schema: SCHEMA });
  s.set('n', 7);
  s.set('ui.theme', 'dark');
  assert.deepStrictEqual(s.inspect('n'), { value: 7, defaultValue: 5, userValue: 7, source: 'user' });
  assert.deepStrictEqual(s.inspect('ui'), {
    value: { theme: 'dark', size: 12, panel: { left: true } },
    defaultValue: { theme: 'light', size: 12, panel: { left: true } },
    userValue: { theme: 'dark' },
    source: 'user',
  });
  assert.deepStrictEqual(s.inspect('ui.size'), { value: 12, defaultValue: 12, userValue: undefined, source: 'default' });
  assert.deepStrictEqual(s.inspect('s'), { value: 'schema', defaultValue: 'schema', userValue: undefined, source: 'default' });
  assert.deepStrictEqual(s.inspect('none.at.all'), { value: undefined, defaultValue: undefined, userValue: undefined, source: 'none' });
  assert.throws(() => s.inspect(1), TypeError);
  // delete of a key with a default: the default shows (as conf does for a schema default)
  s.delete('n');
  assert.equal(s.get('n'), 5);
  assert.equal(s.inspect('n').source, 'default');
  // reset of a dot path
  s.reset('ui.theme');
  assert.equal(s.get('ui.theme'), 'light');
  // reset of a key without a default leaves it alone (as conf)
  s.set('free', 1);
  s.reset('free');
  assert.equal(s.get('free'), 1);
  // a key set to its default's value is the user's (kept when the default changes)
  s.set('ui.size', 12);
  assert.equal(s.inspect('ui.size').source, 'user');
  s.clear();
  assert.deepStrictEqual(plain(s), { n: 5, ui: { theme: 'light', size: 12, panel: { left: true } }, list: [1, 2], s: 'schema' });
  assert.deepStrictEqual(onDisk(s), {});
  // where the layer differs from conf (documented): an object set whole is
  // merged over its default; `store =` keeps the defaults showing
  s.set('ui', { theme: 'x' });
  assert.deepStrictEqual(s.get('ui'), { theme: 'x', size: 12, panel: { left: true } });
  s.store = { only: 1 };
  assert.equal(s.get('n'), 5);
  assert.deepStrictEqual(onDisk(s), { only: 1 });
});

test('a new app version\'s defaults show to users who never set the key; set keys keep the user\'s value', t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const v1 = new (require('..'))({ cwd, defaultsLayer: true, defaults: { a: 1, b: 1, o: { x: 1, y: 1 } } });
  v1.set('a', 10);
  v1.set('o.x', 10);
  v1.close();
  const v2 = fx.open({ cwd, defaultsLayer: true, defaults: { a: 2, b: 2, o: { x: 2, y: 2, z: 2 }, added: true } });
  assert.deepStrictEqual(plain(v2), { a: 10, b: 2, o: { x: 10, y: 2, z: 2 }, added: true });
  assert.deepStrictEqual(onDisk(v2), { a: 10, o: { x: 10 } });
});

test('the schema checks the merged view; an invalid value throws the same error as without the layer', t => {
  const fx = fixture(t);
  const rootSchema = { type: 'object', required: ['n'] };
  const s = fx.open({ defaultsLayer: true, defaults: DEFAULTS, schema: SCHEMA, rootSchema });
  const plainStore = fx.open({ defaults: DEFAULTS, schema: SCHEMA, rootSchema });
  const conf = fx.conf({ defaults: DEFAULTS, schema: SCHEMA, rootSchema });
  // `n` comes from the defaults only: the view meets `required`
  s.set('other', 1);
  for (const [k, v] of [['n', 'x'], ['ui.size', 1], ['ui', []]]) {
    const a = (() => { try { s.set(k, v); } catch (e) { return e; } })();
    const b = (() => { try { plainStore.set(k, v); } catch (e) { return e; } })();
    const c = (() => { try { conf.set(k, v); } catch (e) { return e; } })();
    assert.ok(a && b && c, `${k}: all refuse`);
    assert.equal(a.message, b.message, k);
    assert.equal(a.code, b.code, k);
    assert.equal(a.constructor, c.constructor, k);
  }
  assert.deepStrictEqual(onDisk(s), { other: 1 });
  // validateData(data): data as the user's values
  assert.deepStrictEqual(s.validateData({}), plainStore.validateData({ ...DEFAULTS, s: 'schema' }));
  // an invalid file: refused at open as without the layer
  const cwd = fx.dir();
  fs.writeFileSync(path.join(cwd, 'config.json'), JSON.stringify({ n: 'bad' }));
  assert.throws(() => fx.open({ cwd, defaultsLayer: true, defaults: DEFAULTS, schema: SCHEMA }), e => e.code === 'E_SCHEMA');
  // ...or repaired: the user's invalid value goes, the default shows
  const repaired = fx.open({ cwd, defaultsLayer: true, defaults: DEFAULTS, schema: SCHEMA, onInvalidData: 'sanitize' });
  assert.equal(repaired.get('n'), 5);
  assert.deepStrictEqual(onDisk(repaired), {});
});

test('migrations read and write the user\'s values; the defaults show after them', t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  fs.writeFileSync(path.join(cwd, 'config.json'), JSON.stringify({ oldTheme: 'dark', __internal__: { migrations: { version: '1.0.0' } } }));
  const seen = {};
  const s = fx.open({
    cwd,
    defaultsLayer: true,
    defaults: { theme: 'light', n: 5 },
    projectVersion: '2.0.0',
    migrations: {
      '2.0.0': store => {
        seen.theme = store.get('theme');
        seen.n = store.has('n');
        seen.store = { ...store.store };
        seen.size = store.size;
        store.set('theme', store.get('oldTheme'));
        store.delete('oldTheme');
      },
    },
  });
  // inside the migration: the user's values only
  assert.deepStrictEqual(seen, { theme: undefined, n: false, store: { oldTheme: 'dark', __internal__: { migrations: { version: '1.0.0' } } }, size: 2 });
  assert.equal(s.get('theme'), 'dark');
  assert.equal(s.get('n'), 5);
  assert.deepStrictEqual(onDisk(s), { __internal__: { migrations: { version: '2.0.0' } }, theme: 'dark' });
});

test('change events show what the app sees: a reset fires with the default as the new value', t => {
  const fx = fixture(t);
  const s = fx.open({ defaultsLayer: true, defaults: DEFAULTS, schema: SCHEMA });
  const key = [];
  const all = [];
  const any = [];
  s.onDidChange('ui.theme', (n, o) => key.push([n, o]));
  s.onChange('*', (n, o, k) => all.push([k, n, o]));
  s.onDidAnyChange((n, o) => any.push([n.n, o.n]));
  s.set('ui.theme', 'dark');
  s.reset('ui.theme');
  s.set('n', 6);
  s.delete('n');
  s.set('n', 5); // the default's value: nothing the app sees changes
  assert.deepStrictEqual(key, [['dark', 'light'], ['light', 'dark']]);
  // (reset('ui.theme') removed the user's whole `ui`, its only value: the change is at `ui`)
  const ui = theme => ({ theme, size: 12, panel: { left: true } });
  assert.deepStrictEqual(all, [['ui.theme', 'dark', 'light'], ['ui', ui('light'), ui('dark')], ['n', 6, 5], ['n', 5, 6]]);
  assert.equal(s.inspect('ui').source, 'default');
  assert.deepStrictEqual(any, [[5, 5], [5, 5], [6, 5], [5, 6]]);
  // update() starts from the default
  assert.equal(s.update('n', n => n + 1), 6);
  // (reset('ui.theme') removed the user's last value under `ui`: nothing of it is left)
  assert.deepStrictEqual(onDisk(s), { n: 6 });
  // a transaction sees the defaults and writes the user's values
  s.transaction(tx => { tx.set('ui.size', tx.get('ui.size') + 1); });
  assert.deepStrictEqual(s.get('ui'), { theme: 'light', size: 13, panel: { left: true } });
  assert.deepStrictEqual(onDisk(s), { n: 6, ui: { size: 13 } });
});

test('history records the user\'s changes only; a rollback restores the user\'s values under the defaults in force', async t => {
  const fx = fixture(t);
  const s = fx.open({ defaultsLayer: true, defaults: DEFAULTS, backups: false });
  s.set('n', 1);
  const first = (await s.getHistorySummary()).entries.at(-1).seq;
  s.set('ui.theme', 'dark');
  s.set('n', 2);
  const summary = await s.getHistorySummary();
  assert.ok(summary.entries.every(e => e.operation === 'set'), JSON.stringify(summary.entries));
  await s.rollbackToSeq(first);
  assert.equal(s.get('n'), 1);
  assert.equal(s.get('ui.theme'), 'light');
  assert.deepStrictEqual(onDisk(s), { n: 1 });
});

test('secretKeys: a secret with a default is not written until the user sets it, then encrypted', t => {
  const fx = fixture(t);
  const secretKey = Buffer.alloc(32, 7);
  const s = fx.open({ defaultsLayer: true, defaults: { token: 'default-token', other: 1 }, secretKeys: ['token'], secretKey });
  assert.equal(s.get('token'), 'default-token');
  s.set('other', 2);
  s.flushSync({ file: true });
  let text = fs.readFileSync(s.path, 'utf8');
  text = fs.readFileSync(s.path, 'utf8');
  assert.ok(!text.includes('default-token') && !text.includes('"token"'), text);
  s.set('token', 'user-secret');
  s.flushSync({ file: true });
  text = fs.readFileSync(s.path, 'utf8');
  assert.ok(!text.includes('user-secret') && text.includes('"token"'), text);
  assert.deepStrictEqual(s.inspect('token'), { value: 'user-secret', defaultValue: 'default-token', userValue: 'user-secret', source: 'user' });
});

test('onNewerVersion read-only: the defaults show, nothing is written', t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const file = path.join(cwd, 'config.json');
  const bytes = JSON.stringify({ a: 1, __internal__: { migrations: { version: '3.0.0' } } });
  fs.writeFileSync(file, bytes);
  const s = fx.open({ cwd, defaultsLayer: true, defaults: { a: 0, b: 2 }, projectVersion: '2.0.0', onNewerVersion: 'read-only', migrations: { '2.0.0': () => {} } });
  assert.equal(s.get('b'), 2);
  assert.equal(s.get('a'), 1);
  assert.throws(() => s.reset('a'), e => e.code === 'E_READ_ONLY');
  s.close();
  assert.equal(fs.readFileSync(file, 'utf8'), bytes);
});

test('a watched external edit that removes a user value fires with the default', async t => {
  const fx = fixture(t);
  const s = fx.open({ defaultsLayer: true, defaults: { theme: 'light' }, watch: true, backups: false });
  s.set('theme', 'dark');
  s.flushSync({ file: true });
  const fired = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no change event for the external edit')), DEADLINE);
    s.onDidChange('theme', (n, o) => { clearTimeout(timer); resolve([n, o]); });
  });
  fs.writeFileSync(s.path, JSON.stringify({ other: 1 }));
  assert.deepStrictEqual(await fired, ['light', 'dark']);
});

/** Starts layer-child.js; resolves with its lines once it printed `ready`. */
function startChild(cwd, id, count, version) {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'layer-child.js'), cwd, id, count, version], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const waitFor = word => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child ${id}: no ${word} (${out})`)), DEADLINE);
    const look = () => {
      const line = out.split('\n').find(l => l.startsWith(`${word} `));
      if (line) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(JSON.parse(line.slice(word.length + 1)));
      }
    };
    const onData = d => { out += d; look(); };
    child.stdout.on('data', onData);
    child.once('exit', code => { look(); clearTimeout(timer); reject(new Error(`child ${id} exited ${code} before ${word} (${out})`)); });
    look();
  });
  return { child, ready: waitFor('ready'), done: () => waitFor('done') };
}

test('two processes with the layer (two app versions) on one file: no update lost, no default written', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const N = 300;
  const a = startChild(cwd, 'a', N, 1);
  const b = startChild(cwd, 'b', N, 2);
  const [ra, rb] = await Promise.all([a.ready, b.ready]);
  assert.deepStrictEqual(ra, { n: 100, ui: { theme: 'light', size: 12 }, v1only: true });
  assert.deepStrictEqual(rb, { n: 100, ui: { theme: 'light', size: 14, font: 'mono' }, v2only: true });
  const doneA = a.done();
  const doneB = b.done();
  a.child.stdin.end('go\n');
  b.child.stdin.end('go\n');
  const [la, lb] = await Promise.all([doneA, doneB]);
  // each saw its own defaults under the shared user values
  assert.equal(la.v1only, true);
  assert.equal(lb.v2only, true);
  await Promise.all([a, b].map(c => (c.child.exitCode !== null ? null : new Promise(res => c.child.once('exit', res)))));
  assert.deepStrictEqual([a.child.exitCode, b.child.exitCode], [0, 0]);
  const s = fx.open({ cwd, defaultsLayer: true, defaults: { n: 100 }, backups: false });
  assert.equal(s.get('n'), 100 + 2 * N);
  assert.deepStrictEqual(onDisk(s), { n: 100 + 2 * N, seen: { a: N - 1, b: N - 1 } });
});

test('IPC: renderers see the merged view; a delete that reveals a default reaches them as the default', async t => {
  const fx = fixture(t);
  const store = fx.open({ defaultsLayer: true, defaults: DEFAULTS, schema: SCHEMA, backups: false });
  const ipcMain = new FakeIpcMain();
  const windows = [];
  registerStoreIpc(ipcMain, store, { windows: () => windows });
  const r = await openRenderer(t, ipcMain);
  windows.push({ webContents: r.wc, isDestroyed: () => r.wc.destroyed });
  await r.call('init');
  assert.deepStrictEqual(await r.call('api', 'getAll'), { ...store.store });
  assert.equal(await r.call('api', 'get', 'n'), 5);
  assert.equal(await r.call('api', 'get', 'ui.size'), 12);
  assert.equal(await r.call('api', 'has', 's'), true);
  await r.call('api', 'set', 'ui.theme', 'dark');
  assert.deepStrictEqual(await r.call('api', 'get', 'ui'), { theme: 'dark', size: 12, panel: { left: true } });
  await r.until(() => r.seen.some(c => c.key === 'ui.theme' && c.newValue === 'dark'), 'set seen');
  await r.call('api', 'delete', 'ui.theme');
  await r.until(() => r.seen.some(c => c.key === 'ui.theme' && c.newValue === 'light' && c.oldValue === 'dark'), 'the default seen');
  assert.equal(await r.call('api', 'get', 'ui.theme'), 'light');
  // the renderer client's cache follows the events: it shows the default too
  const deadline = Date.now() + DEADLINE;
  while ((await r.call('get', 'ui.theme')) !== 'light') {
    if (Date.now() > deadline) throw new Error('the renderer client never showed the default');
    await new Promise(res => setTimeout(res, 10));
  }
  // a user value over a default, then clear(): only the defaults
  store.set('n', 9);
  await r.until(() => r.seen.some(c => c.key === 'n' && c.newValue === 9 && c.oldValue === 5), 'n set');
  await r.call('api', 'clear');
  await r.until(() => r.seen.some(c => c.key === 'n' && c.newValue === 5 && c.oldValue === 9), 'n back to its default');
  assert.deepStrictEqual(await r.call('api', 'getAll'), { ...store.store });
  assert.deepStrictEqual(onDisk(store), {});
  // an invalid value from a renderer: refused as in the main process
  await assert.rejects(r.call('api', 'set', 'ui.size', 1), /must be >= 6/);
});
