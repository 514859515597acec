'use strict';

// Defaults exactly as conf 10.2 (electron-store 8) applies them, one rule per
// test, each run on conf@10 and on tad-store in the same test: the same
// operations, then the same `store` (values and key order), the same file
// bytes, the same onDidChange / onDidAnyChange calls, the same get/has.
//
// conf's rules: the `defaults` option is merged under the file's keys at
// construction only; a schema `default` is assigned by Ajv's useDefaults on
// every validation, and conf validates the whole document on every write —
// so a default comes back after delete/reset/clear/store =, defaults inside
// a default just inserted are filled, nothing is created under an absent
// parent, and none is applied under anyOf/oneOf/not (Ajv refuses those).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');

const { fixture, readBytes, writeFile } = require('./helpers.js');

// Ajv's strict-mode warnings (tuples without minItems, properties without a
// type…) go to console.warn when conf compiles a schema: not what is tested
const warn = console.warn;
test.before(() => {
  console.warn = () => {};
});
test.after(() => {
  console.warn = warn;
});

const TAB = data => JSON.stringify(data, null, '\t');

/**
 * A tad-store and a conf instance with the same options, listening the same
 * way. `check(label)` compares everything; `run(label, op)` runs `op` on both
 * (same outcome: value or error class) and then checks.
 */
function scenario(t, opts, { listen = [], files = {} } = {}) {
  const fx = fixture(t);
  const dirs = [fx.dir(), fx.dir()];
  for (const dir of dirs) for (const [name, bytes] of Object.entries(files)) writeFile(dir, name, bytes);
  const made = [];
  for (const [i, make] of [() => fx.open({ backups: false, ...opts, cwd: dirs[0] }), () => fx.conf({ ...opts, cwd: dirs[1] })].entries()) {
    try {
      made[i] = { value: make() };
    } catch (error) {
      made[i] = { error };
    }
  }
  if (made[0].error || made[1].error) {
    return { tad: made[0], conf: made[1] };
  }
  const tad = made[0].value;
  const conf = made[1].value;
  const calls = { tad: [], conf: [] };
  for (const [name, s] of [['tad', tad], ['conf', conf]]) {
    for (const key of listen) s.onDidChange(key, (n, o) => calls[name].push(['key', key, n, o]));
    s.onDidAnyChange((n, o) => calls[name].push(['any', { ...n }, { ...o }]));
  }
  const check = label => {
    assert.deepStrictEqual(Object.entries(tad.store), Object.entries(conf.store), `${label}: store (values and key order)`);
    tad.flushSync({ file: true });
    const a = readBytes(tad.path);
    const b = readBytes(conf.path);
    assert.equal(a && a.toString('utf8'), b && b.toString('utf8'), `${label}: file bytes`);
    assert.deepStrictEqual(calls.tad, calls.conf, `${label}: onDidChange/onDidAnyChange calls`);
    calls.tad.length = 0;
    calls.conf.length = 0;
  };
  const run = (label, op) => {
    let rt;
    let rc;
    try {
      rt = { value: op(tad) };
    } catch (error) {
      rt = { error };
    }
    try {
      rc = { value: op(conf) };
    } catch (error) {
      rc = { error };
    }
    if (rt.error || rc.error) {
      assert.ok(rt.error && rc.error, `${label}: tad ${rt.error ? `threw ${rt.error.message}` : 'returned'}, conf ${rc.error ? `threw ${rc.error.message}` : 'returned'}`);
      assert.equal(rt.error.constructor, rc.error.constructor, `${label}: error class`);
    } else {
      assert.deepStrictEqual(rt.value, rc.value, `${label}: result`);
    }
    check(label);
    return rt.value;
  };
  /** get/has of each key agree. */
  const probe = keys => {
    for (const k of keys) {
      assert.deepStrictEqual(tad.get(k), conf.get(k), `get(${k})`);
      assert.equal(tad.has(k), conf.has(k), `has(${k})`);
    }
  };
  return { tad, conf, check, run, probe, dirs };
}

// ---------------------------------------------------------------------------
// Nothing is created under an absent parent
// ---------------------------------------------------------------------------

