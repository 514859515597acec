'use strict';

// electron-store 8 / conf@10.2 compatibility. Most tests are differential:
// the same operations run on conf and on tad-store, and the data (in memory)
// and the file bytes (after flushSync) must be identical.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { Store, fixture, plain, assertSame, same, rng, writeFile, captureWarnings, NO_MODES, fileMode } = require('./helpers.js');

// ---------------------------------------------------------------------------
// get / set / has / delete
// ---------------------------------------------------------------------------

test('get/set with dot paths, differential', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set('a', 1);
    s.set('b.c.d', 'deep');
    s.set('b.c.e', [1, 2]);
    s.set('b.f', { g: true });
  }
  assert.equal(tad.get('b.c.d'), 'deep');
  assert.deepEqual(tad.get('b'), { c: { d: 'deep', e: [1, 2] }, f: { g: true } });
  for (const key of ['a', 'b', 'b.c', 'b.c.d', 'b.c.e', 'b.c.e.1', 'b.f.g', 'missing', 'a.x', 'b.c.d.e']) {
    same(tad, conf, s => s.get(key), `get(${key})`);
    same(tad, conf, s => s.get(key, 'fallback'), `get(${key}, default)`);
    same(tad, conf, s => s.has(key), `has(${key})`);
  }
  assertSame(tad, conf);
  tad.close();
});

test('`\\\\.` escapes a literal dot in a key', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set('x\\.y', 1);
    s.set('host\\.name.port', 8080);
    s.set('a\\.b\\.c', 'three');
    s.set('trailing\\', 'backslash');
  }
  assert.deepEqual(plain(tad), { 'x.y': 1, 'host.name': { port: 8080 }, 'a.b.c': 'three', 'trailing\\': 'backslash' });
  assert.equal(tad.get('x\\.y'), 1);
  assert.equal(tad.get('host\\.name.port'), 8080);
  assert.equal(tad.has('x'), false);
  same(tad, conf, s => s.get('x.y'));
  same(tad, conf, s => s.has('x\\.y'));
  for (const s of [tad, conf]) s.delete('x\\.y');
  assert.equal(tad.has('x\\.y'), false);
  assertSame(tad, conf);
  tad.close();
});

test('arrays are addressed by index; set past the end fills with null', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set('list', [{ n: 'a' }, { n: 'b' }]);
    s.set('list.1.n', 'B');
    s.set('list.0.extra', true);
    s.set('list.4', 'far');
    s.set('empty', []);
    s.set('empty.2', 'x');
  }
  assert.deepEqual(tad.get('list'), [{ n: 'a', extra: true }, { n: 'B' }, null, null, 'far']);
  assert.deepEqual(tad.get('empty'), [null, null, 'x']);
  assert.equal(tad.get('list.1.n'), 'B');
  assert.equal(tad.has('list.4'), true);
  assert.equal(tad.has('list.9'), false);
  same(tad, conf, s => s.get('list.2'));
  same(tad, conf, s => s.has('list.2'));
  assertSame(tad, conf);
  tad.close();
});

test('an intermediate primitive (or null) is replaced by an object', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set('a', 'string');
    s.set('a.b.c', 1);
    s.set('n', null);
    s.set('n.x', 2);
    s.set('num', 5);
    s.set('num.y.z', 3);
    s.set('t', true);
    s.set('t.u', 4);
  }
  assert.deepEqual(plain(tad), { a: { b: { c: 1 } }, n: { x: 2 }, num: { y: { z: 3 } }, t: { u: 4 } });
  assertSame(tad, conf);
  tad.close();
});

test('set(object) sets each key (keys are dot paths), differential', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set({ a: 1, 'b.c': 2, 10: 'ten', 'd\\.e': 3 });
    s.set({ 'b.d': [1], a: { z: 1 } });
  }
  assert.deepEqual(plain(tad), { 10: 'ten', a: { z: 1 }, b: { c: 2, d: [1] }, 'd.e': 3 });
  assertSame(tad, conf);
  tad.close();
});

test('has() on present, null, nested, array and missing keys', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) s.set({ a: null, b: { c: 0, d: '' }, e: [false], f: 'str' });
  const expected = { a: true, 'a.x': false, b: true, 'b.c': true, 'b.d': true, 'b.z': false, e: true, 'e.0': true, 'e.1': false, f: true, 'f.x': false, missing: false };
  for (const [key, want] of Object.entries(expected)) {
    assert.equal(tad.has(key), want, key);
    same(tad, conf, s => s.has(key), `has(${key})`);
  }
  tad.close();
});

test('get() with a default value, differential', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) s.set({ foo: null, zero: 0, empty: '', f: false });
  for (const key of ['foo', 'foo.bar', 'zero', 'empty', 'f', 'missing', 'missing.deep']) {
    same(tad, conf, s => s.get(key, 'dflt'), `get(${key}, 'dflt')`);
  }
  assert.equal(tad.get('foo', 'dflt'), null, 'a stored null is returned, not the default');
  assert.equal(tad.get('foo.bar', 'dflt'), 'dflt');
  const dflt = { x: 1 };
  assert.equal(tad.get('nope', dflt), dflt, 'the default value itself is returned');
  tad.close();
});

test('delete: nested, array element becomes null, missing keys, through primitives', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set({ a: { b: 1, c: 2 }, arr: [1, 2, 3], p: 5, top: true });
    s.delete('a.b');
    s.delete('arr.1');
    s.delete('arr.9');
    s.delete('missing');
    s.delete('missing.deep');
    s.delete('p.q');
    s.delete('top');
  }
  assert.deepEqual(plain(tad), { a: { c: 2 }, arr: [1, null, 3], p: 5 });
  assert.equal(tad.has('top'), false);
  assertSame(tad, conf);
  tad.close();
});

