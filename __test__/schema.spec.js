'use strict';

// Schema validation: `schema` (electron-store's properties map) and
// `rootSchema`, Ajv messages compared with conf@10, schema defaults,
// validateData(), and `onInvalidData` ('throw' / 'sanitize') on open.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { Store, fixture, plain, readBytes, writeFile } = require('./helpers.js');

const TAB = data => JSON.stringify(data, null, '\t');

/** The message conf@10 throws for `op`, or null when it does not throw. */
function confMessage(conf, op) {
  try {
    op(conf);
  } catch (error) {
    return error.message;
  }
  return null;
}

const isSchemaError = message => error => {
  assert.equal(error.code, 'E_SCHEMA');
  assert.ok(error instanceof Error);
  if (message !== undefined) assert.equal(error.message, message);
  return true;
};

// ---------------------------------------------------------------------------
// Ajv wording, compared with conf
// ---------------------------------------------------------------------------

const KEYWORD_SCHEMA = {
  foo: { type: 'object', properties: { bar: { type: 'number' } } },
  e: { enum: ['a', 'b'] },
  c: { const: 5 },
  n: { type: 'number', minimum: 1, maximum: 10 },
  s: { type: 'string', minLength: 2, maxLength: 4, pattern: '^[a-z]+$' },
  em: { type: 'string', format: 'email' },
  uri: { type: 'string', format: 'uri' },
  r: { type: 'object', required: ['x'], additionalProperties: false, properties: { x: { type: 'number' } } },
};

const KEYWORD_CASES = [
  ['type (nested path)', 'foo.bar', 'x', 'Config schema violation: `foo/bar` must be number'],
  ['enum', 'e', 'z', 'Config schema violation: `e` must be equal to one of the allowed values'],
  ['const', 'c', 4, 'Config schema violation: `c` must be equal to constant'],
  ['minimum', 'n', 0, 'Config schema violation: `n` must be >= 1'],
  ['maximum', 'n', 11, 'Config schema violation: `n` must be <= 10'],
  ['minLength', 's', 'a', 'Config schema violation: `s` must NOT have fewer than 2 characters'],
  ['maxLength', 's', 'abcde', 'Config schema violation: `s` must NOT have more than 4 characters'],
  ['pattern', 's', 'AB', 'Config schema violation: `s` must match pattern "^[a-z]+$"'],
  ['format email', 'em', 'nope', 'Config schema violation: `em` must match format "email"'],
  ['format uri', 'uri', 'not a uri', 'Config schema violation: `uri` must match format "uri"'],
  ['required', 'r', {}, "Config schema violation: `r` must have required property 'x'"],
  ['additionalProperties', 'r', { x: 1, y: 2 }, 'Config schema violation: `r` must NOT have additional properties'],
];

for (const [label, key, value, expected] of KEYWORD_CASES) {
  test(`set() violating ${label} throws E_SCHEMA with conf's message`, t => {
    const { tad, conf } = fixture(t).pair({ schema: KEYWORD_SCHEMA });
    const fromConf = confMessage(conf, c => c.set(key, value));
    assert.equal(fromConf, expected, 'conf reference message');
    tad.flushSync({ file: true });
    const before = readBytes(tad.path);
    const storeBefore = plain(tad);
    assert.throws(() => tad.set(key, value), isSchemaError(fromConf));
    assert.deepEqual(plain(tad), storeBefore, 'store unchanged');
    tad.flushSync({ file: true });
    assert.deepEqual(readBytes(tad.path), before, 'file unchanged');
  });
}

// Several violations: every error Ajv reports, in Ajv's order (keyword groups,
// composite keywords' branch errors, the deferred type error, schema order of
// the top-level keys), for every keyword the schema engine words
const ORDER_SCHEMA = {
  str: { type: 'string', maxLength: 3, pattern: '[def]+', enum: ['x'] },
  arr: { type: 'array', uniqueItems: true, maxItems: 3, items: { type: 'integer' } },
  pairs: { type: 'array', uniqueItems: true, minItems: 5, contains: { type: 'boolean' } },
  int: { type: 'integer', minimum: 5, multipleOf: 3, exclusiveMaximum: 1 },
  obj: {
    type: 'object',
    maxProperties: 1,
    required: ['need', 'also'],
    propertyNames: { maxLength: 3 },
    additionalProperties: false,
    dependencies: { a: ['b', 'c'], d: { required: ['e'] } },
    properties: { a: { type: 'string' }, d: { type: 'number' } },
    patternProperties: { '^x': { type: 'boolean' } },
  },
  any: { anyOf: [{ type: 'string' }, { type: 'number', minimum: 10 }] },
  one: { oneOf: [{ type: 'string' }, { type: 'boolean' }], not: { type: 'number', maximum: 0 } },
  cond: { if: { type: 'number' }, then: { minimum: 10 }, else: { type: 'string' } },
  mixed: { type: 'string', maxLength: 1, minimum: 9 },
  multi: { type: ['string', 'null'], nullable: true },
};