test('a nested schema default under an absent parent without its own default is not created (as conf)', t => {
  const schema = { c: { type: 'object', properties: { k: { type: 'boolean', default: true } } } };
  const { run, probe, check, tad } = scenario(t, { schema }, { listen: ['c', 'c.k'] });
  check('open');
  assert.deepStrictEqual({ ...tad.store }, {});
  probe(['c', 'c.k']);
  assert.equal(tad.has('c.k'), false, 'an app testing has(c.k) takes the "not configured" branch');
  // once the parent exists, Ajv fills it
  run("set('c', {})", s => s.set('c', {}));
  probe(['c', 'c.k']);
  run("delete('c')", s => s.delete('c'));
  run("set('c.other', 1)", s => s.set('c.other', 1));
  probe(['c.k']);
});

test('deeper: a default only fills a parent that exists, at every level', t => {
  const schema = {
    a: {
      type: 'object',
      properties: {
        b: { type: 'object', properties: { c: { type: 'object', properties: { d: { default: 'deep' } } }, e: { default: 1 } } },
      },
    },
  };
  const { run, check, probe } = scenario(t, { schema }, { listen: ['a.b.c.d', 'a.b.e'] });
  check('open');
  run("set('a', {})", s => s.set('a', {}));
  run("set('a.b', {})", s => s.set('a.b', {}));
  run("set('a.b.c', {})", s => s.set('a.b.c', {}));
  probe(['a.b.c.d', 'a.b.e']);
});

// ---------------------------------------------------------------------------
// Re-application after delete / reset / clear / store = / set
// ---------------------------------------------------------------------------

test("delete() of a key with a schema default: the default comes back, in the file too", t => {
  const schema = { a: { type: 'boolean', default: true }, b: { type: 'number' } };
  const { run, probe, tad, conf } = scenario(t, { schema }, { listen: ['a'] });
  run("set('a', false)", s => s.set('a', false));
  run("set('b', 1)", s => s.set('b', 1));
  run("delete('a')", s => s.delete('a'));
  assert.equal(tad.get('a'), true);
  assert.equal(fs.readFileSync(tad.path, 'utf8'), TAB({ b: 1, a: true }), 'moved to the end, as Ajv appends it');
  assert.equal(fs.readFileSync(conf.path, 'utf8'), TAB({ b: 1, a: true }));
  probe(['a']);
  // deleting a key that already holds its default: the value stays (conf rewrites the file the same)
  run("delete('a') again", s => s.delete('a'));
});

test("the issue's example: set('a', false); delete('a') → get('a') === true and the file holds {\"a\":true}", t => {
  const { run, tad } = scenario(t, { schema: { a: { type: 'boolean', default: true } } }, { listen: ['a'] });
  run("set('a', false)", s => s.set('a', false));
  run("delete('a')", s => s.delete('a'));
  assert.equal(tad.get('a'), true);
  assert.equal(fs.readFileSync(tad.path, 'utf8'), TAB({ a: true }));
});

test("nested: delete('o.t') and set('o', {}) refill o.t; a default inside a default just inserted is filled", t => {
  const schema = { o: { type: 'object', default: {}, properties: { t: { type: 'string', default: '' } } } };
  const { run, probe, tad } = scenario(t, { schema }, { listen: ['o', 'o.t'] });
  run("set('o.t', 'X')", s => s.set('o.t', 'X'));
  run("delete('o.t')", s => s.delete('o.t'));
  assert.deepStrictEqual(tad.get('o'), { t: '' });
  run("set('o.t', 'Y')", s => s.set('o.t', 'Y'));
  run("set('o', {})", s => s.set('o', {}));
  assert.deepStrictEqual(tad.get('o'), { t: '' });
  run("set('o', {z: 1})", s => s.set('o', { z: 1 }));
  run("delete('o')", s => s.delete('o'));
  assert.deepStrictEqual(tad.get('o'), { t: '' });
  probe(['o', 'o.t', 'o.z']);
});

test('defaults inside defaults, several levels, and a default holding values of its own', t => {
  const schema = {
    o: {
      type: 'object',
      default: {},
      properties: {
        x: { type: 'object', default: {}, properties: { y: { default: { z: 1 }, properties: { w: { default: 2 } } } } },
        keep: { type: 'object', default: { mine: true }, properties: { mine: { default: false }, extra: { default: 'e' } } },
      },
    },
  };
  const { run, check, tad } = scenario(t, { schema }, { listen: ['o.x.y.w', 'o.keep'] });
  check('open');
  assert.deepStrictEqual(tad.get('o'), { x: { y: { z: 1, w: 2 } }, keep: { mine: true, extra: 'e' } });
  run("delete('o.x.y')", s => s.delete('o.x.y'));
  run("delete('o.keep.mine')", s => s.delete('o.keep.mine'));
  run("set('o.x', {y: {}})", s => s.set('o.x', { y: {} }));
});

