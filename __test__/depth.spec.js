'use strict';

/**
 * The one nesting limit (issue 16, "hostile depth"): a document may nest
 * MAX_DEPTH levels (the top-level object is the first), the same number in
 * the JS checks and the core, at least what V8's JSON.stringify writes on any
 * Node's main thread. Through every entry point — set, set(object),
 * setMultiple, store =, defaults, IPC store-set, a file on disk, an external
 * edit, another process's journal line — a value at the limit is stored and
 * read back exactly, and one level more is a RangeError with code E_TOO_DEEP
 * that writes nothing. On the main thread and in worker threads (default and
 * small stacks). A file deeper than the limit is never wiped.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { execFileSync } = require('node:child_process');

const { fixture, captureWarnings } = require('./helpers.js');
const { registerStoreIpc } = require('../ipc');
const { MAX_DEPTH } = require('../lib/values.js');
const binding = require('../lib/loader.js');

const ROOT = path.join(__dirname, '..');
const DEADLINE = 60_000;

/** `n` nested containers (objects and arrays in turn) around `leaf`. */
function nest(n, leaf = 1) {
  let v = leaf;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

/** Nesting depth of a value (containers), without recursion. */
function depthOf(value) {
  let deepest = 0;
  const todo = [[value, 1]];
  while (todo.length > 0) {
    const [v, d] = todo.pop();
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, d);
    for (const c of Object.values(v)) todo.push([c, d + 1]);
  }
  return deepest;
}

/** JSON text of a value of any depth (the engine's JSON.stringify overflows). */
function textOf(value) {
  const { stringifyDeep } = require('../lib/values.js');
  return stringifyDeep('value', value, '', -Infinity);
}

/** A JSON text nesting `n` levels, without building the value. */
function deepText(n, leaf = '1') {
  let open = '';
  let close = '';
  for (let i = 0; i < n; i++) {
    open += i % 2 ? '[' : '{"k":';
    close = (i % 2 ? ']' : '}') + close;
  }
  return open + leaf + close;
}

function journalOf(store) {
  const file = path.join(path.dirname(store.path), 'storeHistory', `${path.basename(store.path)}.journal`);
  return fs.existsSync(file) ? fs.readFileSync(file) : null;
}

/** Asserts `fn` throws tad-store's E_TOO_DEEP (a RangeError, as V8 gives electron-store) naming `key`. */
function assertTooDeep(fn, key, what) {
  assert.throws(fn, (error) => {
    assert.equal(error.name, 'RangeError', `${what}: ${error.stack}`);
    assert.equal(error.code, 'E_TOO_DEEP', what);
    assert.match(error.message, new RegExp(`more than ${MAX_DEPTH} levels`), what);
    if (key !== undefined) assert.ok(error.message.includes(`\`${key}\``), `${what}: ${error.message}`);
    return true;
  }, what);
}

/** The store as it is, and a function asserting nothing changed since (memory, journal, file). */
function snapshotOf(store) {
  store.flushSync({ file: true });
  const text = textOf(store.store);
  const journal = journalOf(store);
  const file = fs.existsSync(store.path) ? fs.readFileSync(store.path) : null;
  return (what) => {
    assert.equal(textOf(store.store), text, `${what}: memory unchanged`);
    store.flushSync({ file: true });
    assert.deepEqual(journalOf(store), journal, `${what}: nothing journaled`);
    assert.deepEqual(fs.existsSync(store.path) ? fs.readFileSync(store.path) : null, file, `${what}: file unchanged`);
  };
}

test('one limit: the addon exports the core\'s number, and it is at least what electron-store writes on this thread', () => {
  assert.equal(MAX_DEPTH, binding.MAX_DEPTH);
  assert.ok(Number.isInteger(MAX_DEPTH) && MAX_DEPTH >= 4096, `${MAX_DEPTH}`);
  // the deepest document electron-store writes here (conf: JSON.stringify(store,
  // undefined, '\t')), from this (shallow) stack. (Node 26's V8 writes compact
  // JSON of plain data with an iterative fast path when it can; the indented
  // form always takes the recursive path.)
  let lo = 1;
  let hi = MAX_DEPTH + 1; // (deeper would only build bigger strings: one more level already fails the test)
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      JSON.stringify({ k: nest(mid - 1) }, undefined, '\t');
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  assert.ok(lo < MAX_DEPTH, `electron-store writes ${lo} levels on this thread; the store takes ${MAX_DEPTH}`);
});