// ---------------------------------------------------------------------------
// reset / clear / store / size / iteration
// ---------------------------------------------------------------------------

test('reset() restores defaults; keys without a default (or a null default) are left alone', t => {
  const defaults = { a: 1, o: { x: 1 }, n: null };
  const { tad, conf } = fixture(t).pair({ defaults });
  for (const s of [tad, conf]) {
    s.set({ a: 5, 'o.x': 9, n: 'set', other: 3 });
    s.reset('a', 'o', 'n', 'other', 'never');
  }
  assert.deepEqual(plain(tad), { a: 1, o: { x: 1 }, n: 'set', other: 3 });
  assertSame(tad, conf);
  tad.close();
});

test('clear() deletes everything but the defaults', t => {
  const defaults = { a: 1, o: { x: 1 }, n: null };
  const { tad, conf } = fixture(t).pair({ defaults });
  for (const s of [tad, conf]) {
    s.set({ a: 5, b: 2, 'o.y': 3 });
    s.clear();
  }
  assert.deepEqual(plain(tad), { a: 1, o: { x: 1 } });
  assertSame(tad, conf);
  tad.close();
});

test('clear() without defaults empties the store', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set({ a: 5, b: [2] });
    s.clear();
  }
  assert.equal(tad.size, 0);
  assertSame(tad, conf);
  tad.close();
});

test('store getter returns a null-prototype copy; setter replaces everything', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set({ a: 1, b: 2 });
    s.store = { c: { d: 3 }, 10: 'x', b: 'two' };
  }
  const st = tad.store;
  assert.equal(Object.getPrototypeOf(st), null);
  assert.deepEqual({ ...st }, { 10: 'x', b: 'two', c: { d: 3 } });
  assert.equal(tad.has('a'), false);
  assertSame(tad, conf);
  tad.close();
});

test('size and iteration', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) s.set({ z: 1, 2: [2], a: { b: 3 } });
  assert.equal(tad.size, 3);
  same(tad, conf, s => s.size);
  const entries = [...tad];
  assert.deepEqual(entries, [['2', [2]], ['z', 1], ['a', { b: 3 }]]);
  same(tad, conf, s => [...s]);
  const viaForOf = [];
  for (const [k, v] of tad) viaForOf.push(k, v);
  assert.deepEqual(viaForOf, ['2', [2], 'z', 1, 'a', { b: 3 }]);
  tad.close();
});

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

test('defaults are written to the file at construction, same bytes as conf', t => {
  const defaults = { theme: 'dark', window: { w: 800, h: 600 }, 10: [1], recent: [] };
  const { tad, conf } = fixture(t).pair({ defaults });
  assert.deepEqual(plain(tad), { 10: [1], theme: 'dark', window: { w: 800, h: 600 }, recent: [] });
  tad.flushSync({ file: true });
  assert.ok(fs.existsSync(tad.path), 'file written at construction');
  assertSame(tad, conf);
  tad.close();
});

test('defaults merge shallowly under the values already in the file', t => {
  const fx = fixture(t);
  const defaults = { window: { w: 800, h: 600 }, theme: 'dark' };
  const content = JSON.stringify({ window: { w: 1024 }, theme: 'light' }, null, '\t');
  const tadDir = fx.dir();
  const confDir = fx.dir();
  writeFile(tadDir, 'config.json', content);
  writeFile(confDir, 'config.json', content);
  const tad = fx.open({ cwd: tadDir, defaults });
  const conf = fx.conf({ cwd: confDir, defaults });
  assert.deepEqual(tad.get('window'), { w: 1024 }, 'nested default objects are not deep-merged');
  assert.equal(tad.get('theme'), 'light');
  assertSame(tad, conf);
  tad.close();
});

test('defaults missing from the file are added; key order as conf', t => {
  const fx = fixture(t);
  const defaults = { a: 0, c: 'dflt' };
  const content = '{\n\t"b": 1\n}';
  const tadDir = fx.dir();
  const confDir = fx.dir();
  writeFile(tadDir, 'config.json', content);
  writeFile(confDir, 'config.json', content);
  const tad = fx.open({ cwd: tadDir, defaults });
  const conf = fx.conf({ cwd: confDir, defaults });
  assert.deepEqual(plain(tad), { a: 0, b: 1, c: 'dflt' });
  assertSame(tad, conf);
  tad.close();
});

test('accessPropertiesByDotNotation: false makes keys literal, differential', t => {
  const { tad, conf } = fixture(t).pair({ accessPropertiesByDotNotation: false });
  for (const s of [tad, conf]) {
    s.set('a.b', 1);
    s.set('a', { b: 2 });
    s.set({ 'x.y.z': 3 });
    s.set('e\\.f', 4);
  }
  assert.deepEqual(plain(tad), { 'a.b': 1, a: { b: 2 }, 'x.y.z': 3, 'e\\.f': 4 });
  for (const key of ['a.b', 'a', 'x.y.z', 'x', 'e\\.f', 'e.f']) {
    same(tad, conf, s => s.get(key), `get(${key})`);
    same(tad, conf, s => s.has(key), `has(${key})`);
  }
  for (const s of [tad, conf]) s.delete('a.b');
  assert.deepEqual(tad.get('a'), { b: 2 });
  assertSame(tad, conf);
  tad.close();
});

test('name, fileExtension (custom and empty) and path', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const a = fx.open({ cwd: dir, name: 'settings' });
  assert.equal(a.path, path.join(dir, 'settings.json'));
  const b = fx.open({ cwd: dir, name: 'prefs', fileExtension: 'cfg' });
  assert.equal(b.path, path.join(dir, 'prefs.cfg'));
  const c = fx.open({ cwd: dir, name: 'bare', fileExtension: '' });
  assert.equal(c.path, path.join(dir, 'bare'));
  const d = fx.open({ cwd: dir });
  assert.equal(d.path, path.join(dir, 'config.json'));
  for (const s of [a, b, c, d]) {
    s.set('k', s.path);
    s.close();
  }
  for (const s of [a, b, c, d]) {
    assert.deepEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')), { k: s.path });
  }
  // same paths as conf computes
  const conf = fx.conf({ cwd: dir, name: 'bare', fileExtension: '' });
  assert.equal(conf.path, c.path);
  assert.deepEqual({ ...conf.store }, { k: c.path });
});