test('reset() and clear() re-apply schema defaults (falsy ones too, in schema order) and `defaults`', t => {
  const schema = {
    zero: { type: 'number', default: 0 },
    flag: { type: 'boolean', default: false },
    o: { type: 'object', default: {}, properties: { t: { type: 'string', default: 'T' } } },
    n: { type: 'object', properties: { inner: { default: 1 } } },
  };
  const defaults = { theme: 'dark', o: { mine: 1 } };
  const { run, probe } = scenario(t, { schema, defaults }, { listen: ['zero', 'o', 'o.t', 'theme'] });
  run("set('zero', 5)", s => s.set('zero', 5));
  run("set('o.t', 'changed')", s => s.set('o.t', 'changed'));
  run("set('n', {})", s => s.set('n', {}));
  run("reset('zero', 'o', 'flag')", s => s.reset('zero', 'o', 'flag'));
  run("set('extra', 1)", s => s.set('extra', 1));
  run("delete('zero')", s => s.delete('zero'));
  probe(['zero', 'flag', 'o', 'o.t', 'o.mine', 'n', 'n.inner']);
});

test('clear() ends where conf ends: {} through the schema, then each default reset (one change here)', t => {
  const schema = { zero: { type: 'number', default: 0 }, o: { type: 'object', default: {}, properties: { t: { default: 'T' } } } };
  const defaults = { theme: 'dark', o: { mine: 1 } };
  const { tad, conf, check } = scenario(t, { schema, defaults });
  for (const s of [tad, conf]) {
    s.set('zero', 5);
    s.set('gone', true);
  }
  check('before');
  // conf's clear() is 1 + one write per default, and its listeners see each
  // intermediate state; tad-store's is one change: compared at the end only
  for (const s of [tad, conf]) s.clear();
  assert.deepStrictEqual(Object.entries(tad.store), Object.entries(conf.store));
  assert.deepStrictEqual({ ...tad.store }, { zero: 0, o: { mine: 1, t: 'T' }, theme: 'dark' });
  tad.flushSync({ file: true });
  assert.equal(fs.readFileSync(tad.path, 'utf8'), fs.readFileSync(conf.path, 'utf8'));
});

test('store = value: missing schema defaults are filled into the new document (appended, as Ajv does)', t => {
  const schema = { a: { type: 'number', default: 1 }, b: { type: 'object', default: {}, properties: { c: { default: 'c' } } } };
  const { run, tad } = scenario(t, { schema }, { listen: ['a', 'b.c'] });
  run('store = {x: 1}', s => {
    s.store = { x: 1 };
  });
  assert.deepStrictEqual(Object.keys(tad.store), ['x', 'a', 'b']);
  run('store = {b: {}, a: 2}', s => {
    s.store = { b: {}, a: 2 };
  });
  run('store = {}', s => {
    s.store = {};
  });
});

test('set(object) and setMultiple fill the defaults of every value they write', t => {
  const schema = { o: { type: 'object', properties: { t: { default: 't' } } }, p: { type: 'object', properties: { u: { default: 'u' } } } };
  const { run, tad } = scenario(t, { schema }, { listen: ['o.t', 'p.u'] });
  run('set({o: {}, p: {}})', s => s.set({ o: {}, p: {} }));
  run("set({'o.x': 1, 'q.r': 2})", s => s.set({ 'o.x': 1, 'q.r': 2 }));
  // setMultiple is tad-store's own: it is set(object) as one change
  tad.setMultiple({ p: { v: 1 } });
  assert.deepStrictEqual(tad.get('p'), { v: 1, u: 'u' });
});

test("set('a.b.c') creating a parent fills the parent's other defaults, and their listeners hear it", t => {
  const schema = { a: { type: 'object', properties: { d: { default: 1 }, b: { type: 'object', properties: { e: { default: 2 } } } } } };
  const { run, probe, tad } = scenario(t, { schema }, { listen: ['a.d', 'a.b.e', 'a.b.c', 'a'] });
  const star = [];
  tad.onChange('*', (n, o, k) => star.push([k, n, o]));
  run("set('a.b.c', 1)", s => s.set('a.b.c', 1));
  assert.deepStrictEqual({ ...tad.store }, { a: { b: { c: 1, e: 2 }, d: 1 } });
  probe(['a.d', 'a.b.e', 'a.b.c']);
  assert.deepStrictEqual(star, [['a.b.c', 1, undefined], ['a.d', 1, undefined], ['a.b.e', 2, undefined]], "onChange('*'): the key set, then what the defaults added beside it");
});