test('set(): a value at the limit is stored and read back exactly; one level more is E_TOO_DEEP where conf overflows; nothing written', (t) => {
  const fx = fixture(t);
  const s = fx.open({ serialize: JSON.stringify });
  s.set('keep', 'me');
  const unchanged = snapshotOf(s);
  for (const n of [MAX_DEPTH, MAX_DEPTH + 1, 10_000, 100_000]) {
    assertTooDeep(() => s.set('k', nest(n)), 'k', `set of ${n} levels`);
    unchanged(`set of ${n} levels`);
  }
  assertTooDeep(() => s.set('a.b', nest(MAX_DEPTH - 1)), 'a.b', 'the key\'s path counts');
  assertTooDeep(() => s.set('x', { toJSON: () => nest(MAX_DEPTH) }), 'x', 'what toJSON returns counts');
  assertTooDeep(() => s.set('p'.repeat(1).concat('.p'.repeat(MAX_DEPTH)), 1), undefined, 'a scalar at a path too long');
  unchanged('path, toJSON');

  // conf (electron-store) on the main thread: V8's stack overflows, uncoded; it writes nothing either
  const conf = fx.conf();
  conf.set('keep', 'me');
  const before = fs.readFileSync(conf.path, 'utf8');
  assert.throws(() => conf.set('k', nest(10_000)), (e) => e instanceof RangeError && e.code === undefined);
  assert.equal(fs.readFileSync(conf.path, 'utf8'), before);

  // at the limit: stored, read back exactly, survives a reopen
  const deepest = nest(MAX_DEPTH - 1, 'leaf');
  s.set('k', deepest);
  s.set('a.b', nest(MAX_DEPTH - 2, 'ab'));
  s.set('d', nest(3000, new Date(0))); // Dates inside a deep value, as JSON.stringify writes them
  s.set('x', { toJSON: () => nest(MAX_DEPTH - 1, 'x') });
  assert.equal(textOf(s.get('k')), textOf(deepest));
  assert.equal(depthOf(s.store), MAX_DEPTH);
  assert.equal(textOf(s.get('d')), textOf(nest(3000, '1970-01-01T00:00:00.000Z')));
  const all = textOf(s.store);
  s.close();
  const again = fx.open({ cwd: path.dirname(s.path), serialize: JSON.stringify });
  assert.equal(textOf(again.store), all);
});

test('set(object), setMultiple, store= and defaults: at the limit, and one more level is E_TOO_DEEP with nothing written', (t) => {
  const fx = fixture(t);
  const s = fx.open({ serialize: JSON.stringify });
  s.set('keep', 'me');
  const unchanged = snapshotOf(s);
  assertTooDeep(() => s.set({ ok: 1, m: nest(MAX_DEPTH) }), 'm', 'set(object)');
  assertTooDeep(() => s.set({ ok: 1, 'm.n': nest(MAX_DEPTH - 1) }), 'm.n', 'set(object) with a path');
  assertTooDeep(() => s.setMultiple({ ok: 1, m: nest(MAX_DEPTH) }), 'm', 'setMultiple');
  assertTooDeep(() => { s.store = { ok: 1, m: nest(MAX_DEPTH) }; }, 'store', 'store =');
  unchanged('every bulk entry point');
  s.set({ m: nest(MAX_DEPTH - 1, 'set-object') });
  s.setMultiple({ n: nest(MAX_DEPTH - 1, 'multiple') });
  assert.equal(textOf(s.get('m')), textOf(nest(MAX_DEPTH - 1, 'set-object')));
  assert.equal(textOf(s.get('n')), textOf(nest(MAX_DEPTH - 1, 'multiple')));
  s.store = { whole: nest(MAX_DEPTH - 1, 'whole') };
  assert.equal(textOf(s.store), textOf({ whole: nest(MAX_DEPTH - 1, 'whole') }));

  // defaults
  const dir = fx.dir();
  assertTooDeep(() => fx.open({ cwd: dir, defaults: { d: nest(MAX_DEPTH) } }), 'defaults', 'defaults');
  assert.equal(fs.existsSync(path.join(dir, 'config.json')), false, 'no file for a refused default');
  const d = fx.open({ cwd: dir, serialize: JSON.stringify, defaults: { d: nest(MAX_DEPTH - 1, 'default') } });
  assert.equal(textOf(d.get('d')), textOf(nest(MAX_DEPTH - 1, 'default')));
  d.set('d', 0);
  d.reset('d');
  assert.equal(textOf(d.get('d')), textOf(nest(MAX_DEPTH - 1, 'default')));
  d.clear();
  assert.equal(textOf(d.store), textOf({ d: nest(MAX_DEPTH - 1, 'default') }));
});