test('a missing cwd is created', t => {
  const fx = fixture(t);
  const cwd = path.join(fx.dir(), 'nested', 'deeper');
  const s = fx.open({ cwd });
  s.set('x', 1);
  s.close();
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(cwd, 'config.json'), 'utf8')), { x: 1 });
});

/**
 * Runs `body` as an app's main module in a fresh directory (with `pkg` as its
 * package.json, or none), with HOME and XDG_CONFIG_HOME inside it, where
 * `Store` (tad-store) and `Conf` (conf@10) are both required by the app;
 * returns what the script printed as JSON.
 */
function runApp(fx, pkg, body) {
  const dir = fx.dir();
  if (pkg) fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  const script = path.join(dir, 'app.js');
  fs.writeFileSync(script, `
    const path = require('path');
    const Store = require(${JSON.stringify(path.join(__dirname, '..'))});
    const Conf = require(${JSON.stringify(require.resolve('conf'))});
    const attempt = fn => { try { const s = fn(); const p = s.path; if (s.close) s.close(); return { path: p }; } catch (e) { return { error: e.message }; } };
    ${body}
  `);
  const out = execFileSync(process.execPath, [script], {
    cwd: dir,
    // the home directory in `dir` on every OS (Windows: USERPROFILE and APPDATA)
    env: { ...process.env, HOME: dir, USERPROFILE: dir, APPDATA: path.join(dir, 'AppData', 'Roaming'), XDG_CONFIG_HOME: path.join(dir, 'xdg') },
    encoding: 'utf8',
  });
  return { dir, out: JSON.parse(out.trim().split('\n').pop()) };
}

test("without cwd (outside Electron) the file is in env-paths' config directory of projectName / projectSuffix, as conf puts it", t => {
  const fx = fixture(t);
  const { dir, out } = runApp(fx, { name: 'app-from-package', version: '3.1.4' }, `
    const cases = [
      {}, { projectName: 'my-project' }, { projectName: 'my-project', projectSuffix: '' },
      { projectName: 'my-project', projectSuffix: 'beta' }, { projectSuffix: 'x' },
      { cwd: 'relative', projectName: '' }, { projectName: 'named', configName: 'other', fileExtension: 'cfg' },
    ];
    const results = [];
    for (const platform of ['linux', 'darwin', 'win32']) {
      Object.defineProperty(process, 'platform', { value: platform });
      for (const options of cases) {
        results.push({ platform, options, tad: attempt(() => new Store(options)), conf: attempt(() => new Conf(options)) });
      }
    }
    console.log(JSON.stringify(results));
  `);
  assert.equal(out.length, 21);
  for (const r of out) assert.deepEqual(r.tad, r.conf, `${r.platform} ${JSON.stringify(r.options)}`);
  const linux = out.filter(r => r.platform === 'linux').map(r => r.tad.path);
  assert.deepEqual(linux.slice(0, 5), [
    path.join(dir, 'xdg', 'app-from-package-nodejs', 'config.json'),
    path.join(dir, 'xdg', 'my-project-nodejs', 'config.json'),
    path.join(dir, 'xdg', 'my-project', 'config.json'),
    path.join(dir, 'xdg', 'my-project-beta', 'config.json'),
    path.join(dir, 'xdg', 'app-from-package-x', 'config.json'),
  ]);
  assert.equal(out.find(r => r.platform === 'darwin').tad.path, path.join(dir, 'Library', 'Preferences', 'app-from-package-nodejs', 'config.json'));
  assert.equal(out.find(r => r.platform === 'win32').tad.path, path.join(dir, 'AppData', 'Roaming', 'app-from-package-nodejs', 'Config', 'config.json'));
});

test('without cwd, projectName or a package.json name: conf\'s "Project name could not be inferred" error', t => {
  const fx = fixture(t);
  const noName = runApp(fx, { version: '1.0.0' }, `
    console.log(JSON.stringify([attempt(() => new Store()), attempt(() => new Conf())]));
  `).out;
  assert.deepEqual(noName[0], { error: 'Project name could not be inferred. Please specify the `projectName` option.' });
  assert.deepEqual(noName[0], noName[1]);
  const none = runApp(fx, null, `
    let code;
    try { new Store({ projectSuffix: '' }); } catch (e) { code = e.code; }
    console.log(JSON.stringify({ tad: attempt(() => new Store()), code, named: attempt(() => new Store({ projectName: 5 })) }));
  `).out;
  assert.deepEqual(none.tad, { error: 'Project name could not be inferred. Please specify the `projectName` option.' });
  assert.equal(none.code, 'E_INVALID_ARGUMENT');
  assert.deepEqual(none.named, { error: 'Expected `projectName` to be a string, got number' });
});

test('configFileMode: 0o600 by default, a custom mode is honoured', { skip: NO_MODES }, t => {
  const fx = fixture(t);
  const a = fx.open();
  a.set('secret', 'x');
  a.flushSync({ file: true });
  assert.equal(fileMode(a.path), 0o600);
  const b = fx.open({ configFileMode: 0o640 });
  b.set('x', 1);
  b.flushSync({ file: true });
  assert.equal(fileMode(b.path), 0o640);
  a.close();
  b.close();
  assert.equal(fileMode(a.path), 0o600, 'mode kept by the final write');
});