const ORDER_CASES = [
  ['str', 5], ['str', 'abca'],
  ['arr', [1, 1, 2, 'a']], ['arr', 'nope'],
  ['pairs', [{ a: 1 }, [2], { a: 1 }, [2]]],
  ['int', 2.5], ['int', 4],
  ['obj', { a: 1, d: 'x', xyz: 1, long: 2, zz: 3 }],
  ['any', 1], ['one', 0], ['one', 5], ['cond', 5], ['cond', true],
  ['mixed', 1], ['multi', 1],
];

test("several violations: Ajv's errors in Ajv's order, for every keyword (conf's message)", t => {
  const { tad, conf } = fixture(t).pair({ schema: ORDER_SCHEMA });
  for (const [key, value] of ORDER_CASES) {
    const fromConf = confMessage(conf, c => c.set(key, value));
    assert.ok(fromConf, `conf rejects ${key}=${JSON.stringify(value)}`);
    assert.throws(() => tad.set(key, value), isSchemaError(fromConf), `${key}=${JSON.stringify(value)}`);
  }
  // errors of several top-level keys come in schema order, not in the order of the change
  const both = { one: 0, str: 5 };
  const fromConf = confMessage(conf, c => c.set(both));
  assert.throws(() => tad.set(both), isSchemaError(fromConf));
  assert.match(fromConf, /^Config schema violation: `str` .*; `one` /);
});

test('valid values pass the same schema in tad-store and conf', t => {
  const { tad, conf } = fixture(t).pair({ schema: KEYWORD_SCHEMA });
  const values = { 'foo.bar': 1.5, e: 'b', c: 5, n: 10, s: 'abc', em: 'a@b.co', uri: 'https://example.com/x', r: { x: 1 } };
  for (const [k, v] of Object.entries(values)) {
    tad.set(k, v);
    conf.set(k, v);
  }
  assert.deepEqual(plain(tad), plain(conf));
});

test('rootSchema: a whole JSON Schema is enforced, with conf-compatible messages', t => {
  const fx = fixture(t);
  const rootSchema = {
    type: 'object',
    properties: { port: { type: 'integer', minimum: 1 }, name: { type: 'string' } },
    additionalProperties: false,
  };
  const s = fx.open({ rootSchema });
  s.set('port', 80);
  assert.throws(() => s.set('port', 0), isSchemaError('Config schema violation: `port` must be >= 1'));
  assert.throws(() => s.set('port', 1.5), isSchemaError('Config schema violation: `port` must be integer'));
  assert.throws(() => s.set('other', 1), isSchemaError('Config schema violation: `` must NOT have additional properties'));
  assert.deepEqual(plain(s), { port: 80 });
  assert.deepEqual(s.validateData({ port: 2, name: 'x' }), { valid: true, errors: [] });
  const bad = s.validateData({ port: 'x' });
  assert.equal(bad.valid, false);
  assert.deepEqual(bad.errors, ['`port` must be integer']);
});

// ---------------------------------------------------------------------------
// Every write is checked before anything is written
// ---------------------------------------------------------------------------

/** A store with `a` required (no default) and `b` a number ≤ 10. */
function checkedStore(fx, extra = {}) {
  const s = fx.open({
    rootSchema: {
      type: 'object',
      required: ['a'],
      properties: { a: { type: 'number' }, b: { type: 'number', maximum: 10 }, o: { type: 'object' } },
    },
    defaults: { a: 1 },
    ...extra,
  });
  s.set({ a: 2, b: 3, o: { k: 1 } });
  s.flushSync({ file: true });
  return s;
}

const WRITES = {
  'set(key)': s => s.set('b', 'str'),
  'set(key) nested': s => s.set('o', 7),
  'set(object)': s => s.set({ b: 1, a: 'x' }),
  setMultiple: s => s.setMultiple({ 'b': 5, 'a': null }),
  delete: s => s.delete('a'),
  'store =': s => {
    s.store = { b: 1 };
  },
};