test('without dot notation: a deleted key gets its default back, listeners hear the final value', t => {
  const schema = { 'a.b': { type: 'number', default: 3 }, o: { type: 'object', properties: { t: { default: 't' } } } };
  const { run, probe } = scenario(t, { schema, accessPropertiesByDotNotation: false }, { listen: ['a.b', 'o'] });
  run("set('a.b', 9)", s => s.set('a.b', 9));
  run("delete('a.b')", s => s.delete('a.b'));
  run("set('o', {})", s => s.set('o', {}));
  probe(['a.b', 'o']);
});

// ---------------------------------------------------------------------------
// Where Ajv applies defaults: tuples, items, allOf, $ref, patterns, conditions
// ---------------------------------------------------------------------------

test('tuple items: defaults past the end; a deleted element (a hole for Ajv) gets its default back', t => {
  const schema = { t: { type: 'array', items: [{ default: 'a' }, { default: 'b' }] }, u: { type: 'array', items: [{ type: 'string' }, { default: 'second' }] } };
  const { run, probe } = scenario(t, { schema }, { listen: ['t', 't.0'] });
  run("set('t', [])", s => s.set('t', []));
  run("set('t', ['x'])", s => s.set('t', ['x']));
  run("set('t', ['x', 'y'])", s => s.set('t', ['x', 'y']));
  run("delete('t.0')", s => s.delete('t.0'));
  run("set('t.4', 'z')", s => s.set('t.4', 'z'));
  // a default after a position without one leaves a hole: conf then fails its own check
  run("set('u', [])", s => s.set('u', []));
  probe(['t', 't.0', 't.1', 'u']);
});

test('set past the end of an array, and several sets in one: holes get their tuple defaults, listeners on them hear it', t => {
  const schema = { list: { type: 'array', items: [{ default: [] }, { type: 'object' }] } };
  const { run, probe } = scenario(t, { schema }, { listen: ['list.0', 'list.1', 'list'] });
  run("set({list: [], 'list.1.extra': 1})", s => s.set({ list: [], 'list.1.extra': 1 }));
  run("delete('list.0')", s => s.delete('list.0'));
  run("set('list.0', null)", s => s.set('list.0', null));
  run("delete('list.0') of a null element", s => s.delete('list.0'));
  // without a schema: the holes a set past the end leaves are heard as conf hears them
  const plainRun = scenario(t, {}, { listen: ['arr.0', 'arr.1', 's.1'] });
  plainRun.run("set('arr', [1])", s => s.set('arr', [1]));
  plainRun.run("set('arr.3', 'x')", s => s.set('arr.3', 'x'));
  plainRun.run("set('s', 'abc')", s => s.set('s', 'abc'));
  plainRun.run("set('s.0', 1) replaces the string", s => s.set('s.0', 1));
  probe(['list', 'list.0']);
});

test('items (one schema for every element) and additionalItems fill each element that is an object', t => {
  const schema = {
    i: { type: 'array', items: { type: 'object', properties: { x: { default: 0 } } } },
    a: { type: 'array', items: [{ default: 1 }], additionalItems: { type: 'object', properties: { y: { default: 2 } } } },
  };
  const { run, probe } = scenario(t, { schema }, { listen: ['i', 'a'] });
  run("set('i', [{}, {x: 5}, {}])", s => s.set('i', [{}, { x: 5 }, {}]));
  run("set('i.3', {})", s => s.set('i.3', {}));
  run("delete('i.0.x')", s => s.delete('i.0.x'));
  run("set('a', [5, {}, {}])", s => s.set('a', [5, {}, {}]));
  run("set('a', [])", s => s.set('a', []));
  probe(['i', 'a']);
});