test('a looser file mode found on open is tightened', { skip: NO_MODES }, t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', '{\n\t"a": 1\n}');
  fs.chmodSync(file, 0o666);
  const s = fx.open({ cwd: dir });
  s.set('b', 2);
  s.close();
  assert.equal(fileMode(file), 0o600);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { a: 1, b: 2 });
});

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

test('get() and store return fresh copies; set() copies its input', t => {
  const s = fixture(t).open();
  s.set('o', { list: [1, 2], inner: { v: 1 } });
  const got = s.get('o');
  got.list.push(3);
  got.inner.v = 99;
  got.added = true;
  assert.deepEqual(s.get('o'), { list: [1, 2], inner: { v: 1 } });
  assert.notEqual(s.get('o'), s.get('o'));
  const whole = s.store;
  whole.o.list.length = 0;
  whole.extra = 1;
  assert.deepEqual(plain(s), { o: { list: [1, 2], inner: { v: 1 } } });
  const input = { q: [1] };
  s.set('p', input);
  input.q.push(2);
  assert.deepEqual(s.get('p'), { q: [1] });
  // get-mutate-set, as migrations do
  const cfg = s.get('o');
  cfg.inner.v = 2;
  s.set('o', cfg);
  assert.equal(s.get('o.inner.v'), 2);
  s.close();
});

test('JSON conversions: Date, nested undefined/functions, NaN/Infinity, toJSON, differential', t => {
  const { tad, conf } = fixture(t).pair();
  const when = new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123));
  for (const s of [tad, conf]) {
    s.set('date', when);
    s.set('obj', { keep: 1, gone: undefined, fn() {}, sym: Symbol('s'), d: when });
    s.set('arr', [undefined, () => 1, NaN, Infinity, -Infinity, Symbol('x')]);
    s.set('nan', NaN);
    s.set('inf', Infinity);
    s.set('custom', { toJSON: () => ({ via: 'toJSON' }) });
    s.set('boxed', [new Number(5), new String('s'), new Boolean(false)]);
    s.set('typed', new Uint8Array([1, 2]));
  }
  assert.equal(tad.get('date'), '2024-02-29T12:30:15.123Z');
  assert.deepEqual(tad.get('obj'), { keep: 1, d: '2024-02-29T12:30:15.123Z' });
  assert.deepEqual(tad.get('arr'), [null, null, null, null, null, null]);
  assert.equal(tad.get('nan'), null);
  assert.equal(tad.get('inf'), null);
  assert.deepEqual(tad.get('custom'), { via: 'toJSON' });
  assertSame(tad, conf);
  tad.close();
});

test('toJSON receives the property key, as in conf', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) s.set('name', { toJSON: key => `key:${key}` });
  assert.equal(tad.get('name'), 'key:name');
  assertSame(tad, conf);
  tad.close();
});

test('numbers serialize exactly as JSON.stringify, differential', t => {
  const { tad, conf } = fixture(t).pair();
  const numbers = {
    big: 1e21,
    sum: 0.1 + 0.2,
    negZero: -0,
    tiny: 5e-324,
    max: Number.MAX_VALUE,
    small: 1e-7,
    negSmall: -1.5e-7,
    safe: Number.MAX_SAFE_INTEGER,
    unsafe: 2 ** 64,
    neg: -123456789.125,
    exp: 123e-20,
    huge: 1e100,
    int: 42,
    fraction: 1 / 3,
  };
  for (const s of [tad, conf]) {
    for (const [k, v] of Object.entries(numbers)) s.set(k, v);
    s.set('list', Object.values(numbers));
  }
  const text = (tad.flushSync({ file: true }), fs.readFileSync(tad.path, 'utf8'));
  assert.match(text, /"big": 1e\+21/);
  assert.match(text, /"sum": 0\.30000000000000004/);
  assert.match(text, /"negZero": 0,/);
  assert.match(text, /"tiny": 5e-324/);
  assert.equal(tad.get('sum'), 0.1 + 0.2);
  assert.equal(tad.get('tiny'), 5e-324);
  assert.ok(Object.is(tad.get('negZero'), 0));
  assertSame(tad, conf);
  tad.close();
});

test('strings with control characters, U+2028/2029, quotes and unicode, differential', t => {
  const { tad, conf } = fixture(t).pair();
  const strings = {
    control: '\u0000\u0001\u0007\u001b\u001f\u007f',
    named: '\b\f\n\r\t',
    separators: 'a\u2028b\u2029c',
    quotes: '"quoted" \\back\\ /slash/',
    unicode: 'é日本語😀👩‍👩‍👧',
    empty: '',
    bmpEdge: '\uffff\ufffe\ufeff',
    pair: '\ud83d\ude00',
  };
  for (const s of [tad, conf]) {
    for (const [k, v] of Object.entries(strings)) s.set(k, v);
    s.set('nested', { list: Object.values(strings) });
  }
  for (const [k, v] of Object.entries(strings)) assert.equal(tad.get(k), v, k);
  assertSame(tad, conf);
  tad.close();
});

test('lone surrogates are stored as conf stores them', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set('lead', '\ud800');
    s.set('trail', 'x\udc00y');
  }
  assert.equal(tad.get('lead'), '\ud800');
  assert.equal(tad.get('trail'), 'x\udc00y');
  assertSame(tad, conf);
  tad.close();
});

test('integer-like, empty, unicode and odd keys keep JS key order, differential', t => {
  const { tad, conf } = fixture(t).pair();
  const keys = ['b', '10', '2', '01', '', 'é', '日本', '4294967294', '4294967295', '-1', '1.5', '1e3', ' 1', '00', '9007199254740993', 'a b', '\t', '😀'];
  for (const s of [tad, conf]) {
    for (const [i, k] of keys.entries()) s.set(k.replace(/\./g, '\\.'), i);
    s.set('obj', Object.fromEntries(keys.map((k, i) => [k, i])));
  }
  assert.equal(tad.get(''), 4);
  assert.equal(tad.get('01'), 3);
  assert.deepEqual(Object.keys(tad.store).slice(0, 3), ['2', '10', '4294967294']);
  assertSame(tad, conf);
  tad.close();
});