for (const [label, op] of Object.entries(WRITES)) {
  test(`${label} that violates the schema throws E_SCHEMA; store, file and events unchanged`, t => {
    const s = checkedStore(fixture(t));
    const before = readBytes(s.path);
    const storeBefore = plain(s);
    let events = 0;
    s.onDidAnyChange(() => events++);
    assert.throws(() => op(s), isSchemaError());
    assert.deepEqual(plain(s), storeBefore, 'store unchanged');
    s.flushSync({ file: true });
    assert.deepEqual(readBytes(s.path), before, 'file unchanged');
    assert.equal(events, 0, 'no change event');
  });
}

test('clear() and reset() that would violate the schema throw E_SCHEMA and change nothing', t => {
  const fx = fixture(t);
  // `a` is required and has no default: clear() would remove it; reset('b') would
  // set the default 50, which the schema rejects (the file's 3 is valid)
  const dir = fx.dir();
  writeFile(dir, 'config.json', TAB({ a: 5, z: 1, b: 3 }));
  const s = fx.open({
    cwd: dir,
    defaults: { b: 50 },
    rootSchema: { type: 'object', required: ['a'], properties: { a: { type: 'number' }, b: { type: 'number', maximum: 10 } } },
  });
  s.flushSync({ file: true });
  const before = readBytes(s.path);
  let events = 0;
  s.onDidAnyChange(() => events++);
  // clear() keeps only the defaults ({ b: 50 }): both problems are reported
  assert.throws(() => s.clear(), isSchemaError("Config schema violation: `` must have required property 'a'; `b` must be <= 10"));
  assert.throws(() => s.reset('b'), isSchemaError('Config schema violation: `b` must be <= 10'));
  assert.deepEqual(plain(s), { a: 5, z: 1, b: 3 });
  assert.equal(events, 0);
  s.flushSync({ file: true });
  assert.deepEqual(readBytes(s.path), before);
});

test('restoreBackup() of data the schema rejects is refused with E_SCHEMA', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const loose = new Store({ cwd: dir });
  loose.set('n', 'not a number');
  const backup = await loose.createBackup('manual');
  loose.set('n', 1);
  loose.close();
  const s = fx.open({ cwd: dir, schema: { n: { type: 'number' } } });
  assert.equal(s.get('n'), 1);
  const before = readBytes(s.path);
  await assert.rejects(s.restoreBackup(path.basename(backup)), isSchemaError('Config schema violation: `n` must be number'));
  assert.equal(s.get('n'), 1);
  s.flushSync({ file: true });
  assert.deepEqual(readBytes(s.path), before);
});

test('reload() of an external edit the schema rejects throws E_SCHEMA and keeps the state', t => {
  const fx = fixture(t);
  const s = fx.open({ schema: { n: { type: 'number' } } });
  s.set('n', 1);
  s.flushSync({ file: true });
  fs.writeFileSync(s.path, TAB({ n: 'edited' }));
  assert.throws(() => s.reload(), isSchemaError('Config schema violation: `n` must be number'));
  assert.equal(s.get('n'), 1, 'in-memory state kept');
  // the store stays usable and the next write is checked against the kept state
  s.set('n', 2);
  s.flushSync({ file: true });
  assert.deepEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')), { n: 2 });
});

test('set() with a valid value after a refused one works normally', t => {
  const s = fixture(t).open({ schema: { n: { type: 'number' } } });
  assert.throws(() => s.set('n', 'x'), isSchemaError());
  s.set('n', 3);
  assert.equal(s.get('n'), 3);
  s.flushSync({ file: true });
  assert.deepEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')), { n: 3 });
});

// ---------------------------------------------------------------------------
// Schema defaults
// ---------------------------------------------------------------------------

test('schema defaults: top-level and nested (parent present) like conf/Ajv useDefaults', t => {
  const schema = {
    a: { type: 'number', default: 3 },
    zero: { type: 'number', default: 0 },
    o: { type: 'object', properties: { x: { type: 'string', default: 'hi' } }, default: { x: 'hi' } },
  };
  const { tad, conf } = fixture(t).pair({ schema });
  assert.deepEqual(plain(tad), plain(conf));
  assert.equal(tad.get('a'), 3);
  assert.equal(tad.get('zero'), 0);
  assert.deepEqual(tad.get('o'), { x: 'hi' });
});

test('schema defaults of nested properties are not created when the parent object is missing (as conf)', t => {
  const schema = { p: { type: 'object', properties: { y: { type: 'number', default: 7 }, z: { type: 'string' } } } };
  const { tad, conf } = fixture(t).pair({ schema });
  assert.equal(conf.get('p'), undefined, 'conf: no parent, no nested default');
  assert.equal(tad.get('p'), undefined);
  assert.equal(tad.has('p.y'), false);
  assert.deepEqual(plain(tad), plain(conf));
  // once the parent exists, its defaults are filled
  tad.set('p', {});
  conf.set('p', {});
  assert.deepEqual(tad.get('p'), { y: 7 });
  assert.deepEqual(plain(tad), plain(conf));
});