test('change events carry deep values (onDidChange, onDidAnyChange, onChange(\'*\'))', (t) => {
  const fx = fixture(t);
  const s = fx.open({ serialize: JSON.stringify });
  s.set('k', nest(MAX_DEPTH - 1, 'old'));
  const seen = [];
  s.onDidChange('k', (n, o) => seen.push(['key', n, o]));
  s.onDidAnyChange((n, o) => seen.push(['any', n.k, o.k]));
  s.onChange('*', (n, o, k) => seen.push([`* ${k}`, n, o]));
  s.set('k', nest(MAX_DEPTH - 1, 'new'));
  s.set('k', nest(MAX_DEPTH - 1, 'new')); // equal: no event
  assert.deepEqual(seen.map(([what]) => what), ['key', 'any', '* k']);
  for (const [what, n, o] of seen) {
    assert.equal(textOf(n), textOf(nest(MAX_DEPTH - 1, 'new')), what);
    assert.equal(textOf(o), textOf(nest(MAX_DEPTH - 1, 'old')), what);
  }
});

test('IPC store-set / store-set-multiple: at the limit, and one more level is E_TOO_DEEP (not an uncoded stack overflow)', async (t) => {
  const fx = fixture(t);
  const s = fx.open({ serialize: JSON.stringify });
  const handlers = new Map();
  const ipcMain = { handle: (c, fn) => handlers.set(c, fn), removeHandler: (c) => handlers.delete(c) };
  const unregister = registerStoreIpc(ipcMain, s, { windows: () => [], maxValueBytes: 1 << 20 });
  t.after(unregister);
  const event = { sender: null, senderFrame: { url: 'app://main/index.html' } };
  const call = (channel, ...args) => handlers.get(channel)(event, ...args);
  s.set('keep', 'me');
  const unchanged = snapshotOf(s);
  for (const [channel, args, key] of [
    ['store-set', ['k', nest(MAX_DEPTH)], 'k'],
    ['store-set', ['k', nest(10_000)], 'k'],
    ['store-set-multiple', [{ k: nest(MAX_DEPTH) }], undefined],
  ]) {
    await assert.rejects(call(channel, ...args), (error) => {
      assert.equal(error.code, 'E_TOO_DEEP', `${channel}: ${error.message}`);
      assert.ok(error.message.startsWith('E_TOO_DEEP: '), 'the code survives Electron\'s error passing');
      if (key) assert.ok(error.message.includes(`\`${key}\``), error.message);
      return true;
    });
  }
  unchanged('IPC');
  assert.equal(await call('store-set', 'k', nest(MAX_DEPTH - 1, 'ipc')), true);
  assert.equal(await call('store-set-multiple', { m: nest(MAX_DEPTH - 1, 'ipc') }), true);
  assert.equal(textOf(await call('store-get', 'k')), textOf(nest(MAX_DEPTH - 1, 'ipc')));
  assert.equal(textOf(s.get('m')), textOf(nest(MAX_DEPTH - 1, 'ipc')));
});