test('empty path segments behave as conf', t => {
  const { tad, conf } = fixture(t).pair();
  for (const s of [tad, conf]) {
    s.set('', 'root-empty');
    s.set('a..b', 1);
    s.set('.lead', 2);
    s.set('trail.', 3);
  }
  for (const key of ['', 'a..b', 'a.', '.lead', 'trail.', 'trail']) {
    same(tad, conf, s => s.get(key), `get(${JSON.stringify(key)})`);
    same(tad, conf, s => s.has(key), `has(${JSON.stringify(key)})`);
  }
  assertSame(tad, conf);
  tad.close();
});

// ---------------------------------------------------------------------------
// Change events
// ---------------------------------------------------------------------------

test('onDidChange fires synchronously with (new, old), only on a real deep change', t => {
  const s = fixture(t).open();
  s.set('a', { b: 1 });
  const calls = [];
  s.onDidChange('a', (n, o) => calls.push([n, o]));
  s.set('a', { b: 1 });
  assert.equal(calls.length, 0, 'same deep value: no event');
  s.set('a.b', 2);
  assert.deepEqual(calls, [[{ b: 2 }, { b: 1 }]], 'fired before set() returned');
  s.set('other', 1);
  assert.equal(calls.length, 1, 'unrelated key: no event');
  s.delete('a');
  assert.deepEqual(calls[1], [undefined, { b: 2 }]);
  s.set('a', 'new');
  assert.deepEqual(calls[2], ['new', undefined]);
  s.close();
});

test('onDidChange fires for parent and child key changes', t => {
  const s = fixture(t).open();
  s.set('a', { b: { c: 1 }, d: 1 });
  const parent = [];
  const child = [];
  s.onDidChange('a', (n, o) => parent.push([n, o]));
  s.onDidChange('a.b.c', (n, o) => child.push([n, o]));
  s.set('a.b.c', 2);
  assert.deepEqual(parent, [[{ b: { c: 2 }, d: 1 }, { b: { c: 1 }, d: 1 }]]);
  assert.deepEqual(child, [[2, 1]]);
  s.set('a', { b: { c: 3 } });
  assert.deepEqual(child[1], [3, 2]);
  assert.equal(parent.length, 2);
  s.set('a.d', 5);
  assert.equal(child.length, 2, 'a sibling change does not fire the child listener');
  assert.equal(parent.length, 3);
  s.store = {};
  assert.deepEqual(child[2], [undefined, 3]);
  s.close();
});

test('unsubscribe functions stop the events', t => {
  const s = fixture(t).open();
  let key = 0;
  let any = 0;
  const offKey = s.onDidChange('k', () => key++);
  const offAny = s.onDidAnyChange(() => any++);
  s.set('k', 1);
  offKey();
  offAny();
  offKey(); // twice is harmless
  s.set('k', 2);
  assert.equal(key, 1);
  assert.equal(any, 1);
  s.close();
});

test('onDidAnyChange gets (newStore, oldStore) on every real change', t => {
  const s = fixture(t).open();
  const calls = [];
  s.onDidAnyChange((n, o) => calls.push([{ ...n }, { ...o }]));
  s.set('a', 1);
  s.set('a', 1);
  s.set({ b: 2, a: 1 });
  s.delete('missing');
  s.delete('a');
  assert.deepEqual(calls, [
    [{ a: 1 }, {}],
    [{ a: 1, b: 2 }, { a: 1 }],
    [{ b: 2 }, { a: 1, b: 2 }],
  ]);
  s.close();
});

test('listeners run with `this` bound to the store', t => {
  const s = fixture(t).open();
  let self;
  let selfAny;
  s.onDidChange('a', function () {
    self = this;
  });
  s.onDidAnyChange(function () {
    selfAny = this;
  });
  s.set('a', 1);
  assert.equal(self, s);
  assert.equal(selfAny, s);
  s.close();
});

test('change events differential: same (new, old) sequence as conf', t => {
  const { tad, conf } = fixture(t).pair();
  const logs = [[], []];
  [tad, conf].forEach((s, i) => {
    const log = logs[i];
    s.onDidChange('a', (n, o) => log.push(['a', n, o]));
    s.onDidChange('a.b', (n, o) => log.push(['a.b', n, o]));
    s.onDidChange('x', (n, o) => log.push(['x', n, o]));
    s.onDidChange('arr.1', (n, o) => log.push(['arr.1', n, o]));
    s.onDidAnyChange((n, o) => log.push(['any', { ...n }, { ...o }]));
  });
  const ops = [
    s => s.set('a', 1),
    s => s.set('a', { b: 1 }),
    s => s.set('a.b', 1),
    s => s.set('a.b', 2),
    s => s.set('a.c', 3),
    s => s.set('x', [1]),
    s => s.set('x', [1]),
    s => s.set({ x: [2], y: 1 }),
    s => s.set('arr', [0, 1, 2]),
    s => s.delete('arr.1'),
    s => s.set('arr.1', 'one'),
    s => s.delete('a.b'),
    s => s.delete('nope'),
    s => { s.store = { a: 0, z: 1 }; },
    s => s.delete('a'),
    s => s.clear(),
  ];
  for (const op of ops) {
    op(tad);
    op(conf);
  }
  assert.ok(logs[0].length > 15);
  assert.deepStrictEqual(logs[0], logs[1]);
  assertSame(tad, conf);
  tad.close();
});

