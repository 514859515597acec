'use strict';

// The JS <-> Rust contract: one list of error codes (the core's), checked
// against the typings and every code the JS side mints; typed results and
// events; the crossings into the core an open takes.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { fixture } = require('./helpers.js');
const binding = require('../lib/loader.js');
const { storeError } = require('../lib/errors.js');

const ROOT = path.join(__dirname, '..');
const read = file => fs.readFileSync(path.join(ROOT, file), 'utf8');

const LIST = binding.errorCodes();
const CODES = new Set(LIST.map(c => c.code));

/** The string literals of a TS union type named `name` in `file`. */
function unionOf(file, name) {
  const m = new RegExp(`type ${name} =([^;]+);`).exec(read(file));
  assert.ok(m, `${file} has no type ${name}`);
  return new Set([...m[1].matchAll(/'([A-Z_0-9]+)'/g)].map(x => x[1]));
}

test("errorCodes(): the core's one list, each code once, with its class and origin", () => {
  assert.ok(LIST.length >= 30, `only ${LIST.length} codes`);
  assert.equal(CODES.size, LIST.length, 'a code is listed twice');
  for (const c of LIST) {
    assert.match(c.code, /^E_[A-Z_]+$/);
    assert.ok(['Error', 'TypeError', 'RangeError'].includes(c.class), c.code);
    assert.ok(['core', 'store', 'ipc', 'safe-storage', 'renderer', 'loader', 'cli'].includes(c.origin), `${c.code}: ${c.origin}`);
    assert.ok(c.summary.length > 10, c.code);
  }
  const byCode = Object.fromEntries(LIST.map(c => [c.code, c]));
  assert.equal(byCode.E_INVALID_ARGUMENT.class, 'TypeError');
  assert.equal(byCode.E_FORBIDDEN_KEY.class, 'TypeError');
  assert.equal(byCode.E_TOO_DEEP.class, 'RangeError');
  assert.equal(byCode.E_SERIALIZE.origin, 'store');
});

test("index.d.ts: StoreErrorCode is generated from the core's list (scripts/error-codes.js --check passes)", () => {
  const { apply, storeCodes } = require('../scripts/error-codes.js');
  const text = read('index.d.ts');
  assert.equal(apply(text, storeCodes(LIST)), text, 'index.d.ts drifted from core/src/error.rs: run `npm run gen:error-codes`');
  // and the generator follows the list: a new code would be added
  const more = apply(text, [...storeCodes(LIST), 'E_NEW_CODE']);
  assert.match(more, /'E_NEW_CODE';\n {2}\/\/ <\/generated>/);
});

test('index.d.ts: StoreErrorCode is exactly the codes a Store reports (core and store origins)', () => {
  const union = unionOf('index.d.ts', 'StoreErrorCode');
  const want = new Set(LIST.filter(c => c.origin === 'core' || c.origin === 'store').map(c => c.code));
  const missing = [...want].filter(c => !union.has(c));
  const unknown = [...union].filter(c => !want.has(c));
  assert.deepEqual(missing, [], `codes missing from index.d.ts StoreErrorCode: ${missing.join(', ')}`);
  assert.deepEqual(unknown, [], `codes in index.d.ts StoreErrorCode that the core does not list: ${unknown.join(', ')}`);
});

test("every error code named in the typings is in the core's list", () => {
  for (const file of fs.readdirSync(ROOT).filter(f => f.endsWith('.d.ts') || f.endsWith('.d.mts'))) {
    for (const [, code] of read(file).matchAll(/'(E_[A-Z][A-Z0-9_]*)'/g)) {
      assert.ok(CODES.has(code), `${file} names ${code}, which is not in core/src/error.rs (Code)`);
    }
  }
});

test("every error code the JS sources mint is in the core's list", () => {
  const files = [
    ...fs.readdirSync(ROOT).filter(f => f.endsWith('.js') && f !== 'binding.js'),
    ...fs
      .readdirSync(path.join(ROOT, 'lib'))
      .filter(f => f.endsWith('.js'))
      .map(f => `lib/${f}`),
    ...fs
      .readdirSync(path.join(ROOT, 'lib', 'cli'))
      .filter(f => f.endsWith('.js'))
      .map(f => `lib/cli/${f}`),
    ...fs
      .readdirSync(path.join(ROOT, 'bin'))
      .filter(f => f.endsWith('.js'))
      .map(f => `bin/${f}`),
  ];
  let seen = 0;
  for (const file of files) {
    for (const [, code] of read(file).matchAll(/'(E_[A-Z][A-Z0-9_]*)'/g)) {
      seen++;
      assert.ok(CODES.has(code), `${file} mints ${code}, which is not in core/src/error.rs (Code)`);
    }
  }
  assert.ok(seen > 50, `only ${seen} code literals found: the scan is broken`);
});

