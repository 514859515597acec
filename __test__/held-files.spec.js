'use strict';

// Files another program holds for a moment (Windows: antivirus, backup and
// indexing software make a rename fail with a sharing violation or access
// denied while they look at a file they saw change). The store's own files
// are written by the core's writer, which waits such holds out
// (core/tests/platforms.rs runs that against a simulated Windows); the file a
// custom `serialize` produces is written on the JS thread by the core's
// atomic write, which never sleeps there: a held rename keeps its temp file
// and is tried again later, on a timer. The holds are injected in the core
// (`testHoldRenames`: the real file system's renames onto the file fail with
// the Windows error, as Windows would; test hooks are on in this process).

process.env.TAD_STORE_TEST_HOOKS = '1';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');

const { fixture } = require('./helpers.js');
const binding = require('../lib/loader.js');

const serialize = v => Object.entries(v).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join('\n') + '\n';
const deserialize = text => Object.fromEntries(text.split('\n').filter(Boolean).map(l => [l.slice(0, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1))]));

/** Makes the core's renames onto `file` fail with `code` (`times` of them; null: until undone); returns the undo. */
function holdRenamesOnto(file, code, times = null) {
  assert.equal(binding.testHoldRenames(file, code, times), true, 'test hooks are on');
  let released = null;
  return {
    refused: () => (released === null ? binding.testRenamesRefused(false) : released),
    undo: () => {
      if (released === null) released = binding.testRenamesRefused(true);
    },
  };
}

/** Waits (on the event loop, never blocking it) until `cond()`, failing after a generous deadline. */
async function until(what, cond) {
  const end = Date.now() + 60_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 5));
  }
}

function temps(dir) {
  return fs.readdirSync(dir).filter(n => n.endsWith('.tmp'));
}

test('a custom-serialized file held for a moment is renamed into place later, without an error', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, serialize, deserialize, backups: false });
  s.set('a', 1);
  const hold = holdRenamesOnto(s.path, 'EBUSY', 2);
  t.after(hold.undo);
  const errors = [];
  s.events.on('error', e => errors.push(e));
  s.set('a', 2);
  // the call returned; the file still holds the old state until the hold ends
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize({ a: 1 }));
  await until('the held export to land', () => fs.readFileSync(s.path, 'utf8') === serialize({ a: 2 }));
  assert.equal(hold.refused(), 2);
  assert.deepEqual(errors, []);
  assert.deepEqual(temps(dir), [], 'no temp file left');
  hold.undo();
  // the next open takes the file as its own (the mark was written after the rename)
  s.close();
  const r = fx.open({ cwd: dir, serialize, deserialize, backups: false });
  assert.deepEqual({ ...r.store }, { a: 2 });
});

test('a hold that outlasts the retries is reported with its code; the change stays in the store and the next write lands', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, serialize, deserialize, backups: false });
  s.set('a', 1);
  const hold = holdRenamesOnto(s.path, 'EPERM');
  t.after(hold.undo);
  const errors = [];
  s.events.on('error', e => errors.push(e));
  s.set('a', 2);
  await until('the failure to be reported', () => errors.length > 0);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'E_SERIALIZE');
  assert.equal(errors[0].cause.code, 'EPERM');
  assert.equal(hold.refused(), 5, 'five tries in all');
  assert.deepEqual(temps(dir), [], 'the temp file is removed');
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize({ a: 1 }), 'never half-written');
  assert.equal(s.get('a'), 2, 'the change is kept');
  hold.undo();
  s.set('b', 3);
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize({ a: 2, b: 3 }));
});

test('a newer change replaces an export still waiting, and close() makes the last try', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, serialize, deserialize, backups: false });
  s.set('a', 1);
  const hold = holdRenamesOnto(s.path, 'EBUSY');
  t.after(hold.undo);
  const errors = [];
  s.events.on('error', e => errors.push(e));
  s.set('a', 2);
  s.set('a', 3);
  assert.equal(temps(dir).length, 1, 'one export waiting: the newest');
  hold.undo();
  s.close();
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize({ a: 3 }));
  assert.deepEqual(errors, []);
  assert.deepEqual(temps(dir), []);
});