test('re-entrant writes from listeners: each listener sees the same (new, old) sequence as in conf', t => {
  const { tad, conf } = fixture(t).pair();
  const logs = [{}, {}];
  [tad, conf].forEach((s, i) => {
    const log = name => (n, o) => (logs[i][name] ||= []).push([n, o]);
    s.onDidChange('a', (n, o) => {
      log('a')(n, o);
      if (typeof n === 'number' && n < 3) s.set('a', n + 1); // re-entrant write of the same key
      if (n === 3) s.set('b', 'from-listener');
    });
    s.onDidChange('b', log('b'));
    s.onDidChange('x', log('x'));
    s.onDidAnyChange((n, o) => log('any')({ ...n }, { ...o }));
  });
  const ops = [s => s.set('x', 1), s => s.set('a', 1), s => { s.store = { a: 0, z: 1 }; }, s => s.delete('a')];
  for (const op of ops) {
    op(tad);
    op(conf);
  }
  assert.deepEqual(logs[0].a.map(([n]) => n), [1, 2, 3, 0, 1, 2, 3, undefined]);
  assert.deepStrictEqual(logs[0], logs[1]);
  assert.equal(tad.get('a'), undefined);
  assert.equal(tad.get('b'), 'from-listener');
  assertSame(tad, conf);
  tad.close();
});

test("events emits 'change' after a change (with change listeners present)", t => {
  const s = fixture(t).open();
  s.onDidChange('unrelated', () => {});
  let changes = 0;
  s.events.on('change', () => changes++);
  s.set('a', 1);
  assert.equal(changes, 1);
  s.set({ b: 1, c: 2 });
  assert.equal(changes, 2, 'one event for set(object)');
  s.delete('a');
  assert.equal(changes, 3);
  s.store = {};
  assert.equal(changes, 4);
  s.close();
});

test("events emits 'change' after set()/delete() even when it is the only listener", t => {
  const s = fixture(t).open();
  let changes = 0;
  s.events.on('change', () => changes++);
  s.set('a', 1);
  assert.equal(changes, 1, 'set');
  s.delete('a');
  assert.equal(changes, 2, 'delete');
  s.close();
});

test('a throwing listener does not fail the write; it is reported as a process warning', t => {
  const s = fixture(t).open();
  const after = [];
  s.onDidChange('k', () => {
    throw new Error('listener boom');
  });
  s.onDidChange('k', n => after.push(n));
  const { warnings } = captureWarnings(() => s.set('k', 1));
  assert.equal(s.get('k'), 1);
  assert.deepEqual(after, [1], 'later listeners still run');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /listener boom/);
  s.flushSync({ file: true });
  assert.deepEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')), { k: 1 });
  s.close();
});

test("a throwing listener is reported through events 'listenerError' when someone listens", t => {
  const s = fixture(t).open();
  const reported = [];
  s.events.on('listenerError', error => reported.push(error));
  s.onDidAnyChange(() => {
    throw new Error('any boom');
  });
  s.events.on('change', () => {
    throw new Error('change boom');
  });
  const { warnings } = captureWarnings(() => s.set('k', 1));
  assert.equal(s.get('k'), 1);
  assert.deepEqual(reported.map(e => e.message), ['any boom', 'change boom']);
  assert.equal(warnings.length, 0);
  s.close();
});

// ---------------------------------------------------------------------------
// Random differential runs
// ---------------------------------------------------------------------------

const SEGMENTS = ['a', 'b', '10', '2', '01', '', 'é', '日本', 'x\\.y', '0', '1', '3', 'k', '4294967295'];
const FIXED_DATE = new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 6));

function randomValue(r, depth = 0) {
  const atoms = [
    () => 1e21, () => 0.1 + 0.2, () => -0, () => 5e-324, () => Number.MAX_VALUE, () => -1e-7,
    () => 123456789012345, () => 42, () => NaN, () => Infinity, () => 2 ** 70,
    () => '', () => 'plain', () => 'sep\u2028\u2029', () => '\u0000\u0007\u001f\u007f', () => 'tab\tnl\n"q"\\',
    () => '😀é日本', () => true, () => false, () => null, () => FIXED_DATE,
  ];
  const roll = r.int(10);
  if (depth > 2 || roll < 6) return r.pick(atoms)();
  if (roll < 8) {
    const n = r.int(4);
    const out = [];
    for (let i = 0; i < n; i++) out.push(r.int(8) === 0 ? undefined : randomValue(r, depth + 1));
    return out;
  }
  const n = r.int(4);
  const out = {};
  for (let i = 0; i < n; i++) out[r.pick(SEGMENTS).replace('\\.', '.')] = r.int(10) === 0 ? undefined : randomValue(r, depth + 1);
  return out;
}

function randomPath(r) {
  const n = 1 + r.int(3);
  const segs = [];
  for (let i = 0; i < n; i++) segs.push(r.pick(SEGMENTS));
  return segs.join('.');
}

function splitPath(key) {
  const parts = key.split('.');
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i];
    while (p.endsWith('\\') && parts[i + 1] !== undefined) p = `${p.slice(0, -1)}.${parts[++i]}`;
    out.push(p);
  }
  return out;
}

/** dot-prop reads characters/length of strings (`get('s.0')`); skip those paths. */
function passesThroughString(store, key) {
  let v = store;
  for (const seg of splitPath(key)) {
    if (typeof v === 'string') return true;
    if (v === null || typeof v !== 'object') return false;
    v = v[seg];
  }
  return false;
}