test("storeError: the class is the list's; a code not in the list is an E_INTERNAL bug report", () => {
  for (const c of LIST) {
    const e = storeError(c.code, 'm', { extra: 1 });
    assert.equal(e.code, c.code);
    assert.equal(e.constructor.name, c.class, c.code);
    assert.equal(e.extra, 1);
  }
  const bad = storeError('E_NOT_A_CODE', 'oops');
  assert.equal(bad.code, 'E_INTERNAL');
  assert.match(bad.message, /E_NOT_A_CODE/);
});

test("native errors carry the list's codes and classes", t => {
  const fx = fixture(t);
  const store = fx.open();
  assert.throws(
    () => store.set('a.__proto__.b', 1),
    e => e instanceof TypeError && e.code === 'E_FORBIDDEN_KEY' && CODES.has(e.code),
  );
  store.close();
  assert.throws(
    () => store.get('a'),
    e => e.code === 'E_CLOSED' && e.constructor === Error,
  );
});

/** Counts the binding's calls (by name) while `fn` runs. */
function crossings(fn) {
  const calls = [];
  const saved = {};
  for (const [name, f] of Object.entries(binding)) {
    if (typeof f !== 'function') continue;
    saved[name] = f;
    binding[name] = function (...args) {
      calls.push(name);
      return f.apply(this, args);
    };
  }
  try {
    fn();
  } finally {
    Object.assign(binding, saved);
  }
  return calls;
}

test('opening crosses into the core once, whatever the options; migrations add only their own calls', t => {
  const fx = fixture(t);
  assert.deepEqual(
    crossings(() => fx.open({ backups: false })),
    ['storeOpen'],
    'a plain store',
  );
  const ran = [];
  const options = {
    cwd: fx.dir(),
    backups: false,
    defaults: { theme: 'dark' },
    schema: { theme: { type: 'string' }, size: { type: 'number', default: 12 } },
    projectVersion: '2.0.0',
    migrations: {
      '1.0.0': store => {
        ran.push('1.0.0');
        store.set('one', 1);
      },
      '2.0.0': store => {
        ran.push('2.0.0');
        store.set('two', 2);
      },
    },
  };
  let store;
  const calls = crossings(() => {
    store = fx.open(options);
  });
  assert.deepEqual(ran, ['1.0.0', '2.0.0']);
  assert.deepEqual(
    calls,
    // the open (with the transaction, the defaults and the recorded version);
    // each migration's own set and the version recorded after it; the check;
    // the commit
    ['storeOpen', 'storeSet', 'storeSet', 'storeSet', 'storeSet', 'storeValidate', 'storeCommit'],
  );
  assert.equal(store.get('theme'), 'dark');
  assert.equal(store.get('size'), 12);
  assert.equal(store.get('__internal__.migrations.version'), '2.0.0');
  store.close();
  // reopened: the recorded version read by the open, nothing to migrate
  ran.length = 0;
  const again = crossings(() => fx.open(options).close());
  assert.deepEqual(ran, []);
  assert.deepEqual(again.slice(0, 1), ['storeOpen']);
  assert.ok(!again.includes('storeGet') && !again.includes('storeSet'), again.join(' '));
});

test('results and events cross as typed objects (binding.d.ts), not JSON text to pick apart', () => {
  const dts = read('binding.d.ts');
  for (const name of [
    'OpenReport',
    'StoreStatus',
    'OperationStats',
    'BackupInfo',
    'BackupMetadata',
    'HistoryEntry',
    'RollbackResult',
    'RotationReport',
    'FileFailure',
    'Opened',
    'ErrorCodeInfo',
  ]) {
    assert.match(dts, new RegExp(`export interface ${name} \\{`), name);
  }
  assert.match(dts, /export type StoreEvent =/);
  // restore and rollback: one task each, no token to hand back
  assert.doesNotMatch(dts, /storeRestoreApply|storeRollbackApply|storeDiscard|RestorePrepare/);
  assert.match(dts, /storeRestore\(h: number, name: string, migration: boolean, flags: number\): Promise<string>/);
});