test('a file on disk: 1,500 levels opens as conf reads it; at the limit too; deeper is E_TOO_DEEP and left untouched, or kept aside with clearInvalidConfig', (t) => {
  const fx = fixture(t);
  for (const n of [1500, MAX_DEPTH]) {
    const dir = fx.dir();
    const text = deepText(n, '"leaf"');
    fs.writeFileSync(path.join(dir, 'config.json'), text);
    const conf = fx.conf({ cwd: dir });
    const tad = fx.open({ cwd: dir });
    assert.equal(textOf(tad.store), textOf(conf.store), `${n} levels: as conf reads it`);
    assert.equal(textOf(tad.store), text);
    tad.close();
  }
  // what tad-store writes at the limit (electron-store's tab-indented format) is what conf reads
  const dir = fx.dir();
  const tad = fx.open({ cwd: dir });
  tad.set('k', nest(MAX_DEPTH - 1, 'written'));
  tad.flushSync({ file: true });
  assert.equal(textOf(fx.conf({ cwd: dir }).get('k')), textOf(nest(MAX_DEPTH - 1, 'written')));
  tad.close();

  // deeper than the limit: refused, untouched (conf opens it: a deliberate difference, see README)
  const deep = fx.dir();
  const file = path.join(deep, 'config.json');
  const past = deepText(MAX_DEPTH + 1, '"leaf"');
  fs.writeFileSync(file, past);
  assert.equal(textOf(fx.conf({ cwd: deep }).store), past);
  assertTooDeep(() => fx.open({ cwd: deep }), undefined, 'a file one level too deep');
  assert.equal(fs.readFileSync(file, 'utf8'), past, 'left untouched');
  assert.deepEqual(fs.readdirSync(deep).filter(f => f.includes('corrupt')), []);
  // clearInvalidConfig: defaults, and the file kept aside (a warning and a 'recovered' event say so)
  const { result: cleared, warnings } = captureWarnings(() => fx.open({ cwd: deep, clearInvalidConfig: true, defaults: { d: 1 } }));
  assert.deepEqual({ ...cleared.store }, { d: 1 });
  const kept = fs.readdirSync(deep).filter(f => f.startsWith('config.json.corrupt-'));
  assert.equal(kept.length, 1);
  assert.equal(fs.readFileSync(path.join(deep, kept[0]), 'utf8'), past, 'the user\'s file is kept');
  assert.ok(warnings.some(w => w.code === 'TAD_STORE_QUARANTINED' && w.message.includes(kept[0])), JSON.stringify(warnings));
});