function fuzz(t, { seed, steps, dot = true, defaults, reopenEvery = 0 }) {
  const fx = fixture(t);
  const opts = { accessPropertiesByDotNotation: dot, defaults };
  const tadDir = fx.dir();
  let tad = fx.open({ ...opts, cwd: tadDir });
  const conf = fx.conf({ ...opts, cwd: fx.dir() });
  const r = rng(seed);
  const key = () => (dot ? randomPath(r) : r.pick(SEGMENTS));
  const trace = [];
  for (let step = 0; step < steps; step++) {
    const roll = r.int(100);
    let op;
    let label;
    if (roll < 38) {
      const k = key();
      const v = randomValue(r);
      op = s => s.set(k, v);
      label = `set(${JSON.stringify(k)}, ${JSON.stringify(v)})`;
    } else if (roll < 48) {
      const obj = {};
      for (let i = 1 + r.int(3); i > 0; i--) obj[key()] = randomValue(r);
      op = s => s.set(obj);
      label = `set(${JSON.stringify(obj)})`;
    } else if (roll < 63) {
      const k = key();
      op = s => s.delete(k);
      label = `delete(${JSON.stringify(k)})`;
    } else if (roll < 73) {
      const k = key();
      if (dot && passesThroughString(conf.store, k)) continue;
      op = s => [s.get(k), s.get(k, 'dflt')];
      label = `get(${JSON.stringify(k)})`;
    } else if (roll < 83) {
      const k = key();
      op = s => s.has(k);
      label = `has(${JSON.stringify(k)})`;
    } else if (roll < 86) {
      op = s => s.clear();
      label = 'clear()';
    } else if (roll < 90) {
      const obj = {};
      for (let i = r.int(4); i > 0; i--) obj[r.pick(SEGMENTS)] = randomValue(r);
      op = s => {
        s.store = obj;
      };
      label = `store = ${JSON.stringify(obj)}`;
    } else if (roll < 95) {
      const k = r.pick(['a', 'k', '10', 'missing']);
      op = s => s.reset(k);
      label = `reset(${k})`;
    } else {
      op = s => [s.size, [...s]];
      label = 'size/iterate';
    }
    trace.push(label);
    const where = `seed ${seed} step ${step}: ${trace.slice(-6).join(' ; ')}`;
    same(tad, conf, op, where);
    assert.deepStrictEqual(plain(tad), plain(conf), where);
    if (step % 10 === 9) assertSame(tad, conf, where);
    if (reopenEvery && step % reopenEvery === reopenEvery - 1) {
      tad.close();
      tad = fx.open({ ...opts, cwd: tadDir });
      assertSame(tad, conf, `${where} (after reopen)`);
    }
  }
  assertSame(tad, conf, `seed ${seed} end`);
  tad.close();
}

for (const seed of [1, 2, 3, 4]) {
  test(`random differential run, dot notation (seed ${seed})`, t => {
    fuzz(t, { seed, steps: 250 });
  });
}

test('random differential run with defaults (seed 11)', t => {
  fuzz(t, { seed: 11, steps: 250, defaults: { a: { nested: [1, 2] }, k: 'dflt', 10: null } });
});

test('random differential run, accessPropertiesByDotNotation false (seed 21)', t => {
  fuzz(t, { seed: 21, steps: 250, dot: false });
});

test('random differential run, tad-store closed and reopened every 25 steps (seed 31)', t => {
  fuzz(t, { seed: 31, steps: 250, reopenEvery: 25 });
});

// ---------------------------------------------------------------------------
// Switching between conf and tad-store on one file
// ---------------------------------------------------------------------------

test('a file written by conf opens in tad-store and is left byte-identical', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const conf = fx.conf({ cwd: dir, defaults: { theme: 'dark' } });
  conf.set({ 10: [1, { a: '\u2028' }], z: 1, '': null, n: 1e21, s: '\u0007', nested: { deep: { list: [] } }, e: {} });
  const before = fs.readFileSync(conf.path);
  const tad = fx.open({ cwd: dir, defaults: { theme: 'light' } });
  assert.deepStrictEqual(plain(tad), { ...conf.store });
  assert.equal(tad.get('theme'), 'dark');
  tad.close();
  assert.ok(before.equals(fs.readFileSync(conf.path)), 'bytes unchanged after open+close without changes');
});

test('a file written by tad-store opens in conf with equal data', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const tad = fx.open({ cwd: dir });
  tad.set({ 10: [1, { a: '\u2028' }], z: 1, '': null, n: 1e21, neg: -0, s: '\u0007', 'x.y': { deep: true } });
  tad.delete('z');
  const expected = plain(tad);
  tad.close();
  const conf = fx.conf({ cwd: dir });
  assert.deepStrictEqual({ ...conf.store }, expected);
  assert.equal(conf.get('x.y.deep'), true);
});

test('switching back and forth: conf edits between tad-store sessions are kept', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  let tad = fx.open({ cwd: dir });
  tad.set({ a: 1, b: 2 });
  tad.close();
  const conf = fx.conf({ cwd: dir });
  conf.set('a', 10);
  conf.delete('b');
  tad = fx.open({ cwd: dir });
  assert.deepStrictEqual(plain(tad), { a: 10 }, 'the journal does not override the newer file');
  tad.set('c', 3);
  tad.close();
  assert.deepStrictEqual({ ...conf.store }, { a: 10, c: 3 });
});

test('a valid but hand-formatted file is not rewritten when nothing changes', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const text = '{ "a": 1.0, "b" : [1,2],\n  "c": {"d": "x"} }\n';
  const file = writeFile(dir, 'config.json', text);
  const s = fx.open({ cwd: dir });
  assert.deepStrictEqual(plain(s), { a: 1, b: [1, 2], c: { d: 'x' } });
  s.close();
  assert.equal(fs.readFileSync(file, 'utf8'), text);
});

test('odd number spellings in a loaded file are normalised like JSON.parse+stringify on the next write', t => {
  const fx = fixture(t);
  const text = '{"a":1.0,"b":1E5,"c":0.10,"d":12345678901234567890,"e":-0,"f":[1.5e-7,1e21,100000000000000000000000],"g":1e400}';
  const tadDir = fx.dir();
  const confDir = fx.dir();
  writeFile(tadDir, 'config.json', text);
  writeFile(confDir, 'config.json', text);
  const tad = fx.open({ cwd: tadDir });
  const conf = fx.conf({ cwd: confDir });
  assert.equal(tad.get('d'), 12345678901234567890);
  // 1e400 overflows: conf holds Infinity until its next write turns it into null; tad-store holds null
  for (const s of [tad, conf]) s.set('z', 1);
  assertSame(tad, conf);
  tad.close();
});

