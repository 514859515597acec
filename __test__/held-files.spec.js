'use strict';

// Files another program holds for a moment (Windows: antivirus, backup and
// indexing software make a rename fail with EBUSY/EPERM/EACCES while they
// look at a file they saw change). The store's own files are written by the
// core, whose writer waits such holds out (core/tests/platforms.rs runs that
// against a simulated Windows); what JS writes itself — the file a custom
// `serialize` produces — is renamed into place again later, on a timer,
// never by sleeping on the JS thread. The holds are injected here by making
// `fs.renameSync` fail for the store's file, as Windows would.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { fixture } = require('./helpers.js');

const serialize = v => Object.entries(v).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join('\n') + '\n';
const deserialize = text => Object.fromEntries(text.split('\n').filter(Boolean).map(l => [l.slice(0, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1))]));

/** Makes renames onto `file` fail with `code` while `held()` says so; returns the undo. */
function holdRenamesOnto(file, code, held) {
  const original = fs.renameSync;
  let refused = 0;
  fs.renameSync = function renameSync(from, to) {
    if (path.resolve(String(to)) === file && held()) {
      refused += 1;
      const e = new Error(`${code}: resource busy or locked, rename '${from}' -> '${to}'`);
      e.code = code;
      e.errno = code === 'EBUSY' ? -4082 : -4048;
      e.syscall = 'rename';
      throw e;
    }
    return original.call(this, from, to);
  };
  return { refused: () => refused, undo: () => { fs.renameSync = original; } };
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
  let refusals = 2;
  const hold = holdRenamesOnto(s.path, 'EBUSY', () => refusals-- > 0);
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
  let held = true;
  const hold = holdRenamesOnto(s.path, 'EPERM', () => held);
  t.after(hold.undo);
  const errors = [];
  s.events.on('error', e => errors.push(e));
  s.set('a', 2);
  await until('the failure to be reported', () => errors.length > 0);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'E_SERIALIZE');
  assert.equal(errors[0].cause.code, 'EPERM');
  assert.ok(hold.refused() >= 5, `${hold.refused()} tries`);
  assert.deepEqual(temps(dir), [], 'the temp file is removed');
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize({ a: 1 }), 'never half-written');
  assert.equal(s.get('a'), 2, 'the change is kept');
  held = false;
  s.set('b', 3);
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize({ a: 2, b: 3 }));
});

test('a newer change replaces an export still waiting, and close() makes the last try', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, serialize, deserialize, backups: false });
  s.set('a', 1);
  let held = true;
  const hold = holdRenamesOnto(s.path, 'EBUSY', () => held);
  t.after(hold.undo);
  const errors = [];
  s.events.on('error', e => errors.push(e));
  s.set('a', 2);
  s.set('a', 3);
  assert.equal(temps(dir).length, 1, 'one export waiting: the newest');
  held = false;
  s.close();
  assert.equal(fs.readFileSync(s.path, 'utf8'), serialize({ a: 3 }));
  assert.deepEqual(errors, []);
  assert.deepEqual(temps(dir), []);
});
