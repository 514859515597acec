'use strict';

/**
 * The downgrade guard (issue 20): `onNewerVersion: 'allow' | 'read-only' |
 * 'throw'` for a store last migrated by a newer `projectVersion` than the
 * app opening it. Either guard changes nothing on disk (every byte under the
 * store's directory is compared); 'read-only' reads and refuses every write
 * with `E_READ_ONLY` naming both versions; a migration snapshot tagged with
 * the version it came from takes the downgraded user back.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { Store, fixture } = require('./helpers.js');
const { registerStoreIpc } = require('../ipc');

const MIGRATIONS = {
  '1.0.0': s => s.set('v1', true),
  '2.0.0': s => {
    s.set('v2', true);
    s.set('theme', { name: s.get('theme', 'dark') });
  },
};

/** Every file under `dir` (names and bytes). */
function tree(dir) {
  const out = {};
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = fs.readFileSync(p).toString('base64');
  }
  return out;
}

/** A store written by version 1.0.0 and then by 2.0.0 of the app. */
function upgraded(t) {
  const dir = fixture(t).dir();
  const v1 = new Store({ cwd: dir, projectVersion: '1.0.0', migrations: MIGRATIONS, defaults: { theme: 'dark' } });
  v1.set('x', 1);
  v1.close();
  const v2 = new Store({ cwd: dir, projectVersion: '2.0.0', migrations: MIGRATIONS, defaults: { theme: 'dark', extra: 1 } });
  v2.set('x', 2);
  v2.close();
  return dir;
}

test("onNewerVersion: 'throw' refuses with E_NEWER_VERSION and changes nothing on disk", t => {
  const dir = upgraded(t);
  const before = tree(dir);
  assert.throws(
    () => new Store({ cwd: dir, projectVersion: '1.0.0', migrations: MIGRATIONS, defaults: { theme: 'dark', added: 1 }, onNewerVersion: 'throw' }),
    e => e.code === 'E_NEWER_VERSION' && /2\.0\.0/.test(e.message) && /1\.0\.0/.test(e.message) && e.newerVersion === '2.0.0' && e.projectVersion === '1.0.0',
  );
  assert.deepEqual(tree(dir), before);
  // and the file can be opened again at once (nothing was left locked or open)
  const again = new Store({ cwd: dir, projectVersion: '2.0.0', migrations: MIGRATIONS, backups: false });
  assert.equal(again.get('x'), 2);
  again.close();
});

test("onNewerVersion: 'read-only' reads, refuses every write with E_READ_ONLY naming both versions, and changes nothing on disk", async t => {
  const dir = upgraded(t);
  const before = tree(dir);
  const s = new Store({ cwd: dir, projectVersion: '1.0.0', migrations: MIGRATIONS, defaults: { theme: 'dark', added: 1 }, schema: { x: { type: 'string' } }, onNewerVersion: 'read-only' });
  // reads: what version 2.0.0 wrote (no defaults merged, no migration run, no schema check)
  assert.equal(s.get('x'), 2);
  assert.deepEqual(s.get('theme'), { name: 'dark' });
  assert.equal(s.has('added'), false);
  assert.equal(s.newerVersion, '2.0.0');
  const seen = [];
  s.onDidAnyChange(() => seen.push(1));
  const readOnly = e => e.code === 'E_READ_ONLY' && e.message.includes('2.0.0') && e.message.includes('1.0.0');
  assert.throws(() => s.set('x', 3), readOnly);
  assert.throws(() => s.set({ x: 3 }), readOnly);
  assert.throws(() => s.setMultiple({ x: 3 }), readOnly);
  assert.throws(() => s.delete('x'), readOnly);
  assert.throws(() => s.reset('theme'), readOnly);
  assert.throws(() => s.clear(), readOnly);
  assert.throws(() => { s.store = { x: 3 }; }, readOnly);
  assert.throws(() => s.update('x', x => x + 1), readOnly);
  assert.throws(() => s.transaction(tx => tx.set('x', 3)), readOnly);
  await assert.rejects(s.rollbackToTimestamp(0), readOnly);
  await assert.rejects(s.restoreBackup('anything.json'), readOnly);
  // over IPC, with its code
  const handlers = new Map();
  registerStoreIpc({ handle: (c, f) => handlers.set(c, f), removeHandler: c => handlers.delete(c) }, s, { atomicOperations: true });
  await assert.rejects(handlers.get('store-set')({ sender: {} }, 'x', 3), /E_READ_ONLY/);
  await assert.rejects(handlers.get('store-update')({ sender: {} }, 'n', { op: 'increment' }), /E_READ_ONLY/);
  assert.equal(await handlers.get('store-get')({ sender: {} }, 'x'), 2);
  assert.deepEqual(seen, []);
  s.close();
  assert.deepEqual(tree(dir), before);
});

test("onNewerVersion: 'allow' (the default) opens and writes as electron-store does", t => {
  const dir = upgraded(t);
  const s = new Store({ cwd: dir, projectVersion: '1.0.0', migrations: MIGRATIONS, backups: false });
  assert.equal(s.newerVersion, '2.0.0');
  s.set('x', 3);
  assert.equal(s.get('x'), 3);
  assert.equal(s.get('__internal__.migrations.version'), '2.0.0');
  s.close();
  assert.throws(() => new Store({ cwd: dir, onNewerVersion: 'never' }), { name: 'TypeError', message: /onNewerVersion/ });
  assert.throws(() => new Store({ cwd: dir, onNewerVersion: true }), TypeError);
});

test('the guard works without migrations (projectVersion alone), and not for an older or equal version', t => {
  const dir = upgraded(t);
  const s = new Store({ cwd: dir, projectVersion: '1.5.0', onNewerVersion: 'read-only', backups: false });
  assert.throws(() => s.set('x', 1), { code: 'E_READ_ONLY' });
  s.close();
  for (const v of ['2.0.0', '2.1.0']) {
    const w = new Store({ cwd: dir, projectVersion: v, migrations: MIGRATIONS, onNewerVersion: 'throw', backups: false });
    w.set('x', v);
    w.close();
  }
  // a new store has no version recorded: nothing to guard
  const fresh = new Store({ cwd: fixture(t).dir(), projectVersion: '0.1.0', onNewerVersion: 'throw' });
  fresh.set('a', 1);
  fresh.close();
});

test('a downgraded user is taken back by the migration snapshot tagged with the version it came from', async t => {
  const dir = upgraded(t);
  const s = new Store({ cwd: dir, projectVersion: '1.0.0', migrations: MIGRATIONS, onNewerVersion: 'read-only', backups: false });
  const snapshots = await s.listMigrationBackups();
  const back = snapshots.find(b => b.fromVersion === '1.0.0' && b.toVersion === '2.0.0');
  assert.ok(back, JSON.stringify(snapshots.map(b => [b.file, b.fromVersion, b.toVersion])));
  assert.deepEqual(await s.validateMigrationBackup(back.file), { valid: true, errors: [] });
  await s.restoreMigrationBackup(back.file);
  // the state version 1.0.0 wrote (the new version's migration undone)
  assert.equal(s.get('x'), 1);
  assert.equal(s.get('theme'), 'dark');
  assert.equal(s.has('v2'), false);
  assert.equal(s.get('__internal__.migrations.version'), '1.0.0');
  // and no longer read-only
  assert.equal(s.newerVersion, undefined);
  s.set('x', 10);
  s.close();
  const reopened = new Store({ cwd: dir, projectVersion: '1.0.0', migrations: MIGRATIONS, onNewerVersion: 'throw', backups: false });
  assert.equal(reopened.get('x'), 10);
  reopened.close();
});
