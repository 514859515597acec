'use strict';

// Hostile input: wrong argument types, prototype-pollution keys, values JSON
// cannot hold, damaged files on open, and use after close. After every refused
// call the store (memory and file) must be exactly as before.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { MAX_DEPTH } = require('../lib/values.js');
const { Store, fixture, plain, writeFile, captureWarnings, same } = require('./helpers.js');

/** Opens a store with some content and returns a checker that it is unchanged. */
function seeded(t, opts = {}) {
  const fx = fixture(t);
  const s = fx.open(opts);
  s.set({ a: { b: 1, list: [1, 2] }, keep: 'me', n: null });
  s.flushSync({ file: true });
  const data = JSON.stringify(plain(s));
  const bytes = fs.readFileSync(s.path);
  const unchanged = label => {
    assert.equal(JSON.stringify(plain(s)), data, `${label}: store changed`);
    s.flushSync({ file: true });
    assert.ok(fs.readFileSync(s.path).equals(bytes), `${label}: file changed`);
  };
  return { fx, s, unchanged };
}

const describeValue = v => {
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'function';
  if (Array.isArray(v)) return 'array';
  return v === null ? 'null' : typeof v === 'object' ? 'object' : JSON.stringify(v);
};

// ---------------------------------------------------------------------------
// Wrong argument types
// ---------------------------------------------------------------------------

const NON_STRING_KEYS = [1, 0, NaN, null, undefined, true, Symbol('k'), {}, [], ['a'], () => 'a', 1n, new String('a')];

test('non-string keys are TypeErrors for get/has/delete/reset/onDidChange/onChange; nothing changes', t => {
  const { s, unchanged } = seeded(t);
  for (const key of NON_STRING_KEYS) {
    const label = describeValue(key);
    assert.throws(() => s.get(key), TypeError, `get(${label})`);
    assert.throws(() => s.has(key), TypeError, `has(${label})`);
    assert.throws(() => s.delete(key), TypeError, `delete(${label})`);
    assert.throws(() => s.reset(key), TypeError, `reset(${label})`);
    assert.throws(() => s.reset('a', key), TypeError, `reset('a', ${label})`);
    assert.throws(() => s.onDidChange(key, () => {}), TypeError, `onDidChange(${label})`);
    assert.throws(() => s.onChange(key, () => {}), TypeError, `onChange(${label})`);
  }
  assert.equal(s.getStoreInfo().listeners, 0, 'no listener registered by a refused call');
  unchanged('after bad keys');
  s.close();
});

test('set() with a key that is neither string nor object is a TypeError, as in conf', t => {
  const { s, unchanged, fx } = seeded(t);
  const conf = fx.conf();
  for (const key of [1, NaN, true, undefined, Symbol('k'), () => 'a', 1n, null]) {
    assert.throws(() => s.set(key, 1), TypeError, `set(${describeValue(key)}, 1)`);
    assert.throws(() => conf.set(key, 1), TypeError, `conf set(${describeValue(key)}, 1)`);
  }
  assert.throws(() => s.set(['a'], 1), TypeError, 'set(array)');
  unchanged('after bad set keys');
  s.close();
});

test('set(key, undefined) throws conf\'s TypeError "Use `delete()` to clear values"', t => {
  const { s, unchanged } = seeded(t);
  assert.throws(() => s.set('a', undefined), { name: 'TypeError', message: 'Use `delete()` to clear values' });
  assert.throws(() => s.set('new'), { name: 'TypeError', message: 'Use `delete()` to clear values' });
  unchanged('set undefined');
  s.close();
});

test('top-level function/symbol values throw conf\'s exact TypeError', t => {
  const { s, unchanged, fx } = seeded(t);
  const conf = fx.conf();
  const cases = [
    [() => 1, 'function'],
    [Symbol('s'), 'symbol'],
  ];
  for (const [value, type] of cases) {
    const message = `Setting a value of type \`${type}\` for key \`v\` is not allowed as it's not supported by JSON`;
    assert.throws(() => s.set('v', value), { name: 'TypeError', message });
    assert.throws(() => s.set({ ok: 1, v: value }), { name: 'TypeError', message });
    assert.throws(() => s.setMultiple({ ok: 1, v: value }), { name: 'TypeError', message });
    assert.throws(() => conf.set('v', value), { name: 'TypeError', message }, 'conf agrees');
  }
  const undefMessage = "Setting a value of type `undefined` for key `v` is not allowed as it's not supported by JSON";
  assert.throws(() => s.set({ ok: 1, v: undefined }), { name: 'TypeError', message: undefMessage });
  assert.throws(() => conf.set({ v: undefined }), { name: 'TypeError', message: undefMessage }, 'conf agrees');
  unchanged('top-level non-JSON');
  s.close();
});