test('schema defaults fill only what is missing in an existing file', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  writeFile(dir, 'config.json', TAB({ a: 9, p: { z: 'kept' } }));
  const s = fx.open({ cwd: dir, schema: { a: { type: 'number', default: 3 }, b: { type: 'number', default: 4 }, p: { type: 'object', properties: { y: { type: 'number', default: 7 }, z: { type: 'string' } } } } });
  assert.deepEqual(plain(s), { a: 9, p: { z: 'kept', y: 7 }, b: 4 });
});

test('nested schema defaults inside a parent default object are applied (Ajv does)', t => {
  const schema = { o: { type: 'object', default: {}, properties: { x: { type: 'string', default: 'hi' } } } };
  const { tad, conf } = fixture(t).pair({ schema });
  assert.deepEqual(plain(conf), { o: { x: 'hi' } }, 'conf reference');
  assert.deepEqual(plain(tad), { o: { x: 'hi' } });
});

test('reset() restores a schema default', t => {
  const s = fixture(t).open({ schema: { a: { type: 'number', default: 3 } } });
  s.set('a', 8);
  s.reset('a');
  assert.equal(s.get('a'), 3);
});

// ---------------------------------------------------------------------------
// validateData()
// ---------------------------------------------------------------------------

test('validateData() reports schema errors and custom validate() errors without touching the store', t => {
  const calls = [];
  const s = fixture(t).open({
    schema: { n: { type: 'number', minimum: 1 } },
    validate: data => {
      calls.push(data);
      return data.n === 13 ? ['13 is unlucky'] : [];
    },
  });
  s.set('n', 2);
  assert.deepEqual(s.validateData({ n: 5 }), { valid: true, errors: [] });
  assert.deepEqual(s.validateData({ n: 0 }), { valid: false, errors: ['`n` must be >= 1'] });
  assert.deepEqual(s.validateData({ n: 13 }), { valid: false, errors: ['13 is unlucky'] });
  const both = s.validateData({ n: 'x' });
  assert.equal(both.valid, false);
  assert.deepEqual(both.errors, ['`n` must be number']);
  assert.ok(calls.some(d => d.n === 13), 'custom validate got the data');
  assert.equal(s.get('n'), 2);
  assert.equal(s.validateData([]).valid, false);
  assert.equal(s.validateData(null).valid, false);
});

test('custom validate() alone makes a loaded document that fails it throw E_SCHEMA', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', TAB({ n: 13 }));
  const before = fs.readFileSync(file);
  assert.throws(() => new Store({ cwd: dir, validate: d => (d.n === 13 ? ['13 is unlucky'] : []) }), error => {
    assert.equal(error.code, 'E_SCHEMA');
    assert.match(error.message, /13 is unlucky/);
    return true;
  });
  assert.deepEqual(fs.readFileSync(file), before);
});

// ---------------------------------------------------------------------------
// onInvalidData
// ---------------------------------------------------------------------------

const LOAD_SCHEMA = {
  a: { type: 'number', default: 3 },
  o: { type: 'object', properties: { x: { type: 'string' } } },
};

test("onInvalidData 'throw' (default): the constructor throws E_SCHEMA and the file is byte-identical", t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', TAB({ a: 'bad', keep: 1, o: { x: 5 } }));
  const before = fs.readFileSync(file);
  assert.throws(() => new Store({ cwd: dir, schema: LOAD_SCHEMA }), error => {
    assert.equal(error.code, 'E_SCHEMA');
    assert.equal(error.message, 'Config schema violation: `a` must be number; `o/x` must be string');
    return true;
  });
  assert.deepEqual(fs.readFileSync(file), before);
  // conf refuses the same file too
  assert.throws(() => fx.conf({ cwd: dir, schema: LOAD_SCHEMA }), /Config schema violation/);
  // the file can then be opened without a schema, unchanged
  const loose = fx.open({ cwd: dir });
  assert.deepEqual(plain(loose), { a: 'bad', keep: 1, o: { x: 5 } });
});

test("onInvalidData 'throw' undoes defaults filled on open: the tab-formatted file is byte-identical", t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', TAB({ a: 'bad', keep: 1 }));
  const before = fs.readFileSync(file);
  const schema = { a: { type: 'number' }, d: { type: 'number', default: 1 }, p: { type: 'object', properties: { y: { type: 'number', default: 7 } } } };
  assert.throws(() => new Store({ cwd: dir, schema, defaults: { e: 'x' } }), e => e.code === 'E_SCHEMA');
  assert.deepEqual(fs.readFileSync(file), before);
});

