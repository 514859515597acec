'use strict';

/**
 * What differs between Linux, macOS and Windows, through the JS API: names the
 * platform refuses or alters are a TypeError before anything is created; two
 * spellings of one file on a case-insensitive volume are one store (and two
 * stores where names keep their case); a watcher that stops is reported as an
 * 'error' event with code E_WATCH and getHealthReport().watching false. (The
 * Windows naming rules run on every platform in core/src/names.rs; the
 * watcher's failures with a backend double in core/tests/watch.rs.)
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Store, fixture } = require('./helpers.js');

const win = process.platform === 'win32';

/** Whether names in `dir` ignore letter case (Windows, macOS by default). */
function caseInsensitive(dir) {
  fs.writeFileSync(path.join(dir, 'Probe-Case'), 'x');
  const yes = fs.existsSync(path.join(dir, 'probe-case'));
  fs.rmSync(path.join(dir, 'Probe-Case'));
  return yes;
}

function refused(fn, what) {
  assert.throws(fn, e => {
    assert.ok(e instanceof TypeError, `${what}: a TypeError (${e && e.constructor.name}: ${e && e.message})`);
    assert.equal(e.code, 'E_INVALID_ARGUMENT', what);
    return true;
  }, what);
}

test('a store name too long for the store\'s own suffixes is a TypeError, and nothing is created', t => {
  const cwd = path.join(fixture(t).dir(), 'app');
  refused(() => new Store({ cwd, name: 'n'.repeat(200) }), '200 characters');
  assert.equal(fs.existsSync(cwd), false, 'no directory was created');
  // 186 + ".json" = 191: what leaves room for `.<name>.<pid>.<n>.tmp` and the journal's temp file
  const s = new Store({ cwd, name: 'n'.repeat(186) });
  s.set('a', 1);
  s.close();
  const again = new Store({ cwd, name: 'n'.repeat(186) });
  assert.deepEqual({ ...again.store }, { a: 1 });
  again.close();
});

test('Windows: reserved device names, trailing dots or spaces and refused characters are TypeErrors', { skip: !win && 'these names are valid file names here (the rules run on every platform in core/src/names.rs)' }, t => {
  const cwd = fixture(t).dir();
  // (not 'a:b': path.resolve reads that as drive A:)
  for (const name of ['CON', 'con', 'NUL', 'aux', 'COM1', 'lpt9', 'config.', 'config ', 'ab:c', 'a|b', 'a?b', 'a*b', 'a"b', 'a<b', 'a>b']) {
    refused(() => new Store({ cwd, name }), JSON.stringify(name));
  }
  refused(() => new Store({ cwd, name: 'config', fileExtension: 'json.' }), 'a trailing dot from the extension');
  refused(() => new Store({ cwd: path.join(cwd, 'nul'), name: 'config' }), 'a reserved directory name');
  assert.deepEqual(fs.readdirSync(cwd), [], 'nothing was created');
});

test('two spellings of one store name are one store exactly where the volume ignores case', t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const oneFile = caseInsensitive(cwd);
  t.diagnostic(`names here ${oneFile ? 'ignore' : 'keep'} case`);
  const upper = fx.open({ cwd, name: 'Settings', backups: false });
  const lower = fx.open({ cwd, name: 'settings', backups: false });
  upper.set('a', 1);
  // one core: the change is there at once (two stores: not at all)
  assert.equal(lower.get('a'), oneFile ? 1 : undefined);
  lower.set('b', 2);
  assert.equal(upper.get('b'), oneFile ? 2 : undefined);
  upper.close();
  lower.close();
  const files = fs.readdirSync(cwd).filter(f => f.toLowerCase() === 'settings.json');
  assert.equal(files.length, oneFile ? 1 : 2, files.join(', '));
});

test('a watcher whose directory is removed is reported: an error event E_WATCH, and watching false', { skip: win && 'Windows keeps a watched directory delete-pending while the watcher holds it (the core\'s stat-check test covers Windows with a backend double)' }, async t => {
  const fx = fixture(t);
  const root = fx.dir();
  const cwd = path.join(root, 'doc');
  // the journal (and backups) elsewhere: the document's directory then holds
  // no open file
  const s = new Store({
    cwd,
    watch: true,
    backups: { directory: path.join(root, 'backups'), onStart: false, interval: 0 },
    history: { directory: path.join(root, 'history') },
  });
  t.after(() => { try { s.close({ force: true }); } catch {} });
  s.set('a', 1);
  await s.flush();
  assert.equal(s.getHealthReport().watching, true);
  const errors = [];
  const reported = new Promise(resolve => {
    s.events.on('error', e => {
      errors.push(e);
      if (e.code === 'E_WATCH') resolve(e);
    });
  });
  // a file where the directory was: watching cannot restart, so it stays off.
  // The store writes its deleted document again meanwhile (into the directory
  // being removed: ENOTEMPTY), so the removal is tried until the file stands.
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      fs.rmSync(cwd, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 });
      fs.writeFileSync(cwd, 'not a directory', { flag: 'wx' });
      break;
    } catch (err) {
      if (Date.now() > until) throw err;
    }
  }
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no E_WATCH within 60 s; errors: ${errors.map(e => `${e.code} ${e.message}`).join('; ')}`)), 60_000);
  });
  const e = await Promise.race([reported, deadline]).finally(() => clearTimeout(timer));
  assert.ok(e instanceof Error);
  assert.match(e.message, /stopped/);
  assert.ok(e.message.includes('doc'), e.message);
  assert.equal(s.getHealthReport().watching, false);
});