test('setMultiple / store= / onDidAnyChange / callbacks with wrong types are TypeErrors', t => {
  const { s, unchanged } = seeded(t);
  for (const bad of [null, undefined, 1, 'str', true, [], [['a', 1]], Symbol('x'), () => {}, 1n]) {
    const label = describeValue(bad);
    assert.throws(() => s.setMultiple(bad), TypeError, `setMultiple(${label})`);
    assert.throws(() => {
      s.store = bad;
    }, TypeError, `store = ${label}`);
    if (typeof bad !== 'function') {
      assert.throws(() => s.onDidAnyChange(bad), TypeError, `onDidAnyChange(${label})`);
      assert.throws(() => s.onDidChange('a', bad), TypeError, `onDidChange('a', ${label})`);
      assert.throws(() => s.onChange('*', bad), TypeError, `onChange('*', ${label})`);
    }
  }
  assert.equal(s.getStoreInfo().listeners, 0);
  unchanged('after bad bulk args');
  s.close();
});

test('constructor option errors are TypeErrors and create no file', t => {
  const fx = fixture(t);
  const cases = [
    null,
    [],
    'config',
    1,
    { name: '' },
    { name: 1 },
    { fileExtension: 1 },
    { defaults: [] },
    { defaults: 1 },
    { defaults: 'x' },
    { configFileMode: -1 },
    { configFileMode: '600' },
    { configFileMode: 0o1000 },
    { configFileMode: 1.5 },
    { durability: 'fast' },
    { cwd: 1 },
    { cwd: {} },
  ];
  for (const opts of cases) {
    const dir = fx.dir();
    const full = opts !== null && typeof opts === 'object' && !Array.isArray(opts) ? { cwd: dir, ...opts } : opts;
    assert.throws(() => new Store(full), TypeError, JSON.stringify(opts));
    assert.deepEqual(fs.readdirSync(dir), [], `nothing created for ${JSON.stringify(opts)}`);
  }
});

test('defaults: null is accepted as in conf', t => {
  const fx = fixture(t);
  const conf = fx.conf({ defaults: null });
  conf.set('a', 1);
  const s = fx.open({ defaults: null });
  s.set('a', 1);
  assert.deepEqual(plain(s), { a: 1 });
  s.close();
});

// ---------------------------------------------------------------------------
// Prototype-pollution keys
// ---------------------------------------------------------------------------

const FORBIDDEN = ['__proto__', 'a.__proto__', '__proto__.polluted', 'a.constructor.b', 'constructor', 'constructor.prototype', 'prototype', 'x.prototype', 'a.b.__proto__.c'];

function assertForbidden(fn, label) {
  assert.throws(fn, e => e instanceof TypeError && e.code === 'E_FORBIDDEN_KEY', label);
}

test('forbidden segments (__proto__, constructor, prototype) are refused with E_FORBIDDEN_KEY everywhere', t => {
  const { s, unchanged } = seeded(t);
  for (const key of FORBIDDEN) {
    assertForbidden(() => s.get(key), `get(${key})`);
    assertForbidden(() => s.get(key, 'dflt'), `get(${key}, dflt)`);
    assertForbidden(() => s.set(key, { polluted: true }), `set(${key})`);
    assertForbidden(() => s.has(key), `has(${key})`);
    assertForbidden(() => s.delete(key), `delete(${key})`);
    assertForbidden(() => s.set({ ok: 1, [key]: { polluted: true } }), `set({${key}})`);
    assertForbidden(() => s.setMultiple({ ok: 1, [key]: { polluted: true } }), `setMultiple({${key}})`);
    assertForbidden(() => s.onDidChange(key, () => {}), `onDidChange(${key})`);
    assertForbidden(() => s.onChange(key, () => {}), `onChange(${key})`);
  }
  // an own "__proto__" key in the object given to set(object)
  assertForbidden(() => s.set(JSON.parse('{"ok":1,"__proto__":{"polluted":true}}')), 'set(parsed __proto__)');
  assert.equal({}.polluted, undefined);
  assert.equal(Object.prototype.polluted, undefined);
  assert.equal(s.has('ok'), false);
  unchanged('forbidden keys');
  s.close();
});