test('allOf, $ref (to another property), patternProperties, additionalProperties, dependencies: Ajv order', t => {
  const schema = {
    a: { type: 'object', properties: { x: { default: 1 } }, allOf: [{ properties: { y: { default: 2 } } }, { properties: { x: { default: 'ignored' }, z: { default: 3 } } }] },
    r: { $ref: '#/properties/b' },
    b: { type: 'object', properties: { d: { default: 4 } } },
    both: { type: 'object', $ref: '#/properties/b', properties: { own: { default: 'own' } } },
    pp: { type: 'object', patternProperties: { '^p': { type: 'object', properties: { x: { default: 'pp' } } } }, additionalProperties: { type: 'object', properties: { y: { default: 'ap' } } } },
    dep: { type: 'object', properties: { x: { default: 1 } }, dependencies: { x: { properties: { y: { default: 'y' } } } } },
  };
  const { run, probe } = scenario(t, { schema }, { listen: ['a', 'r', 'both', 'pp', 'dep'] });
  for (const k of ['a', 'r', 'both', 'pp', 'dep']) run(`set('${k}', {})`, s => s.set(k, {}));
  run("set('pp', {p1: {}, q: {}})", s => s.set('pp', { p1: {}, q: {} }));
  run("set('pp.p2', {})", s => s.set('pp.p2', {}));
  run("delete('pp.p1.x')", s => s.delete('pp.p1.x'));
  run("delete('a.y')", s => s.delete('a.y'));
  run("delete('dep.y')", s => s.delete('dep.y'));
  probe(['a', 'r', 'both', 'pp', 'dep']);
});

test('if/then/else: the branch the data selects when Ajv reaches it (before the object\'s own defaults)', t => {
  const schema = {
    a: {
      type: 'object',
      properties: { mode: { type: 'string' } },
      if: { properties: { mode: { const: 'dark' } }, required: ['mode'] },
      then: { properties: { contrast: { default: 'high' } } },
      else: { properties: { brightness: { default: 50 } } },
    },
  };
  const { run, probe } = scenario(t, { schema }, { listen: ['a.contrast', 'a.brightness'] });
  run("set('a', {mode: 'dark'})", s => s.set('a', { mode: 'dark' }));
  run("set('a', {})", s => s.set('a', {}));
  run("set('a.mode', 'dark')", s => s.set('a.mode', 'dark'));
  run("delete('a.contrast')", s => s.delete('a.contrast'));
  probe(['a', 'a.contrast', 'a.brightness']);
});

test('a default inside anyOf / oneOf / not: conf refuses the schema (Ajv strict mode), and so does tad-store', t => {
  for (const schema of [
    { a: { anyOf: [{ type: 'object', properties: { x: { default: 1 } } }, { type: 'string' }] } },
    { a: { oneOf: [{ type: 'object', properties: { x: { default: 1 } } }] } },
    { a: { not: { type: 'object', properties: { x: { default: 1 } } } } },
    { a: { type: 'array', contains: { type: 'object', properties: { x: { default: 1 } } } } },
  ]) {
    const { tad, conf } = scenario(t, { schema });
    assert.ok(conf.error && /default is ignored/.test(conf.error.message), `conf refuses ${JSON.stringify(schema)}`);
    assert.ok(tad.error, `tad-store refuses ${JSON.stringify(schema)}`);
    assert.ok(tad.error instanceof TypeError);
    assert.match(tad.error.message, /default is ignored/);
  }
  // the same keywords without defaults are fine on both
  const { run } = scenario(t, { schema: { a: { anyOf: [{ type: 'object', properties: { x: { type: 'number' } } }, { type: 'string' }] } } });
  run("set('a', {x: 1})", s => s.set('a', { x: 1 }));
  run("set('a', 's')", s => s.set('a', 's'));
});

test('a value of the wrong type gets no defaults, and conf and tad-store both refuse it', t => {
  const schema = { o: { type: 'object', default: {}, properties: { x: { default: 1 } } } };
  const { run } = scenario(t, { schema }, { listen: ['o'] });
  run("set('o', [1])", s => s.set('o', [1]));
  run("set('o', 'text')", s => s.set('o', 'text'));
  run("set('o', null)", s => s.set('o', null));
});

// ---------------------------------------------------------------------------
// `defaults` and schema defaults at construction
// ---------------------------------------------------------------------------