test("onInvalidData 'throw' keeps a compact (non-tab) file byte-identical", t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', JSON.stringify({ a: 'bad', keep: 1 }));
  const before = fs.readFileSync(file);
  // `d` has a default that the open fills in (then undoes when the check fails)
  const schema = { a: { type: 'number' }, d: { type: 'number', default: 1 } };
  assert.throws(() => new Store({ cwd: dir, schema }), e => e.code === 'E_SCHEMA');
  assert.equal(fs.readFileSync(file, 'utf8'), before.toString('utf8'));
});

test("onInvalidData 'sanitize': backup of the original, only invalid parts dropped/repaired, history entry", async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const original = { a: 'bad', keep: 1, o: { x: 5, y: 'other' }, good: [1, 2] };
  const file = writeFile(dir, 'config.json', TAB(original));
  const s = fx.open({ cwd: dir, schema: LOAD_SCHEMA, onInvalidData: 'sanitize' });
  // invalid `a` dropped and its default refilled; invalid `o.x` dropped; the rest kept
  assert.equal(s.get('a'), 3);
  assert.equal(s.get('keep'), 1);
  assert.deepEqual(s.get('good'), [1, 2]);
  assert.equal(s.get('o.x'), undefined);
  assert.equal(s.get('o.y'), 'other');
  assert.deepEqual(s.validateData(plain(s)), { valid: true, errors: [] });
  s.flushSync({ file: true });
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), plain(s));

  const backups = await s.listBackups();
  const before = backups.find(b => b.metadata && b.metadata.reason === 'before-sanitize');
  assert.ok(before, `a before-sanitize backup: ${JSON.stringify(backups.map(b => b.metadata && b.metadata.reason))}`);
  const saved = JSON.parse(fs.readFileSync(before.path, 'utf8'));
  assert.equal(saved.a, 'bad', 'the backup holds the invalid original');
  assert.deepEqual(saved.o, { x: 5, y: 'other' });
  assert.equal(saved.keep, 1);

  const summary = await s.getHistorySummary();
  const sanitize = summary.entries.filter(e => e.operation === 'sanitize');
  assert.equal(sanitize.length, 1);
  assert.deepEqual([...sanitize[0].keys].sort(), ['a', 'o']);
});

test("onInvalidData 'sanitize' on a valid file changes nothing and records no sanitize entry", async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', TAB({ a: 1, o: { x: 'y' } }));
  const before = fs.readFileSync(file);
  const s = fx.open({ cwd: dir, schema: LOAD_SCHEMA, onInvalidData: 'sanitize' });
  assert.deepEqual(plain(s), { a: 1, o: { x: 'y' } });
  s.flushSync({ file: true });
  assert.deepEqual(fs.readFileSync(file), before);
  const summary = await s.getHistorySummary();
  assert.equal(summary.entries.filter(e => e.operation === 'sanitize').length, 0);
  const backups = await s.listBackups();
  assert.equal(backups.filter(b => b.metadata && b.metadata.reason === 'before-sanitize').length, 0);
});

// ---------------------------------------------------------------------------
// Option checking
// ---------------------------------------------------------------------------

test('a schema that is not a valid JSON Schema throws TypeError', t => {
  const fx = fixture(t);
  assert.throws(() => fx.open({ schema: { a: { type: 'bogus' } } }), TypeError);
  assert.throws(() => fx.open({ rootSchema: { type: 'object', properties: { a: { minimum: 'x' } } } }), TypeError);
});

test('a non-object schema throws TypeError "The `schema` option must be an object."', t => {
  const fx = fixture(t);
  for (const bad of [5, 'x', true, [], () => {}]) {
    assert.throws(() => fx.open({ schema: bad }), error => {
      assert.ok(error instanceof TypeError, `${typeof bad}`);
      assert.equal(error.message, 'The `schema` option must be an object.');
      return true;
    });
  }
  assert.throws(() => fx.open({ rootSchema: 5 }), TypeError);
  assert.throws(() => fx.open({ onInvalidData: 'ignore' }), TypeError);
  assert.throws(() => fx.open({ validate: 'x' }), TypeError);
});

test('a failed open leaves no store behind: the same file can be opened afterwards', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  writeFile(dir, 'config.json', TAB({ n: 'x' }));
  assert.throws(() => new Store({ cwd: dir, schema: { n: { type: 'number' } } }), e => e.code === 'E_SCHEMA');
  const s = fx.open({ cwd: dir, schema: { n: { type: 'string' } } });
  assert.equal(s.get('n'), 'x');
});