test('forbidden keys are refused with accessPropertiesByDotNotation false too; escaped dots are literal', t => {
  const { s, unchanged } = seeded(t, { accessPropertiesByDotNotation: false });
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    assertForbidden(() => s.set(key, { polluted: true }), `set(${key})`);
    assertForbidden(() => s.get(key), `get(${key})`);
  }
  unchanged('literal forbidden keys');
  s.set('a.__proto__', 1); // one literal key, not a path
  assert.equal(s.get('a.__proto__'), 1);
  assert.equal({}.polluted, undefined);
  s.close();
});

test('an escaped dot makes "a\\\\.__proto__" one ordinary segment', t => {
  const { tad, conf } = fixture(t).pair();
  for (const st of [tad, conf]) st.set('a\\.__proto__', { v: 1 });
  assert.deepEqual(plain(tad), { 'a.__proto__': { v: 1 } });
  same(tad, conf, st => st.get('a\\.__proto__'));
  assert.equal(Object.prototype.v, undefined);
  tad.close();
});

test('a "__proto__" key inside a loaded file is an own property; Object.prototype is not polluted', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const text = '{\n\t"__proto__": {\n\t\t"polluted": "top"\n\t},\n\t"a": {\n\t\t"__proto__": {\n\t\t\t"polluted": "nested"\n\t\t},\n\t\t"x": 1\n\t},\n\t"list": [\n\t\t{\n\t\t\t"__proto__": {\n\t\t\t\t"polluted": "in-array"\n\t\t\t}\n\t\t}\n\t]\n}';
  writeFile(dir, 'config.json', text);
  const s = fx.open({ cwd: dir });
  const st = s.store;
  assert.ok(Object.hasOwn(st, '__proto__'), 'top-level own property');
  assert.deepEqual(Object.keys(st), ['__proto__', 'a', 'list']);
  assert.equal(st.polluted, undefined);
  const a = s.get('a');
  assert.ok(Object.hasOwn(a, '__proto__'), 'nested own property');
  assert.equal(Object.getPrototypeOf(a), Object.prototype);
  assert.equal(a.polluted, undefined);
  assert.deepEqual(Object.keys(a), ['__proto__', 'x']);
  const item = s.get('list.0');
  assert.ok(Object.hasOwn(item, '__proto__'));
  assert.equal(item.polluted, undefined);
  assert.equal({}.polluted, undefined);
  assert.equal(Object.prototype.polluted, undefined);
  // the key survives a write and comes back the same after reopening
  s.set('other', 1);
  s.close();
  const again = fx.open({ cwd: dir });
  assert.equal(JSON.stringify(again.get('a')), '{"__proto__":{"polluted":"nested"},"x":1}');
  assert.ok(Object.hasOwn(again.store, '__proto__'));
  // conf reads the same data
  const conf = fx.conf({ cwd: dir });
  assert.equal(JSON.stringify({ ...conf.store }), JSON.stringify(plain(again)));
  again.close();
});

// ---------------------------------------------------------------------------
// Values JSON cannot hold
// ---------------------------------------------------------------------------

function circular() {
  const o = { name: 'loop' };
  o.self = o;
  return o;
}

const BAD_VALUES = [
  ['BigInt', () => 10n, /BigInt/],
  ['nested BigInt', () => ({ deep: { big: 1n } }), /BigInt.*deep\.big|deep\.big.*BigInt/],
  ['BigInt in array', () => [1, 2n], /BigInt/],
  ['circular object', circular, /circular/i],
  ['circular array', () => { const a = [1]; a.push(a); return a; }, /circular/i],
  ['Map', () => new Map([['k', 1]]), /Map/],
  ['Set', () => new Set([1]), /Set/],
  ['nested Map', () => ({ m: new Map() }), /Map/],
  ['symbol key', () => ({ [Symbol('secret')]: 1, ok: 2 }), /symbol/i],
  ['nested symbol key', () => ({ inner: { [Symbol('s')]: 1 } }), /symbol/i],
  ['toJSON returning BigInt', () => ({ toJSON: () => 1n }), /BigInt/],
];