test('an external edit (watch): at the limit it is applied with events; one level deeper is refused with E_TOO_DEEP and not applied', async (t) => {
  const fx = fixture(t);
  const s = fx.open({ watch: true, serialize: JSON.stringify });
  s.set('k', 'before');
  await s.flush();
  const seen = [];
  const invalid = [];
  let wake = () => {};
  s.onDidChange('k', (n) => { seen.push(n); wake(); });
  s.events.on('invalid-external-change', (info) => { invalid.push(info); wake(); });
  const until = (pred, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), DEADLINE);
    wake = () => { if (pred()) { clearTimeout(timer); resolve(); } };
    wake();
  });
  const save = (text) => {
    const tmp = `${s.path}.swp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, s.path);
  };
  save(`{"k":${deepText(MAX_DEPTH - 1, '"edited"')}}`);
  await until(() => seen.length === 1, 'the edit at the limit');
  assert.equal(textOf(seen[0]), textOf(nest(MAX_DEPTH - 1, 'edited')));
  save(`{"k":${deepText(MAX_DEPTH, '"too deep"')}}`);
  await until(() => invalid.length === 1, 'the deeper edit\'s refusal');
  assert.equal(invalid[0].code, 'E_TOO_DEEP');
  assert.equal(seen.length, 1, 'not applied');
  assert.equal(textOf(s.get('k')), textOf(nest(MAX_DEPTH - 1, 'edited')));
});

test('another process\'s journal line at the limit is replayed here (reload and the next write)', (t) => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, serialize: JSON.stringify });
  s.set('mine', 1);
  s.flushSync();
  const child = `
    const Store = require(${JSON.stringify(ROOT)});
    let v = 'child';
    for (let i = 0; i < ${MAX_DEPTH - 1}; i++) v = i % 2 ? [v] : { k: v };
    const s = new Store({ cwd: ${JSON.stringify(dir)}, serialize: JSON.stringify, durability: 'sync' });
    s.set('k', v);
    try { s.set('deeper', [v]); } catch (e) { process.stdout.write(e.code); }
    s.close();`;
  assert.equal(execFileSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: DEADLINE }), 'E_TOO_DEEP');
  s.reload();
  assert.equal(textOf(s.get('k')), textOf(nest(MAX_DEPTH - 1, 'child')));
  assert.equal(s.has('deeper'), false);
  s.set('mine', 2);
  s.close();
  const again = fx.open({ cwd: dir, serialize: JSON.stringify });
  assert.equal(textOf(again.get('k')), textOf(nest(MAX_DEPTH - 1, 'child')));
  assert.equal(again.get('mine'), 2);
});

/** Runs the limit's checks in a worker thread (`resourceLimits` as given). */
function inWorker(dir, resourceLimits) {
  const script = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Store = require(${JSON.stringify(ROOT)});
    const nest = (n, leaf) => { let v = leaf; for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v }; return v; };
    const out = {};
    const s = new Store({ cwd: workerData.dir, serialize: JSON.stringify, defaults: { d: nest(${MAX_DEPTH - 1}, 'default') } });
    try { s.set('k', nest(${MAX_DEPTH}, 'x')); out.past = 'no error'; } catch (e) { out.past = e.name + ' ' + e.code; }
    try { s.set('k', nest(20000, 'x')); out.far = 'no error'; } catch (e) { out.far = e.name + ' ' + e.code; }
    s.set('k', nest(${MAX_DEPTH - 1}, 'worker'));
    s.set({ m: nest(${MAX_DEPTH - 1}, 'object') });
    let got = s.get('k');
    let depth = 0;
    while (typeof got === 'object') { got = Array.isArray(got) ? got[0] : got.k; depth++; }
    out.depth = depth;
    out.leaf = got;
    s.flushSync();
    s.close();
    parentPort.postMessage(out);`;
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { eval: true, workerData: { dir }, resourceLimits });
    const timer = setTimeout(() => { w.terminate(); reject(new Error('the worker timed out')); }, DEADLINE);
    let result;
    w.on('message', (m) => { result = m; });
    w.on('error', (e) => { clearTimeout(timer); reject(e); });
    w.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && result) resolve(result);
      else reject(new Error(`the worker exited with ${code}`));
    });
  });
}

for (const [label, limits] of [['a worker thread', undefined], ['a worker thread with a 1 MB stack', { stackSizeMb: 1 }]]) {
  test(`${label}: set, set(object), defaults and get at the limit; one more level is E_TOO_DEEP`, async (t) => {
    const fx = fixture(t);
    const dir = fx.dir();
    const out = await inWorker(dir, limits);
    assert.deepEqual(out, { past: 'RangeError E_TOO_DEEP', far: 'RangeError E_TOO_DEEP', depth: MAX_DEPTH - 1, leaf: 'worker' });
    // the main thread reads what the worker wrote (file and journal)
    const s = fx.open({ cwd: dir, serialize: JSON.stringify });
    assert.equal(textOf(s.get('k')), textOf(nest(MAX_DEPTH - 1, 'worker')));
    assert.equal(textOf(s.get('m')), textOf(nest(MAX_DEPTH - 1, 'object')));
    assert.equal(textOf(s.get('d')), textOf(nest(MAX_DEPTH - 1, 'default')));
  });
}