test('a new store: `defaults` merged first and winning over a schema default for the same key', t => {
  const schema = { d: { default: 2 }, s: { default: 3 }, o: { type: 'object', properties: { in: { default: 'in' } } } };
  const defaults = { d: 1, only: true, o: {} };
  const { check, tad } = scenario(t, { schema, defaults });
  check('open');
  assert.deepStrictEqual(Object.entries(tad.store), [['d', 1], ['only', true], ['o', { in: 'in' }], ['s', 3]]);
});

test('an existing file: conf reads it through Ajv first, so a schema default wins for a key the file lacks', t => {
  const schema = { d: { default: 2 }, s: { default: 3 } };
  const defaults = { d: 1, only: true };
  const { check, tad } = scenario(t, { schema, defaults }, { files: { 'config.json': TAB({ z: 0 }) } });
  check('open');
  assert.deepStrictEqual(Object.entries(tad.store), [['d', 2], ['only', true], ['z', 0], ['s', 3]]);
});

test('an existing file lacking only schema defaults: the same store; tad-store writes them at open (conf at the next change)', t => {
  const schema = { a: { type: 'number', default: 3 }, p: { type: 'object', properties: { y: { default: 7 } } } };
  const file = TAB({ p: {}, x: 1 });
  const { tad, conf, dirs, run } = scenario(t, { schema }, { files: { 'config.json': file } });
  assert.deepStrictEqual(Object.entries(tad.store), Object.entries(conf.store));
  assert.deepStrictEqual({ ...tad.store }, { p: { y: 7 }, x: 1, a: 3 });
  // conf leaves its file as it was and adds the defaults to what it reads
  assert.equal(fs.readFileSync(path.join(dirs[1], 'config.json'), 'utf8'), file);
  tad.flushSync({ file: true });
  assert.equal(fs.readFileSync(tad.path, 'utf8'), TAB({ p: { y: 7 }, x: 1, a: 3 }));
  // after the next change the files are byte-identical
  run("set('x', 2)", s => s.set('x', 2));
});

test('`defaults` are merged at construction only: a deleted `defaults` key stays deleted (no schema default)', t => {
  const { run, probe } = scenario(t, { defaults: { theme: 'dark', n: 1 } }, { listen: ['theme'] });
  run("delete('theme')", s => s.delete('theme'));
  probe(['theme']);
  run("reset('theme')", s => s.reset('theme'));
});

// ---------------------------------------------------------------------------
// Migrations, events, history
// ---------------------------------------------------------------------------

test('a migration that deletes a key with a schema default: it comes back (conf validates each write)', t => {
  const schema = { a: { type: 'number', default: 1 }, o: { type: 'object', default: {}, properties: { t: { default: 't' } } } };
  const migrations = {
    '1.0.0': store => {
      store.delete('a');
      store.set('o', {});
      store.set('extra', 'x');
    },
  };
  const files = { 'config.json': TAB({ a: 5, o: { t: 'mine' } }) };
  const { tad, conf } = scenario(t, { schema, migrations, projectVersion: '1.0.0' }, { files });
  const strip = s => Object.entries(s.store).filter(([k]) => k !== '__internal__');
  assert.deepStrictEqual(strip(tad), strip(conf));
  assert.deepStrictEqual(tad.get('a'), 1);
  assert.deepStrictEqual(tad.get('o'), { t: 't' });
});

test('events: one change per operation, with the final value (defaults included)', t => {
  const schema = { a: { type: 'boolean', default: true }, o: { type: 'object', default: {}, properties: { t: { default: '' } } } };
  const fx = fixture(t);
  const s = fx.open({ schema });
  const key = [];
  const any = [];
  const star = [];
  let changes = 0;
  s.onDidChange('a', (n, o) => key.push([n, o]));
  s.onDidAnyChange((n, o) => any.push([{ ...n }, { ...o }]));
  s.onChange('*', (n, o, k) => star.push([k, n, o]));
  s.events.on('change', () => changes++);
  s.set('a', false);
  s.delete('a');
  s.set('o', { z: 1 });
  assert.deepStrictEqual(key, [[false, true], [true, false]]);
  assert.deepStrictEqual(any.map(([n]) => n), [{ a: false, o: { t: '' } }, { o: { t: '' }, a: true }, { o: { z: 1, t: '' }, a: true }]);
  assert.deepStrictEqual(star, [['a', false, true], ['a', true, false], ['o', { z: 1, t: '' }, { t: '' }]]);
  assert.equal(changes, 3, "one 'change' event per operation");
});