test('BigInt, circular, Map/Set and symbol keys are TypeErrors that name the key; nothing written', t => {
  const { s, unchanged } = seeded(t);
  for (const [label, make, pattern] of BAD_VALUES) {
    assert.throws(() => s.set('val', make()), e => e instanceof TypeError && pattern.test(e.message) && e.message.includes('val'), `set: ${label}`);
    assert.throws(() => s.set('a.b', make()), e => e instanceof TypeError && e.message.includes('a.b'), `set path: ${label}`);
    assert.throws(() => s.set({ ok: 1, val: make() }), e => e instanceof TypeError && e.message.includes('val'), `set(object): ${label}`);
    assert.throws(() => s.setMultiple({ ok: 1, val: make() }), e => e instanceof TypeError && e.message.includes('val'), `setMultiple: ${label}`);
    assert.throws(() => {
      s.store = { ok: 1, val: make() };
    }, e => e instanceof TypeError && e.message.includes('val'), `store=: ${label}`);
    unchanged(label);
  }
  assert.equal(s.has('ok'), false);
  assert.equal(s.has('val'), false);
  s.close();
});

test('a shared (non-circular) reference is fine', t => {
  const { tad, conf } = fixture(t).pair();
  const shared = { v: 1 };
  for (const st of [tad, conf]) st.set('x', { a: shared, b: shared, list: [shared, shared] });
  assert.deepEqual(tad.get('x'), { a: { v: 1 }, b: { v: 1 }, list: [{ v: 1 }, { v: 1 }] });
  same(tad, conf, st => st.get('x'));
  tad.close();
});

test('a throwing getter, toJSON or Proxy trap aborts the write with the user\'s error; nothing written', t => {
  const { s, unchanged } = seeded(t);
  const hostile = [
    ['getter', () => ({ get boom() { throw new Error('getter boom'); } }), /getter boom/],
    ['toJSON', () => ({ toJSON() { throw new Error('toJSON boom'); } }), /toJSON boom/],
    ['proxy ownKeys', () => new Proxy({}, { ownKeys() { throw new Error('proxy boom'); } }), /proxy boom/],
  ];
  for (const [label, make, pattern] of hostile) {
    assert.throws(() => s.set('val', make()), pattern, `set: ${label}`);
    assert.throws(() => s.set({ ok: 1, val: make() }), pattern, `set(object): ${label}`);
    assert.throws(() => s.setMultiple({ ok: 1, val: make() }), pattern, `setMultiple: ${label}`);
    assert.throws(() => {
      s.store = { ok: 1, val: make() };
    }, pattern, `store=: ${label}`);
    unchanged(label);
  }
  assert.throws(() => s.set({ ok: 1, get later() { throw new Error('late getter'); } }), /late getter/);
  assert.equal(s.has('ok'), false, 'keys before the throwing one are not written either');
  unchanged('late getter');
  s.close();
});

test('values nested deeper than the limit are refused with E_TOO_DEEP (a RangeError); nothing written (more in depth.spec.js)', t => {
  const { s, unchanged } = seeded(t);
  const nest = depth => {
    let v = 1;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
    return v;
  };
  // past the one limit, and far past it (where V8's own JSON.stringify would overflow first)
  for (const n of [MAX_DEPTH, 100000]) {
    assert.throws(() => s.set('deep', nest(n)), { name: 'RangeError', code: 'E_TOO_DEEP' }, `${n} levels`);
    unchanged(`${n} levels`);
  }
  s.close();
});

