'use strict';

/**
 * `flush()` resolves when every change so far is durable in the journal (the
 * journal is the durability); the JSON file is rewritten by the checkpoint
 * schedule, `close()`, the process's end, or `flush({ file: true })`.
 * Durability against kill -9 after a resolved `flush()` is crash.spec.js's
 * 'deferred' run (its child acknowledges what each flush resolved for); the
 * same with injected ENOSPC/EIO is core/tests/durable_flush.rs.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { fixture } = require('./helpers.js');

const ROOT = path.join(__dirname, '..');

/** Runs `code` in a fresh Node process (tad-store as `Store`); its stdout. */
function inChild(code, ...args) {
  const r = spawnSync(process.execPath, ['-e', `const Store = require(${JSON.stringify(ROOT)}); ${code}`, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `child failed (${r.signal || r.status}): ${r.stderr}`);
  return r.stdout;
}

test('flush(): resolved changes are durable for another process, whatever the JSON file holds yet', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false });
  for (let i = 0; i < 200; i++) s.set(`k${i}`, i);
  await s.flush();
  // another process reads the store: the journal holds every change
  const out = inChild("const o = new Store({ cwd: process.argv[1], backups: false }); process.stdout.write(JSON.stringify([o.get('k0'), o.get('k199'), o.size])); o.close();", path.dirname(s.path));
  assert.deepEqual(JSON.parse(out), [0, 199, 200]);
  const info = s.getStoreInfo();
  assert.equal(info.durableSeq, info.seq, 'every change numbered and durable');
  assert.equal(info.pendingWrites, 0);
  s.flushSync();
  assert.equal(s.getStoreInfo().pendingWrites, 0);
});

test('flush({ file: true }) / flushSync({ file: true }) / close(): the JSON file holds every change, same bytes as conf', async t => {
  const fx = fixture(t);
  const { tad, conf } = fx.pair({ backups: false });
  const apply = (st, i) => {
    st.set(`a.b${i % 7}`, { i, s: `v${i}` });
    if (i % 5 === 0) st.delete(`a.b${(i + 3) % 7}`);
  };
  for (let i = 0; i < 60; i++) {
    apply(tad, i);
    apply(conf, i);
  }
  await tad.flush({ file: true });
  assert.equal(fs.readFileSync(tad.path, 'utf8'), fs.readFileSync(conf.path, 'utf8'));
  assert.equal(tad.getStoreInfo().checkpointedSeq, tad.getStoreInfo().seq);
  for (let i = 60; i < 90; i++) {
    apply(tad, i);
    apply(conf, i);
  }
  tad.flushSync({ file: true });
  assert.equal(fs.readFileSync(tad.path, 'utf8'), fs.readFileSync(conf.path, 'utf8'));
  apply(tad, 90);
  apply(conf, 90);
  const file = tad.path;
  tad.close();
  assert.equal(fs.readFileSync(file, 'utf8'), fs.readFileSync(conf.path, 'utf8'));
});

test('the process ending without close() leaves the JSON file current', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  inChild("const s = new Store({ cwd: process.argv[1], backups: false }); for (let i = 0; i < 50; i++) s.set('k' + i, i); s.flush().then(() => s.set('last', true));", dir);
  const doc = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(doc.k49, 49);
  assert.equal(doc.last, true);
});

test('flush(options): bad options are TypeErrors (flush rejects, flushSync throws); a closed store is E_CLOSED', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false });
  s.set('x', 1);
  for (const bad of [1, 'file', true]) {
    await assert.rejects(s.flush(bad), { name: 'TypeError', message: /options/ });
    assert.throws(() => s.flushSync(bad), { name: 'TypeError', message: /options/ });
  }
  await assert.rejects(s.flush({ file: 1 }), { name: 'TypeError', message: /options\.file/ });
  assert.throws(() => s.flushSync({ file: 'yes' }), { name: 'TypeError', message: /options\.file/ });
  // undefined, null, {} and { file: false } are the plain flush
  await s.flush(undefined);
  await s.flush(null);
  await s.flush({});
  s.flushSync({ file: false });
  s.close();
  await assert.rejects(s.flush(), { code: 'E_CLOSED' });
  await assert.rejects(s.flush({ file: true }), { code: 'E_CLOSED' });
  assert.throws(() => s.flushSync({ file: true }), { code: 'E_CLOSED' });
});