test('history: the re-applied default is in the same journal entry as the change; rollback undoes both', async t => {
  const schema = { a: { type: 'boolean', default: true }, o: { type: 'object', default: {}, properties: { t: { default: '' } } } };
  const fx = fixture(t);
  const s = fx.open({ schema, backups: false });
  s.set('a', false);
  s.set('o.t', 'X');
  const { seq } = s.getStoreInfo();
  const before = Object.entries(s.store);
  s.delete('a');
  s.delete('o.t');
  await s.flush({ file: true });
  const summary = await s.getHistorySummary();
  const last = summary.entries.slice(-2);
  assert.deepStrictEqual(last.map(e => [e.operation, e.keys]), [['delete', ['a']], ['delete', ['o.t']]]);
  const journal = fs.readFileSync(path.join(path.dirname(s.path), 'storeHistory', 'config.json.journal'), 'utf8').trim().split('\n').map(l => JSON.parse(l)).filter(e => e.op === 'delete');
  assert.deepStrictEqual(journal.map(e => e.patch.map(p => [p.op, p.path])), [
    [['remove', '/a'], ['add', '/a']],
    [['remove', '/o/t'], ['add', '/o/t']],
  ]);
  await s.rollbackToSeq(seq);
  assert.deepStrictEqual(Object.entries(s.store), before);
  // the file and the journal agree after a reopen
  s.close();
  const again = fx.open({ cwd: path.dirname(s.path), schema, backups: false });
  assert.deepStrictEqual(Object.entries(again.store), before);
});

test('a transaction (migrations at open) carries the defaults its steps re-apply, as one entry', async t => {
  const schema = { a: { type: 'number', default: 1 } };
  const fx = fixture(t);
  const dir = fx.dir();
  writeFile(dir, 'config.json', TAB({ a: 5 }));
  const s = fx.open({ cwd: dir, schema, backups: false, projectVersion: '2.0.0', migrations: { '2.0.0': store => store.delete('a') } });
  assert.equal(s.get('a'), 1);
  const summary = await s.getHistorySummary();
  assert.equal(summary.entries.filter(e => e.operation === 'migration').length, 1);
});

test('several stores on one file: each re-applies its own schema defaults on its own changes', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const withDefaults = fx.open({ cwd: dir, schema: { a: { type: 'number', default: 1 } } });
  const plain = fx.open({ cwd: dir });
  withDefaults.set('a', 2);
  plain.delete('a');
  assert.equal(plain.get('a'), undefined, 'a store without the schema deletes for good');
  withDefaults.set('other', 1);
  assert.equal(withDefaults.get('a'), undefined, 'a change elsewhere does not walk the document');
  // a delete that finds nothing to delete still fills the object it names (conf validates every write)
  withDefaults.delete('a');
  assert.equal(withDefaults.get('a'), 1);
});

test('deferred and sync durability: the re-applied default is durable with the change', t => {
  for (const durability of ['deferred', 'sync']) {
    const fx = fixture(t);
    const dir = fx.dir();
    const schema = { a: { type: 'boolean', default: true } };
    const s = fx.open({ cwd: dir, schema, durability });
    s.set('a', false);
    s.delete('a');
    s.close();
    assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), TAB({ a: true }), durability);
    fs.rmSync(path.join(dir, 'config.json'));
    const rebuilt = fx.open({ cwd: dir });
    assert.equal(rebuilt.get('a'), true, `${durability}: rebuilt from the journal alone`);
  }
});

test('a schema default the schema itself refuses: both refuse the write that would re-apply it', t => {
  const schema = { n: { type: 'number', default: 'not a number' } };
  const { run } = scenario(t, { schema, defaults: { n: 5 } });
  run("set('n', 1)", s => s.set('n', 1));
  run("delete('n')", s => s.delete('n'));
});

test("rootSchema: its defaults behave as the same `schema` would on conf (conf 10 has no rootSchema)", t => {
  const properties = { a: { type: 'boolean', default: true }, o: { type: 'object', properties: { t: { default: '' } } } };
  const fx = fixture(t);
  const tad = fx.open({ rootSchema: { type: 'object', properties }, backups: false });
  const conf = fx.conf({ schema: properties });
  for (const s of [tad, conf]) {
    s.set('a', false);
    s.delete('a');
    s.set('o', {});
    s.set('c', 1);
  }
  assert.deepStrictEqual(Object.entries(tad.store), Object.entries(conf.store));
  tad.flushSync({ file: true });
  assert.equal(fs.readFileSync(tad.path, 'utf8'), fs.readFileSync(conf.path, 'utf8'));
  assert.ok(isDeepStrictEqual({ ...tad.store }, { o: { t: '' }, a: true, c: 1 }));
});