test('__internal__ keys are refused for writes with conf\'s message', t => {
  const { s, unchanged, fx } = seeded(t);
  const message = "Please don't use the __internal__ key, as it's used to manage this module internal operations.";
  assert.throws(() => s.set('__internal__', 1), { name: 'TypeError', message });
  assert.throws(() => s.set('__internal__.migrations.version', '9.9.9'), { name: 'TypeError', message });
  assert.throws(() => s.set({ __internal__: { x: 1 } }), { name: 'TypeError', message });
  assert.throws(() => s.set({ ok: 1, __internal__: { x: 1 } }), { name: 'TypeError', message });
  assert.throws(() => s.setMultiple({ ok: 1, '__internal__.x': 1 }), { name: 'TypeError', message });
  const conf = fx.conf();
  assert.throws(() => conf.set('__internal__.x', 1), { name: 'TypeError', message }, 'conf agrees');
  unchanged('__internal__');
  s.close();
});

test('hostile listeners: throwing non-errors and closing the store mid-dispatch do not break the write', t => {
  const fx = fixture(t);
  const s = fx.open();
  s.onDidChange('k', () => {
    throw undefined; // eslint-disable-line no-throw-literal
  });
  s.onDidChange('k', () => {
    throw 'a string'; // eslint-disable-line no-throw-literal
  });
  const { warnings } = captureWarnings(() => s.set('k', 1));
  assert.equal(s.get('k'), 1);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1].message, /a string/);

  const dir = fx.dir();
  const a = fx.open({ cwd: dir });
  a.onDidChange('x', () => a.close());
  a.set('x', 'written');
  assert.equal(a.closed, true);
  const b = fx.open({ cwd: dir });
  assert.equal(b.get('x'), 'written');
  b.close();
  s.close();
});

// ---------------------------------------------------------------------------
// Damaged files on open
// ---------------------------------------------------------------------------

// (invalid UTF-8 inside a string is not damage: it opens as electron-store
// reads it, U+FFFD for each bad sequence — see differential.spec.js)
const DAMAGED = [
  ['empty', Buffer.alloc(0)],
  ['truncated JSON', Buffer.from('{\n\t"a": {\n\t\t"b": 1,\n\t\t"c": [1, 2')],
  ['zero-filled', Buffer.alloc(512)],
  ['garbage bytes', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x7b, 0xff])],
  ['top-level array', Buffer.from('[\n\t1,\n\t2\n]')],
  ['top-level string', Buffer.from('"config"')],
  ['top-level null', Buffer.from('null')],
  ['trailing garbage', Buffer.from('{"a": 1}\n}garbage')],
  ['two documents', Buffer.from('{"a": 1}{"b": 2}')],
  ['NaN literal', Buffer.from('{"a": NaN}')],
];

test('damaged files: E_CORRUPT on open with clearInvalidConfig false (default); file untouched', t => {
  const fx = fixture(t);
  for (const [label, bytes] of DAMAGED) {
    const dir = fx.dir();
    const file = writeFile(dir, 'config.json', bytes);
    const before = fs.statSync(file);
    for (const opts of [{}, { clearInvalidConfig: false, defaults: { d: 1 } }]) {
      assert.throws(() => new Store({ cwd: dir, ...opts }), e => e.code === 'E_CORRUPT' && !(e instanceof TypeError) && e.message.includes(file), label);
    }
    assert.ok(fs.readFileSync(file).equals(bytes), `${label}: bytes untouched`);
    const after = fs.statSync(file);
    assert.equal(after.ino, before.ino, `${label}: same inode`);
    assert.equal(after.mtimeMs, before.mtimeMs, `${label}: not rewritten`);
    assert.ok(!fs.readdirSync(dir).some(f => f.includes('.corrupt-')), `${label}: no quarantine without clearInvalidConfig`);
  }
});

test('damaged files: conf also refuses them (for the JSON syntax cases)', t => {
  const fx = fixture(t);
  for (const [label, bytes] of DAMAGED.filter(([l]) => ['empty', 'truncated JSON', 'zero-filled', 'trailing garbage', 'NaN literal'].includes(l))) {
    const dir = fx.dir();
    writeFile(dir, 'config.json', bytes);
    assert.throws(() => fx.conf({ cwd: dir }), SyntaxError, label);
  }
});