test('serialize: JSON.stringify / deserialize: JSON.parse (the seed\'s StoreManager options) are honoured natively', async t => {
  const fx = fixture(t);
  // the seed's StoreManager constructor options, as it passes them
  const seedOptions = { name: 'tad-config', fileExtension: 'json', clearInvalidConfig: false, serialize: JSON.stringify, deserialize: JSON.parse, watch: true };
  const tadDir = fx.dir();
  const confDir = fx.dir();
  const tad = new Store({ cwd: tadDir, ...seedOptions, backups: false });
  const { watch, name, ...confOptions } = seedOptions;
  const conf = fx.conf({ cwd: confDir, name, ...confOptions });
  for (const s of [tad, conf]) {
    s.set('settings', { theme: 'dark', fontSize: 14 });
    s.set('list', [1, 'two', { three: 3 }]);
  }
  tad.close();
  const tadText = fs.readFileSync(path.join(tadDir, 'tad-config.json'), 'utf8');
  const confText = fs.readFileSync(path.join(confDir, 'tad-config.json'), 'utf8');
  assert.equal(tadText, confText, 'the same compact JSON conf writes');
  assert.ok(!tadText.includes('\n'));
  // reopened, by either
  const again = new Store({ cwd: tadDir, ...seedOptions, watch: false, backups: false });
  assert.deepStrictEqual(again.get('list'), [1, 'two', { three: 3 }]);
  // a second instance asking for the default format is refused, naming the option
  assert.throws(() => new Store({ cwd: tadDir, name: 'tad-config', backups: false }), e => e.code === 'E_OPTION_CONFLICT' && /serialize/.test(e.message));
  again.close();
});

test('custom serialize / deserialize: the file is written through them, checked, and read back as conf reads it', async t => {
  const fx = fixture(t);
  // a line format: `key=<JSON>` per top-level key
  const serialize = v => Object.entries(v).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join('\n') + '\n';
  const deserialize = text => Object.fromEntries(text.split('\n').filter(Boolean).map(l => [l.slice(0, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1))]));
  const dir = fx.dir();
  const s = new Store({ cwd: dir, serialize, deserialize, backups: false });
  assert.ok(!fs.existsSync(s.path), 'an empty new store writes no file (as conf)');
  s.set('theme', 'dark');
  s.set({ list: [1, 'two'], nested: { a: { b: true } } });
  s.delete('theme');
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize(s.store), 'written on every change');
  s.close();
  // conf with the same functions reads it, and the reverse
  const conf = new (require('conf'))({ cwd: dir, serialize, deserialize });
  assert.deepEqual({ ...conf.store }, { list: [1, 'two'], nested: { a: { b: true } } });
  conf.set('fromConf', 42);
  const r = new Store({ cwd: dir, serialize, deserialize, backups: false });
  assert.equal(r.get('fromConf'), 42, 'a file changed outside the store is taken at open');
  const { entries } = await r.getHistorySummary();
  assert.equal(entries[entries.length - 1].operation, 'external-change', 'as one history entry');
  await r.rollbackToSeq(entries[entries.length - 1].seq - 1);
  assert.equal(r.get('fromConf'), undefined, 'which can be undone');
  assert.equal(fs.readFileSync(r.path, 'utf8'), serialize(r.store));
  // a serializer that does not round-trip: the file is not written, the
  // change is kept (journal), and the error is reported
  const errors = [];
  r.close();
  let broken = false;
  const lossy = v => (broken ? serialize({ ...v, extra: 1 }) : serialize(v));
  const b = new Store({ cwd: dir, serialize: lossy, deserialize, backups: false });
  b.events.on('error', e => errors.push(e));
  broken = true;
  const before = fs.readFileSync(b.path, 'utf8');
  b.set('kept', 'yes');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'E_SERIALIZE');
  assert.equal(fs.readFileSync(b.path, 'utf8'), before, 'the file was not written');
  assert.equal(b.get('kept'), 'yes');
  broken = false;
  b.set('next', 1);
  assert.equal(fs.readFileSync(b.path, 'utf8'), serialize(b.store), 'the next change writes it again');
  b.close();
  const c = new Store({ cwd: dir, serialize, deserialize, backups: false });
  assert.equal(c.get('kept'), 'yes');
  // a file deserialize cannot read: the store keeps its own copy, the file is kept aside
  c.close();
  fs.writeFileSync(path.join(dir, 'config.json'), 'garbage without equals');
  const w = captureWarnings(() => {
    const d = new Store({ cwd: dir, serialize, deserialize: text => { if (!text.includes('=')) throw new SyntaxError('bad line'); return deserialize(text); }, backups: false });
    assert.equal(d.get('kept'), 'yes');
    d.close();
  });
  assert.ok(w.warnings.some(x => /corrupt-/.test(x.message)), 'reported');
  assert.ok(fs.readdirSync(dir).some(f => f.startsWith('config.json.corrupt-')));
  // combinations that would bypass encryption or the watcher are refused
  assert.throws(() => new Store({ cwd: fx.dir(), serialize, deserialize, secretKeys: ['a'], secretKey: Buffer.alloc(32) }), { code: 'E_UNSUPPORTED' });
  assert.throws(() => new Store({ cwd: fx.dir(), serialize, deserialize, watch: true }), { code: 'E_UNSUPPORTED' });
  assert.throws(() => new Store({ cwd: fx.dir(), serialize: 'JSON' }), TypeError);
});