// ---------------------------------------------------------------------------
// onInvalidData: 'sanitize' refills defaults
// ---------------------------------------------------------------------------

test("sanitize refills a dropped key from `defaults`, merged first as conf merges them", t => {
  const fx = fixture(t);
  const dir = fx.dir();
  writeFile(dir, 'config.json', '{"keep":"x","other":2}');
  const s = fx.open({ cwd: dir, defaults: { keep: 1 }, schema: { keep: { type: 'number' } }, onInvalidData: 'sanitize' });
  assert.deepStrictEqual(Object.entries(s.store), [['keep', 1], ['other', 2]]);
  s.flushSync({ file: true });
  assert.equal(fs.readFileSync(s.path, 'utf8'), TAB({ keep: 1, other: 2 }));
  // what conf opens for the same file without the invalid key
  const cdir = fx.dir();
  writeFile(cdir, 'config.json', '{"other":2}');
  const conf = fx.conf({ cwd: cdir, defaults: { keep: 1 }, schema: { keep: { type: 'number' } } });
  assert.deepStrictEqual(Object.entries(conf.store), Object.entries(s.store));
});

test('sanitize: a schema default refills its key; a `defaults` value the schema refuses is dropped, not looped on', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  writeFile(dir, 'config.json', TAB({ a: 'bad', b: 'bad', o: { t: 5 }, keep: true }));
  const schema = { a: { type: 'number', default: 3 }, b: { type: 'number' }, o: { type: 'object', properties: { t: { type: 'string', default: 'fine' } } } };
  const s = fx.open({ cwd: dir, schema, defaults: { b: 'still bad' }, onInvalidData: 'sanitize' });
  assert.deepStrictEqual({ ...s.store }, { o: { t: 'fine' }, keep: true, a: 3 });
  assert.deepStrictEqual(s.validateData({ ...s.store }), { valid: true, errors: [] });
});

// ---------------------------------------------------------------------------
// Cost: a small change does not walk the document
// ---------------------------------------------------------------------------

test('a change re-applies defaults along its own path only: a document missing others is left alone', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  // 2,000 objects the schema gives defaults to, none filled (as after an external edit)
  const items = {};
  for (let i = 0; i < 2000; i++) items[`k${i}`] = {};
  const schema = { items: { type: 'object', additionalProperties: { type: 'object', properties: { d: { default: 0 } } } }, x: { type: 'number' } };
  const s = fx.open({ cwd: dir, schema });
  s.set('items', items);
  assert.equal(s.get('items.k1999.d'), 0, 'a value written is filled whole');
  // an edit through the file (no change of the store's own) removes them …
  s.close();
  writeFile(dir, 'config.json', TAB({ items, x: 0 }));
  fs.rmSync(path.join(dir, 'storeHistory'), { recursive: true, force: true });
  const plain = fx.open({ cwd: dir });
  assert.equal(plain.get('items.k0.d'), undefined);
  plain.close();
  // … then a store with the schema opens it (filled at open, as conf reads it) …
  const again = fx.open({ cwd: dir, schema });
  assert.equal(again.get('items.k5.d'), 0);
  // … and a change elsewhere, or to one item, touches only its own path
  again.close();
  writeFile(dir, 'config.json', TAB({ items, x: 0 }));
  const loose = fx.open({ cwd: dir });
  const strict = fx.open({ cwd: dir, schema });
  assert.equal(strict.get('items.k5.d'), 0, 'filled at open');
  loose.delete('items.k7.d');
  strict.set('x', 1);
  assert.equal(strict.get('items.k7.d'), undefined, 'not walked to by a change elsewhere');
  strict.set('items.k7.e', 1);
  assert.deepStrictEqual(strict.get('items.k7'), { e: 1 }, 'a value written below it is filled, the object on the way only passed through');
  strict.delete('items.k7.e');
  assert.deepStrictEqual(strict.get('items.k7'), { d: 0 }, 'an object a key is deleted from gets its defaults');
  strict.set('items.k8', {});
  assert.deepStrictEqual(strict.get('items.k8'), { d: 0 }, 'a value written is filled');
});