test('the non-recursive writer gives JSON.stringify\'s text; the event helpers answer as isDeepStrictEqual and structuredClone do', () => {
  const { stringifyDeep, jsonEqual, jsonClone } = require('../lib/values.js');
  const { isDeepStrictEqual } = require('node:util');
  const { rng } = require('./helpers.js');
  const outcome = (f) => {
    try {
      return { text: f() };
    } catch (error) {
      return { error: `${error.name}: ${error.message}` };
    }
  };
  // the same text, or the same error (a toJSON that throws, say)
  const same = (value, what) => {
    assert.deepEqual(
      outcome(() => stringifyDeep('k', value, 'k', 0)),
      outcome(() => JSON.stringify({ k: value }).slice(5, -1) || undefined),
      what,
    );
  };
  // what JSON.stringify does that a naive writer would not
  class Point { constructor() { this.x = 1; } toJSON(key) { return { key, x: this.x }; } }
  const cases = [
    [new Date(0), 'a Date'],
    [{ d: new Date(1), list: [new Date(2)] }, 'Dates inside'],
    [new Point(), 'toJSON gets the property name'],
    [{ p: new Point(), list: [new Point()] }, 'toJSON in an object and an array (the index as a string)'],
    [[undefined, () => 1, Symbol('s'), 1], 'array holes for what JSON cannot hold'],
    [{ u: undefined, f() {}, s: Symbol('s'), ok: 1 }, 'members JSON cannot hold are left out'],
    [[1, , 3], 'a sparse array'], // eslint-disable-line no-sparse-arrays
    [{ n: -0, nan: NaN, inf: -Infinity, big: 1e21, small: 1e-7 }, 'numbers'],
    [{ s: 'quote " backslash \\ newline \n tab \t \u0001 \u2028 😀 \ud800 end' }, 'strings'],
    [Object.assign(Object.create(null), { a: 1 }), 'a null-prototype object'],
    [JSON.parse('{"__proto__": {"x": 1}, "a": [{"__proto__": 2}]}'), 'own "__proto__" keys'],
    [{ boxed: [new Number(1), new String('s'), new Boolean(false)] }, 'boxed primitives'], // eslint-disable-line no-new-wrappers
    [{ get g() { return { viaGetter: true }; } }, 'a getter'],
    [new Proxy({ a: 1, b: [2] }, {}), 'a proxy'],
    [{ 2: 'b', 1: 'a', x: 'c' }, 'integer keys first'],
    [{ toJSON() { return undefined; } }, 'toJSON giving undefined'],
    [{ inner: { toJSON() { return () => 1; } } }, 'toJSON giving a function'],
  ];
  for (const [value, what] of cases) same(value, what);
  for (const [a, b] of [
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }], // key order aside
    [{ a: [1, 2] }, { a: [2, 1] }],
    [{ a: {} }, { a: [] }],
    [Object.assign(Object.create(null), { a: 1 }), { a: 1 }], // prototypes count (onDidAnyChange's store copies)
    [JSON.parse('{"__proto__": 1}'), {}],
  ]) {
    assert.equal(jsonEqual(a, b), isDeepStrictEqual(a, b), JSON.stringify([a, b]));
  }
  // and random JSON-ish values
  const random = rng(20240607);
  const gen = (depth) => {
    const r = random.int(depth > 6 ? 5 : 9);
    if (r === 0) return null;
    if (r === 1) return random() < 0.5;
    if (r === 2) return random.int(2000) - 1000 + (random() < 0.3 ? random() : 0);
    if (r === 3) return String.fromCharCode(...Array.from({ length: random.int(6) }, () => random.int(0x3000)));
    if (r === 4) return random() < 0.5 ? new Date(random.int(1e12)) : undefined;
    if (r < 7) return Array.from({ length: random.int(4) }, () => gen(depth + 1));
    const o = {};
    for (let i = random.int(4); i > 0; i--) {
      const k = random.pick(['a', 'b', '0', '12', 'k.k', '__proto__', '']);
      // (as JSON.parse makes it: an own property, and sometimes, by assignment, the prototype)
      if (k === '__proto__' && random() < 0.5) Object.defineProperty(o, k, { value: gen(depth + 1), enumerable: true, writable: true, configurable: true });
      else o[k] = gen(depth + 1);
    }
    return o;
  };
  for (let i = 0; i < 2000; i++) {
    const v = gen(0);
    same(v, `random value ${i}`);
    const parsed = (x) => { const t = outcome(() => JSON.stringify(x)).text; return t === undefined ? null : JSON.parse(t); };
    const a = parsed(v);
    const b = random() < 0.2 ? parsed(v) : parsed(gen(0));
    assert.equal(jsonEqual(a, b), isDeepStrictEqual(a, b), `jsonEqual ${i}`);
    assert.equal(jsonEqual(a, JSON.parse(JSON.stringify(a))), true, `jsonEqual of a copy ${i}`);
    assert.deepStrictEqual(jsonClone(a), structuredClone(a), `jsonClone ${i}`);
  }
});