test('damaged files with clearInvalidConfig true: quarantined byte-identical beside, store starts from defaults', t => {
  const fx = fixture(t);
  for (const [label, bytes] of DAMAGED) {
    const dir = fx.dir();
    const file = writeFile(dir, 'config.json', bytes);
    let s;
    const { warnings } = captureWarnings(() => {
      s = fx.open({ cwd: dir, clearInvalidConfig: true, defaults: { d: 1 } });
    });
    assert.deepEqual(plain(s), { d: 1 }, `${label}: defaults only`);
    const quarantined = fs.readdirSync(dir).filter(f => /^config\.json\.corrupt-\d+$/.test(f));
    assert.equal(quarantined.length, 1, `${label}: one quarantine file`);
    const kept = path.join(dir, quarantined[0]);
    assert.ok(fs.readFileSync(kept).equals(bytes), `${label}: quarantined bytes identical`);
    assert.equal(s.getStoreInfo().recovery.quarantined, kept, `${label}: reported in getStoreInfo`);
    assert.ok(warnings.some(w => w.message.includes(kept)), `${label}: a warning names the kept file`);
    s.set('after', true);
    s.close();
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { d: 1, after: true }, `${label}: new valid file`);
    assert.ok(fs.readFileSync(kept).equals(bytes), `${label}: quarantine file still intact`);
    const again = fx.open({ cwd: dir, clearInvalidConfig: true });
    assert.deepEqual(plain(again), { d: 1, after: true });
    assert.equal(again.getStoreInfo().recovery.quarantined, null, 'a valid file is not quarantined');
    again.close();
  }
});

test('a file with only whitespace around valid JSON, or a UTF-8 BOM, still opens', t => {
  const fx = fixture(t);
  for (const text of ['  \n{"a": 1}\n\n', '\ufeff{"a": 1}']) {
    const dir = fx.dir();
    writeFile(dir, 'config.json', text);
    const s = fx.open({ cwd: dir });
    assert.equal(s.get('a'), 1);
    s.close();
  }
});

// ---------------------------------------------------------------------------
// Closed store
// ---------------------------------------------------------------------------

function assertClosed(fn, label) {
  assert.throws(fn, e => e.code === 'E_CLOSED' && !(e instanceof TypeError), label);
}

test('a closed store: every data method throws E_CLOSED; data written before close is kept', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir });
  s.set('kept', 1);
  s.close();
  assert.equal(s.closed, true);
  assertClosed(() => s.get('kept'), 'get');
  assertClosed(() => s.set('x', 1), 'set');
  assertClosed(() => s.set({ x: 1 }), 'set(object)');
  assertClosed(() => s.has('kept'), 'has');
  assertClosed(() => s.delete('kept'), 'delete');
  assertClosed(() => s.reset('kept'), 'reset');
  assertClosed(() => s.clear(), 'clear');
  assertClosed(() => s.store, 'store getter');
  assertClosed(() => {
    s.store = {};
  }, 'store setter');
  assertClosed(() => s.size, 'size');
  assertClosed(() => [...s], 'iterator');
  assertClosed(() => s.onDidChange('kept', () => {}), 'onDidChange');
  assertClosed(() => s.onDidAnyChange(() => {}), 'onDidAnyChange');
  assertClosed(() => s.getAll(), 'getAll');
  assertClosed(() => s.setMultiple({ x: 1 }), 'setMultiple');
  assertClosed(() => s.onChange('*', () => {}), 'onChange');
  assertClosed(() => s.reload(), 'reload');
  assertClosed(() => s.getStoreInfo(), 'getStoreInfo');
  await assert.rejects(s.openInEditor(), e => e.code === 'E_CLOSED', 'openInEditor');
  assert.doesNotThrow(() => s.close(), 'close() twice is harmless');
  const again = fx.open({ cwd: dir });
  assert.deepEqual(plain(again), { kept: 1 });
  again.close();
});

test('a closed store: flush() and flushSync() throw E_CLOSED too (SPEC 3: "A closed store\'s methods throw E_CLOSED")', async t => {
  const s = fixture(t).open();
  s.close();
  assertClosed(() => s.flushSync(), 'flushSync');
  await assert.rejects(s.flush(), e => e.code === 'E_CLOSED', 'flush');
});

test('a listener registered before close() is not called after it', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const a = fx.open({ cwd: dir });
  const b = fx.open({ cwd: dir });
  let calls = 0;
  a.onDidChange('k', () => calls++);
  a.onChange('*', () => calls++);
  a.close();
  b.set('k', 1);
  assert.equal(calls, 0);
  assert.equal(b.get('k'), 1);
  b.close();
});
