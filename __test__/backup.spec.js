'use strict';

// Backups and recovery (SPEC §3 TAD surface, §4.1, §4.4, §7): createBackup,
// listBackups, restoreBackup (path checks, verification), pruning, automatic
// backups (at start, scheduled, critical keys), getHealthReport, rebuilding a
// damaged store file from the history and/or backups, and a kill -9 test of
// the journal and backups.
//
// Seed: BACKUP_SEED=<n> to replay the crash test's kill timings.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');

const { Store, fixture, rng, tmpDir, captureWarnings, assertMode, canSymlink } = require('./helpers.js');

const INDEX = path.join(__dirname, '..', 'index.js');
const SEED = Number(process.env.BACKUP_SEED) || Date.now() % 1_000_000;
const HEX64 = /^[0-9a-f]{64}$/;
const NAME = /^backup-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)-([0-9a-f]{8})\.json$/;

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const sha256 = bytes => crypto.createHash('sha256').update(bytes).digest('hex');
const plain = store => JSON.parse(JSON.stringify(store.store));
const fileText = state => JSON.stringify(state, null, '\t');
const backupDir = store => path.join(path.dirname(store.path), 'backups');
const journalPath = store => path.join(path.dirname(store.path), 'storeHistory', `${path.basename(store.path)}.journal`);
const NO_AUTO = { onStart: false, interval: 0 };

/** Polls `cond` (sync or async) until it is truthy; fails after `ms`. */
async function waitFor(cond, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The backups whose .meta.json is written (a backup being taken is briefly listed without it). */
async function completeBackups(store) {
  return (await store.listBackups()).filter(b => b.metadata !== null);
}

/** Records every onChange('*') event as [key, newValue, oldValue], sorted by key on read. */
function recordAll(store) {
  const events = [];
  store.onChange('*', (n, o, k) => events.push([k, n, o]));
  return events;
}
const byKey = list => [...list].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));

/** Checks one listBackups() item against the files on disk. */
function checkBackup(item, store) {
  assert.match(item.file, NAME);
  assert.equal(item.path, path.join(backupDir(store), item.file));
  const meta = item.metadata;
  assert.ok(meta, `metadata of ${item.file}`);
  const bytes = fs.readFileSync(item.path);
  assert.equal(meta.hash, sha256(bytes), `hash of ${item.file}`);
  assert.equal(meta.size, bytes.length, `size of ${item.file}`);
  assert.equal(meta.originalFile, path.basename(store.path));
  const [, time, hex] = NAME.exec(item.file);
  assert.equal(time, meta.backupTime.replace(/[:.]/g, '-'), 'file name carries the backup time');
  assert.equal(hex, meta.hash.slice(0, 8), 'file name carries the hash prefix');
  assert.equal(new Date(meta.backupTime).toISOString(), meta.backupTime);
  const metaText = fs.readFileSync(`${item.path}.meta.json`, 'utf8');
  assert.deepStrictEqual(JSON.parse(metaText), meta);
  assert.equal(metaText.replace(/\n$/, ''), JSON.stringify(meta, null, 2), '.meta.json is 2-space JSON');
  assert.ok(Number.isInteger(meta.seq) && meta.seq >= 0);
  assert.match(meta.documentHash, HEX64);
  return JSON.parse(bytes.toString('utf8'));
}

/** Journal check: JSON lines, consecutive seqs, `prev` = sha256 of the previous change line. */
function readJournal(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the journal ends with a newline');
  const changes = [];
  const checkpoints = [];
  let prevLine = null;
  for (const line of lines) {
    const rec = JSON.parse(line);
    if (rec.checkpoint !== undefined) {
      checkpoints.push(rec);
      continue;
    }
    assert.ok(Number.isInteger(rec.seq) && Array.isArray(rec.patch) && Array.isArray(rec.inverse) && HEX64.test(rec.hashAfter), `change line ${line.slice(0, 120)}`);
    if (prevLine !== null) {
      assert.equal(rec.seq, changes[changes.length - 1].seq + 1, 'consecutive seqs in the journal');
      assert.equal(rec.prev, sha256(prevLine), `hash chain broken at seq ${rec.seq}`);
    } else if (rec.seq === 1) {
      assert.equal(rec.prev, null);
    }
    changes.push(rec);
    prevLine = line;
  }
  return { changes, checkpoints };
}

/** Summary entries: consecutive, and hashAfter of n is hashBefore of n+1 (reversible ones). */
function checkChain(summary) {
  assert.equal(summary.totalEntries, summary.entries.length);
  for (let i = 1; i < summary.entries.length; i++) {
    const a = summary.entries[i - 1];
    const b = summary.entries[i];
    assert.equal(b.seq, a.seq + 1, 'consecutive entries');
    if (a.reversible && b.reversible) assert.equal(b.hashBefore, a.hashAfter, `chain ${a.seq} -> ${b.seq}`);
  }
}

// ---------------------------------------------------------------------------
// createBackup / listBackups / metadata
// ---------------------------------------------------------------------------

test('createBackup(): file name, bytes, .meta.json fields, hash, modes', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: NO_AUTO });
  s.set({ a: 1, nested: { list: [1, 'ü', null], 'k.e/y~': true } });
  const before = Date.now();
  const file = await s.createBackup();
  const after = Date.now();
  assert.equal(path.dirname(file), backupDir(s));
  assert.match(path.basename(file), NAME);
  const list = await s.listBackups();
  assert.equal(list.length, 1);
  const [item] = list;
  assert.equal(item.path, file);
  const content = checkBackup(item, s);
  assert.deepStrictEqual(content, plain(s));
  // the bytes are the store file's format (electron-store: tabs)
  assert.equal(fs.readFileSync(file, 'utf8'), fileText(plain(s)));
  s.flushSync({ file: true });
  assert.ok(fs.readFileSync(file).equals(fs.readFileSync(s.path)), 'same bytes as the store file');
  const meta = item.metadata;
  assert.deepStrictEqual(Object.keys(meta).sort(), ['backupTime', 'documentHash', 'hash', 'originalFile', 'reason', 'seq', 'size']);
  assert.equal(meta.reason, 'manual');
  assert.equal(meta.originalFile, 'config.json');
  const time = Date.parse(meta.backupTime);
  assert.ok(time >= before - 1000 && time <= after + 1000, 'backupTime is the time of the backup');
  assert.equal(meta.seq, s.getStoreInfo().seq);
  const summary = await s.getHistorySummary();
  assert.equal(meta.documentHash, summary.entries[summary.entries.length - 1].hashAfter, 'documentHash is the history hash of that state');
  assertMode(file, 0o600);
  assertMode(`${file}.meta.json`, 0o600);
  assertMode(s.path, 0o600);
  assertMode(journalPath(s), 0o600);

  // a custom reason; the same content again is still a new manual backup
  await sleep(2);
  const second = await s.createBackup('before-upgrade');
  assert.notEqual(second, file);
  const [newest, oldest] = await s.listBackups();
  assert.equal(newest.path, second);
  assert.equal(newest.metadata.reason, 'before-upgrade');
  assert.equal(oldest.path, file);
  checkBackup(newest, s);

  for (const bad of [5, null, {}, ['x'], true]) {
    await assert.rejects(s.createBackup(bad), TypeError, `createBackup(${JSON.stringify(bad)})`);
  }
});

test('backups of an empty store, and after clear(), are valid and restorable', async t => {
  const s = fixture(t).open({ backups: NO_AUTO });
  const empty = await s.createBackup('empty');
  s.set('a', 1);
  const [item] = (await s.listBackups()).filter(b => b.path === empty);
  assert.deepStrictEqual(checkBackup(item, s), {});
  assert.equal(await s.restoreBackup(empty), true);
  assert.deepStrictEqual(plain(s), {});
});

test('listBackups() is newest first; getHealthReport() counts them', async t => {
  const s = fixture(t).open({ backups: NO_AUTO });
  const health0 = s.getHealthReport();
  assert.equal(health0.backupCount, 0);
  assert.equal(health0.lastBackup, null);
  const paths = [];
  for (let i = 0; i < 4; i++) {
    s.set('i', i);
    paths.push(await s.createBackup(`r${i}`));
    await sleep(2);
  }
  const list = await s.listBackups();
  assert.deepStrictEqual(list.map(b => b.path), [...paths].reverse());
  assert.deepStrictEqual(list.map(b => b.metadata.reason), ['r3', 'r2', 'r1', 'r0']);
  list.forEach((b, i) => assert.deepStrictEqual(checkBackup(b, s), { i: 3 - i }));
  for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].metadata.backupTime >= list[i].metadata.backupTime);

  await s.flush({ file: true });
  const h = s.getHealthReport();
  assert.equal(h.backupCount, 4);
  assert.equal(h.lastBackup, list[0].metadata.backupTime);
  assert.equal(h.keyCount, 1);
  assert.equal(h.storeSize, fs.statSync(s.path).size);
  assert.equal(h.historyEntries, 4);
  assert.equal(h.durability, 'deferred');
  assert.equal(h.pendingWrites, 0);
  assert.equal(h.writerError, null);
  assert.equal(h.healthy, true);
  assert.equal(h.listenerCount, 0);
  assert.equal(typeof h.lastCheckpointMs, 'number');
  assert.equal(h.recovery.quarantined, null);
  assert.equal(h.recovery.recovered, null);
  s.onChange('*', () => {});
  assert.equal(s.getHealthReport().listenerCount, 1);
});

test('pruning keeps the newest maxBackups (backup and .meta.json removed together)', async t => {
  const s = fixture(t).open({ backups: { ...NO_AUTO, maxBackups: 3 } });
  for (let i = 0; i < 7; i++) {
    s.set('i', i);
    await s.createBackup(`r${i}`);
  }
  let list = await s.listBackups();
  assert.deepStrictEqual(list.map(b => b.metadata.reason), ['r6', 'r5', 'r4']);
  list.forEach(b => checkBackup(b, s));
  const names = fs.readdirSync(backupDir(s)).sort();
  assert.deepStrictEqual(names, list.flatMap(b => [b.file, `${b.file}.meta.json`]).sort());
  // a restore's 'before-restore' backup is pruned the same way
  s.set('i', 99);
  await s.restoreBackup(list[2].file);
  list = await s.listBackups();
  assert.deepStrictEqual(list.map(b => b.metadata.reason), ['before-restore', 'r6', 'r5']);
  assert.equal(fs.readdirSync(backupDir(s)).length, 6);
  assert.equal(s.getHealthReport().backupCount, 3);
});

test('concurrent createBackup() calls all succeed, keep maxBackups and leave no orphan .meta.json', async t => {
  const fx = fixture(t);
  for (let round = 0; round < 3; round++) {
    const s = fx.open({ backups: { ...NO_AUTO, maxBackups: 2 } });
    const calls = [];
    const seen = [];
    for (let i = 0; i < 12; i++) {
      s.set('i', i);
      calls.push(s.createBackup(`c${i}`));
      seen.push(s.listBackups());
    }
    const results = await Promise.allSettled(calls);
    const rejected = results.filter(r => r.status === 'rejected').map(r => `${r.reason.code} ${r.reason.message}`);
    assert.deepStrictEqual(rejected, [], `round ${round}: rejected createBackup calls`);
    for (const list of await Promise.all(seen)) {
      assert.ok(list.every(b => b.metadata !== null), `round ${round}: a listed backup without metadata`);
    }
    const names = fs.readdirSync(backupDir(s));
    const orphanMeta = names.filter(n => n.endsWith('.meta.json') && !names.includes(n.slice(0, -'.meta.json'.length)));
    assert.deepStrictEqual(orphanMeta, [], `round ${round}: .meta.json files without their backup`);
    const list = await s.listBackups();
    assert.equal(list.length, 2, `round ${round}: maxBackups kept`);
    list.forEach(b => checkBackup(b, s));
    s.close();
  }
});

test('the backups directory option; backups: false still allows manual backups', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const s = fx.open({ cwd, backups: { ...NO_AUTO, directory: 'my-backups' } });
  s.set('a', 1);
  const file = await s.createBackup();
  assert.equal(path.dirname(file), path.join(cwd, 'my-backups'));
  assert.equal((await s.listBackups()).length, 1);
  assert.equal(await s.restoreBackup(path.basename(file)), true);
  s.close();

  const off = fx.open({ backups: false, defaults: { x: 1 } });
  off.set('settings', { a: 1 });
  assert.equal(fs.existsSync(backupDir(off)), false, 'nothing automatic');
  assert.match(path.basename(await off.createBackup()), NAME);
  assert.equal((await off.listBackups()).length, 1);
});

// ---------------------------------------------------------------------------
// restoreBackup
// ---------------------------------------------------------------------------

test('restoreBackup(): by file name or listed path; events; history entry; before-restore backup; undo by rollback', async t => {
  const s = fixture(t).open({ backups: NO_AUTO });
  s.set({ a: 1, b: { c: [1] }, same: 'x' });
  const file = await s.createBackup('good');
  s.set('a', 2);
  s.set('b.c', [1, 2]);
  s.set('new', true);
  const current = plain(s);
  const seqBefore = s.getStoreInfo().seq;

  const events = recordAll(s);
  const did = [];
  s.onDidChange('b.c', (n, o) => did.push([n, o]));
  s.onDidChange('same', (n, o) => did.push(['same', n, o]));
  let changes = 0;
  s.events.on('change', () => changes++);
  assert.equal(await s.restoreBackup(path.basename(file)), true);
  assert.deepStrictEqual(plain(s), { a: 1, b: { c: [1] }, same: 'x' });
  assert.deepStrictEqual(byKey(events), [['a', 1, 2], ['b', { c: [1] }, { c: [1, 2] }], ['new', undefined, true]], 'one event per changed top-level key');
  assert.deepStrictEqual(did, [[[1], [1, 2]]]);
  assert.equal(changes, 1);

  // the current state was backed up first
  const list = await s.listBackups();
  assert.deepStrictEqual(list.map(b => b.metadata.reason), ['before-restore', 'good']);
  assert.deepStrictEqual(checkBackup(list[0], s), current);
  assert.equal(list[0].metadata.seq, seqBefore);

  // a history entry, which a rollback can undo
  const summary = await s.getHistorySummary();
  const entry = summary.entries[summary.entries.length - 1];
  assert.equal(entry.operation, 'restore');
  assert.equal(entry.seq, seqBefore + 1);
  assert.equal(entry.reversible, true);
  await s.rollbackToSeq(seqBefore);
  assert.deepStrictEqual(plain(s), current);

  // by the exact path listBackups() returned
  events.length = 0;
  assert.equal(await s.restoreBackup(list[1].path), true);
  assert.deepStrictEqual(plain(s), { a: 1, b: { c: [1] }, same: 'x' });
  assert.equal(events.length, 3);
  s.flushSync({ file: true });
  assert.equal(fs.readFileSync(s.path, 'utf8'), fileText(plain(s)));
});

test('restoreBackup() of the current state: no before-restore backup, no events', async t => {
  const s = fixture(t).open({ backups: NO_AUTO });
  s.set('a', 1);
  const file = await s.createBackup();
  const events = recordAll(s);
  assert.equal(await s.restoreBackup(file), true);
  assert.deepStrictEqual(events, []);
  assert.equal((await s.listBackups()).length, 1, 'identical to the newest backup: skipped');
  // twice after the same change: the second before-restore backup would equal the first
  s.set('a', 2);
  await s.restoreBackup(file);
  s.set('a', 2);
  await s.restoreBackup(file);
  const list = await s.listBackups();
  assert.deepStrictEqual(list.map(b => b.metadata.reason), ['before-restore', 'manual']);
  assert.deepStrictEqual(checkBackup(list[0], s), { a: 2 });
  assert.deepStrictEqual(plain(s), { a: 1 });
});

test('restoreBackup() refuses anything but a backup in the backup directory (E_BACKUP_NOT_FOUND)', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const s = fx.open({ cwd, backups: NO_AUTO });
  s.set('a', 1);
  const file = await s.createBackup();
  const name = path.basename(file);
  const dir = backupDir(s);

  // a valid backup pair outside the backup directory
  const outside = fx.dir();
  fs.copyFileSync(file, path.join(outside, name));
  fs.copyFileSync(`${file}.meta.json`, path.join(outside, `${name}.meta.json`));
  fs.writeFileSync(path.join(outside, 'passwd'), 'root:x:0:0');
  // links inside the directory, pointing outside (with valid metadata beside
  // them); where links cannot be made (Windows without developer mode) these
  // names stay absent, and are refused as such
  const linkName = 'backup-2000-01-01T00-00-00-000Z-00000000.json';
  if (canSymlink()) {
    fs.symlinkSync(path.join(outside, name), path.join(dir, 'backup-x.json'));
    fs.symlinkSync(path.join(outside, `${name}.meta.json`), path.join(dir, 'backup-x.json.meta.json'));
    fs.symlinkSync(path.join(outside, name), path.join(dir, linkName));
    fs.copyFileSync(`${file}.meta.json`, path.join(dir, `${linkName}.meta.json`));
    // a link to the real backup, also refused
    fs.symlinkSync(file, path.join(dir, 'backup-link-to-real.json'));
    fs.copyFileSync(`${file}.meta.json`, path.join(dir, 'backup-link-to-real.json.meta.json'));
  } else {
    t.diagnostic('no symbolic links here: the link probes test absent names');
  }
  // a non-backup name in the directory
  fs.copyFileSync(file, path.join(dir, 'notes.json'));
  fs.copyFileSync(`${file}.meta.json`, path.join(dir, 'notes.json.meta.json'));

  s.set('a', 2);
  const events = recordAll(s);
  const probes = [
    '../config.json',
    '../../etc/passwd',
    '../../../../../../../../etc/passwd',
    '/etc/passwd',
    path.join(outside, 'passwd'),
    path.join(outside, name),
    `${dir}/../backups/${name}`,
    `backups/../backups/${name}`,
    `backups/${name}`,
    `./${name}`,
    `../backups/${name}`,
    `${name}/`,
    `${name}/.`,
    `${name}.meta.json`,
    path.join(dir, `${name}.meta.json`),
    'backup-x.json',
    path.join(dir, 'backup-x.json'),
    linkName,
    path.join(dir, linkName),
    'backup-link-to-real.json',
    'notes.json',
    'config.json',
    s.path,
    dir,
    '.',
    '..',
    'backup-nope.json',
    name.toUpperCase(),
    `${name}\0`,
    `..\\${name}`,
    path.relative(process.cwd(), file),
  ];
  for (const probe of probes) {
    await assert.rejects(s.restoreBackup(probe), err => {
      assert.equal(err.code, 'E_BACKUP_NOT_FOUND', `${JSON.stringify(probe)}: ${err.code} ${err.message}`);
      return true;
    }, JSON.stringify(probe));
  }
  for (const bad of ['', 5, null, undefined, {}, ['x'], Buffer.from(name), Symbol('x')]) {
    let p;
    assert.doesNotThrow(() => {
      p = s.restoreBackup(bad);
    });
    await assert.rejects(p, TypeError, String(typeof bad));
  }
  assert.deepStrictEqual(plain(s), { a: 2 }, 'nothing restored');
  assert.deepStrictEqual(events, []);
  const reasons = (await s.listBackups()).map(b => b.metadata && b.metadata.reason);
  assert.ok(!reasons.includes('before-restore'), 'no before-restore backup for a refused restore');
  assert.equal(fs.readFileSync(path.join(outside, 'passwd'), 'utf8'), 'root:x:0:0');
  // the real one still works
  assert.equal(await s.restoreBackup(name), true);
  assert.deepStrictEqual(plain(s), { a: 1 });
});

test('a tampered backup or one without .meta.json is E_BACKUP_CORRUPT; the store is unchanged', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: NO_AUTO });
  s.set('a', 1);
  const good = await s.createBackup('good');
  s.set('a', 2);
  const tampered = await s.createBackup('tampered');
  s.set('a', 3);
  const noMeta = await s.createBackup('no-meta');
  s.set('a', 4);
  const garbage = await s.createBackup('garbage');
  s.set('a', 5);
  const notObject = await s.createBackup('array');
  s.set('a', 6);

  fs.writeFileSync(tampered, fileText({ a: 666 }));
  fs.rmSync(`${noMeta}.meta.json`);
  // content that does not parse (or is not an object), with a matching hash
  for (const [file, bytes] of [[garbage, 'garbage{'], [notObject, '[1,2]']]) {
    fs.writeFileSync(file, bytes);
    const meta = JSON.parse(fs.readFileSync(`${file}.meta.json`, 'utf8'));
    fs.writeFileSync(`${file}.meta.json`, JSON.stringify({ ...meta, hash: sha256(bytes), size: bytes.length }, null, 2));
  }
  // a meta file that does not parse
  const badMeta = await s.createBackup('bad-meta');
  fs.writeFileSync(`${badMeta}.meta.json`, '{not json');

  const listed = await s.listBackups();
  // a backup is listed only when it is complete: its .meta.json (written after
  // the backup itself is durable) is there and parses
  assert.equal(listed.find(b => b.path === noMeta), undefined, 'a backup without .meta.json is not listed');
  assert.equal(listed.find(b => b.path === badMeta), undefined, 'a backup whose .meta.json does not parse is not listed');
  assert.ok(listed.every(b => b.metadata !== null));
  assert.ok(listed.some(b => b.path === tampered), 'a tampered backup is listed (and refused on restore)');
  const countBefore = listed.length;
  const seq = s.getStoreInfo().seq;
  const events = recordAll(s);
  for (const file of [tampered, noMeta, garbage, notObject, badMeta]) {
    await assert.rejects(s.restoreBackup(path.basename(file)), { code: 'E_BACKUP_CORRUPT' }, path.basename(file));
    await assert.rejects(s.restoreBackup(file), { code: 'E_BACKUP_CORRUPT' });
  }
  assert.deepStrictEqual(plain(s), { a: 6 });
  assert.deepStrictEqual(events, []);
  assert.equal(s.getStoreInfo().seq, seq, 'no history entry');
  assert.equal((await s.listBackups()).length, countBefore, 'no before-restore backup');
  assert.equal(await s.restoreBackup(good), true);
  assert.deepStrictEqual(plain(s), { a: 1 });
});

test('a closed store rejects backup calls with E_CLOSED', async t => {
  const s = fixture(t).open({ backups: NO_AUTO });
  s.set('a', 1);
  const file = await s.createBackup();
  s.close();
  await assert.rejects(s.createBackup(), { code: 'E_CLOSED' });
  await assert.rejects(s.listBackups(), { code: 'E_CLOSED' });
  await assert.rejects(s.restoreBackup(file), { code: 'E_CLOSED' });
  assert.throws(() => s.getHealthReport(), { code: 'E_CLOSED' });
});

test('restoreBackup(): listeners subscribed before it get what conf gives them for `store = backup` (onDidChange by key and dot path, onDidAnyChange, change events)', async t => {
  const fx = fixture(t);
  const before = { a: 1, b: { c: [1], d: 'x' }, same: { deep: [1, { e: 2 }] }, list: [1, 2, 3], gone: { x: 1 } };
  const backedUp = { a: 2, b: { c: [1, 2], d: 'x' }, same: { deep: [1, { e: 2 }] }, list: [1, 2], added: null };
  const s = fx.open({ backups: NO_AUTO });
  s.store = backedUp;
  const file = await s.createBackup('target');
  s.store = before;
  const conf = fx.conf();
  conf.store = before;
  const record = store => {
    const calls = [];
    for (const key of ['a', 'b', 'b.c', 'b.d', 'same', 'same.deep', 'list', 'gone', 'gone.x', 'added', 'absent']) {
      store.onDidChange(key, (n, o) => calls.push(['key', key, n, o]));
    }
    store.onDidAnyChange((n, o) => calls.push(['any', n, o]));
    return calls;
  };
  const fromTad = record(s);
  const fromConf = record(conf);
  const perKey = recordAll(s);
  assert.equal(await s.restoreBackup(path.basename(file)), true);
  conf.store = backedUp;
  assert.deepStrictEqual(plain(s), plain(conf));
  assert.deepStrictEqual(fromTad, fromConf, 'the same listener calls, in the same order, with the same values');
  assert.ok(fromTad.length > 5, 'some listeners fired');
  assert.deepStrictEqual(byKey(perKey), [
    ['a', 2, 1],
    ['added', null, undefined],
    ['b', { c: [1, 2], d: 'x' }, { c: [1], d: 'x' }],
    ['gone', undefined, { x: 1 }],
    ['list', [1, 2], [1, 2, 3]],
  ], 'one change event per changed top-level key, none for the equal one');
  // the values handed to listeners are the store's, not shared with it
  const any = fromTad.find(c => c[0] === 'any');
  any[1].b.c.push('mutated');
  assert.deepStrictEqual(s.get('b.c'), [1, 2]);
});

test('restoreBackup() racing with sets: every acknowledged set is kept in the history, the events describe the state the restore replaced, a rollback gives it back exactly', async t => {
  const fx = fixture(t);
  for (const listening of [false, true]) {
    const s = fx.open({ cwd: fx.dir(), backups: NO_AUTO, history: { maxEntries: 100_000 } });
    for (let i = 0; i < 200; i++) s.set(`k${i}`, { i, tags: [i, 'x'] });
    const file = await s.createBackup('target');
    const target = plain(s);
    s.set('k0', 'changed');
    const events = listening ? recordAll(s) : null;
    const p = s.restoreBackup(path.basename(file));
    // sets while the restore is prepared on a worker thread: before or after
    // its snapshot, depending on the scheduler
    // its snapshot, depending on the scheduler; synchronous, so all of them
    // are applied before the restore (which applies on this thread)
    const racing = [];
    const until = Date.now() + 30;
    for (let i = 0; i < 100 || (Date.now() < until && i < 2000); i++) {
      s.set(`racing${i}`, i);
      s.set(`k${(i % 199) + 1}.i`, -i);
      racing.push(`racing${i}`);
    }
    const replaced = plain(s);
    assert.equal(await p, true);
    assert.deepStrictEqual(plain(s), target, 'the restore wins over the sets made before it applied');
    if (listening) {
      const last = new Map();
      for (const [k, n, o] of events) last.set(k, [n, o]);
      for (const k of racing) assert.deepStrictEqual(last.get(k), [undefined, replaced[k]], `the restore removed ${k}`);
      assert.deepStrictEqual(last.get('k0'), [target.k0, 'changed']);
    }
    s.set('after', 1);
    await s.flush();
    const summary = await s.getHistorySummary();
    const ops = summary.entries.map(e => e.operation);
    const at = ops.lastIndexOf('restore');
    assert.ok(at > 0, 'a restore entry');
    const setsBefore = summary.entries.slice(0, at).flatMap(e => e.keys);
    for (const k of racing) assert.ok(setsBefore.includes(k), `${k} is in the history before the restore`);
    assert.deepStrictEqual(summary.entries[at + 1].keys, ['after']);
    // nothing acknowledged is lost: the state the restore replaced comes back exactly
    await s.rollbackToSeq(summary.entries[at].seq - 1);
    assert.deepStrictEqual(plain(s), replaced);
    s.close();
    const again = fx.open({ cwd: path.dirname(s.path), backups: NO_AUTO, history: { maxEntries: 100_000 } });
    assert.deepStrictEqual(plain(again), replaced, 'reopened: the same state');
    again.close();
  }
});

test('closing while a restore is in flight: it completes or fails with E_CLOSED, never half-applied', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: NO_AUTO });
  for (let i = 0; i < 50; i++) s.set(`k${i}`, i);
  const file = await s.createBackup();
  s.set({ k0: 'changed', extra: 1 });
  const changed = plain(s);
  const p = s.restoreBackup(file);
  s.close();
  const outcome = await p.then(() => 'done', e => e);
  const again = fx.open({ cwd: path.dirname(s.path), backups: NO_AUTO });
  if (outcome === 'done') {
    assert.equal(plain(again).extra, undefined);
  } else {
    assert.equal(outcome.code, 'E_CLOSED', `${outcome.code} ${outcome.message}`);
    assert.deepStrictEqual(plain(again), changed);
  }
});

test('stores with different names in one directory keep their backups apart', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const a = fx.open({ cwd, name: 'a', backups: { ...NO_AUTO, maxBackups: 2 } });
  const b = fx.open({ cwd, name: 'b', backups: { ...NO_AUTO, maxBackups: 2 } });
  b.set('secret', 'b');
  const bBackup = await b.createBackup('b1');
  for (let i = 0; i < 3; i++) {
    a.set('x', i);
    await a.createBackup(`a${i}`);
  }
  assert.deepStrictEqual((await b.listBackups()).map(x => x.metadata.originalFile), ['b.json'], "b lists only its own backups");
  assert.ok(fs.existsSync(bBackup), "a's pruning left b's backup alone");
  const aBackup = (await a.listBackups())[0].path;
  await assert.rejects(b.restoreBackup(aBackup), "b refuses a's backup");
  assert.deepStrictEqual(plain(b), { secret: 'b' });
});

// ---------------------------------------------------------------------------
// Automatic backups
// ---------------------------------------------------------------------------

test('startup backup: none for an empty store, one at the first open, skipped across 10 unchanged reopenings', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const opts = { cwd, backups: { interval: 0, maxBackups: 5 } };
  const list = async () => {
    const s = fx.open({ cwd, backups: false });
    try {
      return await s.listBackups();
    } finally {
      s.close();
    }
  };
  let s = fx.open(opts);
  s.set('a', 1);
  s.close();
  assert.deepStrictEqual(await list(), [], 'the store was empty at open');

  s = fx.open(opts);
  await waitFor(async () => (await completeBackups(s)).length === 1, 'the startup backup');
  s.close();
  const [first] = await list();
  assert.equal(first.metadata.reason, 'application-start');
  assert.deepStrictEqual(JSON.parse(fs.readFileSync(first.path, 'utf8')), { a: 1 });

  for (let i = 0; i < 10; i++) {
    s = fx.open(opts);
    s.close();
  }
  const after = await list();
  assert.deepStrictEqual(after.map(b => b.file), [first.file], 'restarts do not push useful backups out');

  // a change made in a session: the next start backs the new content up
  s = fx.open(opts);
  s.set('a', 2);
  s.close();
  s = fx.open(opts);
  await waitFor(async () => (await completeBackups(s)).length === 2, 'the second startup backup');
  s.close();
  const two = await list();
  assert.deepStrictEqual(two.map(b => b.metadata.reason), ['application-start', 'application-start']);
  assert.deepStrictEqual(JSON.parse(fs.readFileSync(two[0].path, 'utf8')), { a: 2 });
  for (let i = 0; i < 10; i++) {
    s = fx.open(opts);
    s.close();
  }
  assert.equal((await list()).length, 2);

  // onStart: false
  s = fx.open({ cwd, backups: { onStart: false, interval: 0 } });
  s.set('a', 3);
  s.close();
  s = fx.open({ cwd, backups: { onStart: false, interval: 0 } });
  s.close();
  assert.equal((await list()).length, 2);
});

test('startup backup holds the state the store had at open', async t => {
  const fx = fixture(t);
  for (let i = 0; i < 10; i++) {
    const cwd = fx.dir();
    let s = fx.open({ cwd, backups: false });
    s.set('a', 1);
    s.close();
    s = fx.open({ cwd, backups: { interval: 0 } });
    s.set('a', 2);
    s.close();
    s = fx.open({ cwd, backups: false });
    const list = await s.listBackups();
    s.close();
    assert.equal(list.length, 1, `attempt ${i}: a startup backup was taken`);
    assert.equal(list[0].metadata.reason, 'application-start');
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(list[0].path, 'utf8')), { a: 1 }, `attempt ${i}: the backup holds the state at open`);
  }
});

test('critical keys: a burst of 1000 writes makes ONE backup after coalesceMs, with the final content', async t => {
  const s = fixture(t).open({ backups: { ...NO_AUTO, criticalKeys: ['settings', 'ai.apiKey'], coalesceMs: 20 } });
  for (let i = 0; i < 1000; i++) s.set('settings.theme', `t${i}`);
  s.set('other', 1);
  const [backup] = await waitFor(async () => {
    const l = await completeBackups(s);
    return l.length > 0 && l;
  }, 'the critical-data-change backup');
  await sleep(150);
  const list = await completeBackups(s);
  assert.equal(list.length, 1, 'one backup for the burst');
  assert.equal(backup.metadata.reason, 'critical-data-change');
  assert.deepStrictEqual(checkBackup(list[0], s), { settings: { theme: 't999' }, other: 1 });
});

test('critical keys: non-critical writes make no backup; parents, setMultiple, store= and rollbacks of critical keys do', async t => {
  const s = fixture(t).open({ backups: { ...NO_AUTO, criticalKeys: ['settings', 'ai.apiKey'], coalesceMs: 10 } });
  const count = async () => (await completeBackups(s)).length;
  for (let i = 0; i < 50; i++) s.set('other', i);
  s.set('ai.model', 'x'); // a sibling of a critical key
  s.set('settingsX', 1); // a prefix that is not a path prefix
  await sleep(150);
  assert.equal(await count(), 0, 'no critical key changed');

  const steps = [
    () => s.set('ai', { apiKey: 'k1' }),
    () => s.setMultiple({ 'ai.apiKey': 'k2', other: -1 }),
    () => s.set('settings', { a: 1 }),
    () => s.delete('settings.a'),
    () => {
      s.store = { settings: { b: 2 } };
    },
    () => s.rollbackToSeq(s.getStoreInfo().seq - 1),
  ];
  for (const [i, step] of steps.entries()) {
    await step();
    await waitFor(async () => (await count()) === i + 1, `backup after step ${i}`);
  }
  const reasons = (await s.listBackups()).map(b => b.metadata.reason);
  assert.ok(reasons.every(r => r === 'critical-data-change'), reasons.join());
});

test('close() takes a pending critical backup synchronously', t => {
  const fx = fixture(t);
  const s = fx.open({ backups: { ...NO_AUTO, criticalKeys: ['user'], coalesceMs: 60_000 } });
  s.set('user.name', 'ada');
  s.set('user.email', 'ada@example.com');
  assert.equal(fs.existsSync(backupDir(s)) ? fs.readdirSync(backupDir(s)).length : 0, 0, 'not yet');
  s.close();
  const names = fs.readdirSync(backupDir(s)).sort();
  assert.equal(names.length, 2, names.join());
  const [file, metaFile] = names;
  assert.match(file, NAME);
  assert.equal(metaFile, `${file}.meta.json`);
  const meta = JSON.parse(fs.readFileSync(path.join(backupDir(s), metaFile), 'utf8'));
  assert.equal(meta.reason, 'critical-data-change');
  const bytes = fs.readFileSync(path.join(backupDir(s), file));
  assert.equal(meta.hash, sha256(bytes));
  assert.deepStrictEqual(JSON.parse(bytes), { user: { name: 'ada', email: 'ada@example.com' } });
});

test('scheduled backups run every interval and are skipped when nothing changed', async t => {
  const s = fixture(t).open({ backups: { onStart: false, interval: 80 } });
  s.set('a', 1);
  await waitFor(async () => (await completeBackups(s)).length === 1, 'a scheduled backup');
  await sleep(400);
  let list = await completeBackups(s);
  assert.equal(list.length, 1, 'unchanged: no new scheduled backups');
  assert.equal(list[0].metadata.reason, 'scheduled');
  s.set('a', 2);
  await waitFor(async () => (await completeBackups(s)).length === 2, 'a second scheduled backup');
  list = await completeBackups(s);
  assert.deepStrictEqual(checkBackup(list[0], s), { a: 2 });
});

/** Runs a CommonJS snippet in a child node (`Store` defined); returns spawnSync's result. */
function runChild(code, env = {}) {
  return spawnSync(process.execPath, ['-e', `const Store = require(${JSON.stringify(INDEX)});\n${code}`], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

test('no backup timer keeps the process alive after close() (interval and criticalKeys)', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const res = runChild(`
    const s = new Store({ cwd: process.env.DIR, backups: { interval: 1000, criticalKeys: ['settings'], coalesceMs: 5000 } });
    s.set('settings.theme', 'dark');
    s.set('x', 1);
    s.close();
    process.stdout.write('closed');
  `, { DIR: cwd });
  assert.equal(res.signal, null, `the child had to be killed: it did not exit on its own (${res.stderr})`);
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout, 'closed');
  const s = fx.open({ cwd, backups: false });
  const list = await s.listBackups();
  assert.equal(list.length, 1);
  assert.equal(list[0].metadata.reason, 'critical-data-change');
  assert.deepStrictEqual(checkBackup(list[0], s), { settings: { theme: 'dark' }, x: 1 });
});

test('without close(), the process still exits and the pending critical backup is taken at exit', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const res = runChild(`
    const s = new Store({ cwd: process.env.DIR, backups: { interval: 1000, criticalKeys: ['settings'], coalesceMs: 60000 } });
    s.set('settings.theme', 'light');
  `, { DIR: cwd });
  assert.equal(res.signal, null, `the child had to be killed (${res.stderr})`);
  assert.equal(res.status, 0, res.stderr);
  const s = fx.open({ cwd, backups: false });
  assert.deepStrictEqual(plain(s), { settings: { theme: 'light' } });
  const list = await s.listBackups();
  assert.equal(list.length, 1);
  assert.deepStrictEqual(checkBackup(list[0], s), { settings: { theme: 'light' } });
});

// ---------------------------------------------------------------------------
// Recovery of a damaged store file
// ---------------------------------------------------------------------------

const DAMAGE = {
  garbage: () => Buffer.from('this is not json {{{'),
  truncated: good => good.subarray(0, Math.floor(good.length / 2)),
  'zero-filled': good => Buffer.alloc(good.length),
  empty: () => Buffer.alloc(0),
};

/** Opens with warnings captured; returns { store, warnings, recovered: Promise of the 'recovered' event }. */
function openCapturing(fx, opts) {
  let store;
  const { warnings } = captureWarnings(() => {
    store = fx.open(opts);
  });
  const recovered = new Promise(resolve => {
    store.events.once('recovered', resolve);
    setTimeout(() => resolve(null), 200).unref();
  });
  return { store, warnings, recovered };
}

/** Files kept aside as `<file>.corrupt-<ms>`. */
function quarantined(store) {
  const dir = path.dirname(store.path);
  const base = path.basename(store.path);
  return fs.readdirSync(dir).filter(n => n.startsWith(`${base}.corrupt-`) && /^\d+$/.test(n.slice(`${base}.corrupt-`.length)));
}

for (const [kind, damage] of Object.entries(DAMAGE)) {
  test(`a damaged store file (${kind}) is rebuilt from the full history; the bad file is kept`, async t => {
    const fx = fixture(t);
    const cwd = fx.dir();
    let s = fx.open({ cwd, backups: false });
    s.set('a', 1);
    s.set('b', { c: [1, 2, { 'd/e': '~' }] });
    s.setMultiple({ 'b.c.0': 'x', u: 'ünï' });
    s.delete('a');
    s.set('n', 5);
    const want = plain(s);
    const seq2 = await (async () => {
      const summary = await s.getHistorySummary();
      return summary.entries[1];
    })();
    s.close();
    const bad = damage(fs.readFileSync(s.path));
    fs.writeFileSync(s.path, bad);

    const { store, warnings, recovered } = openCapturing(fx, { cwd, backups: false });
    assert.deepStrictEqual(plain(store), want);
    const info = store.getStoreInfo().recovery;
    assert.equal(typeof info.recovered, 'string');
    assert.match(info.recovered, /history/);
    assert.ok(info.quarantined, 'the bad file is kept');
    assert.equal(path.dirname(info.quarantined), cwd);
    assert.match(path.basename(info.quarantined), /^config\.json\.corrupt-\d+$/);
    assert.ok(fs.readFileSync(info.quarantined).equals(bad), 'kept byte for byte');
    assert.deepStrictEqual(quarantined(store), [path.basename(info.quarantined)]);
    const health = store.getHealthReport();
    assert.equal(health.recovery.recovered, info.recovered);
    assert.equal(health.recovery.quarantined, info.quarantined);
    const event = await recovered;
    assert.ok(event, "a 'recovered' event");
    assert.equal(event.recovered, info.recovered);
    assert.equal(event.quarantined, info.quarantined);
    const w = warnings.filter(x => x.code === 'TAD_STORE_QUARANTINED');
    assert.equal(w.length, 1, JSON.stringify(warnings));
    assert.ok(w[0].message.includes(info.quarantined));

    // the history survives the rebuild and still rolls back
    const summary = await store.getHistorySummary();
    checkChain(summary);
    assert.equal(summary.entries[1].hashAfter, seq2.hashAfter);
    await store.rollbackToSeq(2);
    assert.deepStrictEqual(plain(store), { a: 1, b: { c: [1, 2, { 'd/e': '~' }] } });
    await store.rollbackToSeq(summary.entries[summary.entries.length - 1].seq);
    assert.deepStrictEqual(plain(store), want);
    store.close();
    assert.equal(fs.readFileSync(store.path, 'utf8'), fileText(want), 'the store file is rewritten');
    assertMode(store.path, 0o600);

    // a clean reopen: nothing more to recover
    const again = fx.open({ cwd, backups: false });
    assert.equal(again.getStoreInfo().recovery.quarantined, null);
    assert.deepStrictEqual(plain(again), want);
  });
}

test('a damaged file with a trimmed history is rebuilt from the newest backup plus the journal changes after it', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const opts = { cwd, backups: NO_AUTO, history: { maxEntries: 3 } };
  let s = fx.open(opts);
  for (let i = 1; i <= 100; i++) {
    s.set(`k${i % 7}`, i);
    if (i % 10 === 0) await s.flush();
  }
  await s.createBackup('older');
  s.set('old', true);
  const backup = await s.createBackup('base');
  const backupSeq = (await s.listBackups())[0].metadata.seq;
  s.set('after1', 1);
  s.delete('k0');
  s.setMultiple({ 'k1': 'x', 'deep.er': [1] });
  s.set('k2', { z: 1 });
  const want = plain(s);
  s.close();
  const { changes } = readJournal(journalPath(s));
  assert.ok(changes[0].seq > 1, `the history no longer reaches change 1 (starts at ${changes[0].seq})`);
  assert.ok(changes[0].seq <= backupSeq + 1, 'the journal reaches back to the backup');
  fs.writeFileSync(s.path, Buffer.alloc(64));

  const { store, warnings, recovered } = openCapturing(fx, opts);
  assert.deepStrictEqual(plain(store), want);
  const info = store.getStoreInfo().recovery;
  assert.match(info.recovered, /backup/);
  assert.ok(info.recovered.includes(path.basename(backup)), info.recovered);
  assert.ok(fs.existsSync(info.quarantined));
  assert.ok(await recovered);
  assert.equal(warnings.filter(x => x.code === 'TAD_STORE_QUARANTINED').length, 1);
  checkChain(await store.getHistorySummary());
  store.close();
  assert.equal(fs.readFileSync(store.path, 'utf8'), fileText(want));
});

test('with the journal deleted, the newest valid backup alone (a tampered newer one is skipped)', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const opts = { cwd, backups: NO_AUTO };
  let s = fx.open(opts);
  s.set('v', 1);
  await s.createBackup('v1');
  s.set('v', 2);
  const v2 = await s.createBackup('v2');
  s.set('v', 3);
  const v3 = await s.createBackup('v3');
  s.set('v', 4);
  s.close();
  fs.writeFileSync(v3, fileText({ v: 'evil' })); // no longer matches its hash
  fs.rmSync(path.join(cwd, 'storeHistory'), { recursive: true });
  fs.writeFileSync(s.path, 'garbage');

  const { store, warnings, recovered } = openCapturing(fx, opts);
  assert.deepStrictEqual(plain(store), { v: 2 });
  const info = store.getStoreInfo().recovery;
  assert.match(info.recovered, /backup/);
  assert.ok(info.recovered.includes(path.basename(v2)), info.recovered);
  assert.ok(await recovered);
  assert.equal(warnings.filter(x => x.code === 'TAD_STORE_QUARANTINED').length, 1);
  assert.equal(store.getHealthReport().recovery.recovered, info.recovered);
  // the store works normally afterwards
  store.set('v', 5);
  store.close();
  const again = fx.open(opts);
  assert.deepStrictEqual(plain(again), { v: 5 });
  assert.equal(again.getStoreInfo().recovery.quarantined, null);
});

test('nothing to recover from: E_CORRUPT and the file untouched; clearInvalidConfig: true starts from defaults and keeps the file', async t => {
  const fx = fixture(t);
  for (const [kind, damage] of Object.entries(DAMAGE)) {
    const cwd = fx.dir();
    const file = path.join(cwd, 'config.json');
    const bad = damage(Buffer.from(fileText({ a: 1, b: 'some content' })));
    fs.writeFileSync(file, bad);
    assert.throws(() => new Store({ cwd }), err => {
      assert.equal(err.code, 'E_CORRUPT', `${kind}: ${err.code} ${err.message}`);
      return true;
    });
    assert.ok(fs.readFileSync(file).equals(bad), `${kind}: untouched`);
    assert.deepStrictEqual(fs.readdirSync(cwd).filter(n => n.includes('corrupt')), [], `${kind}: nothing moved`);

    const { store, warnings } = openCapturing(fx, { cwd, clearInvalidConfig: true, defaults: { d: 1 } });
    assert.deepStrictEqual(plain(store), { d: 1 });
    const info = store.getStoreInfo().recovery;
    assert.ok(fs.readFileSync(info.quarantined).equals(bad), `${kind}: kept aside`);
    assert.equal(info.recovered, null);
    assert.equal(warnings.filter(x => x.code === 'TAD_STORE_QUARANTINED').length, 1);
    store.close();
  }

  // a trimmed history alone cannot rebuild the document
  const cwd = fx.dir();
  let s = fx.open({ cwd, backups: false, history: { maxEntries: 3 } });
  for (let i = 0; i < 100; i++) {
    s.set(`k${i % 5}`, i);
    if (i % 10 === 9) await s.flush({ file: true });
  }
  s.close();
  assert.ok(readJournal(journalPath(s)).changes[0].seq > 1);
  fs.writeFileSync(s.path, 'garbage');
  assert.throws(() => new Store({ cwd, backups: false, history: { maxEntries: 3 } }), { code: 'E_CORRUPT' });
  assert.equal(fs.readFileSync(s.path, 'utf8'), 'garbage');
});

// ---------------------------------------------------------------------------
// kill -9 while writing and backing up
// ---------------------------------------------------------------------------

const CRASH_OPTS = { history: { maxEntries: 20 }, backups: { maxBackups: 4, onStart: false, interval: 0 } };

// The child: change `c` sets counter = c, k<c % 5> = c and list = [c, c % 3] in
// one setMultiple, so every state is a function of its counter (expected(c)).
const CRASH_CHILD = `
const s = new Store({ cwd: process.env.DIR, ...${JSON.stringify(CRASH_OPTS)} });
let c = s.get('counter', 0);
process.stdout.write('ready\\n');
(async () => {
  for (;;) {
    c++;
    s.setMultiple({ counter: c, ['k' + (c % 5)]: c, list: [c, c % 3] });
    if (c % 50 === 0) await s.createBackup('crash-test');
    else if (c % 4 === 0) await new Promise(resolve => setImmediate(resolve));
  }
})().catch(error => {
  process.stderr.write(String(error && error.stack));
  process.exit(3);
});
`;

/** The state after the child's change number c. */
function expected(c) {
  if (c === 0) return {};
  const o = { counter: c };
  for (let j = 0; j < 5; j++) {
    const i = c - ((((c - j) % 5) + 5) % 5);
    if (i >= 1) o[`k${j}`] = i;
  }
  o.list = [c, c % 3];
  return o;
}

/** For each change line: the counter right after it (from the patches). */
function countersBySeq(changes) {
  const out = new Map();
  let counter;
  for (const c of changes) {
    for (const op of c.patch) {
      if (op.path === '/counter') counter = op.op === 'remove' ? 0 : op.value;
      else if (op.path === '') counter = op.value.counter === undefined ? 0 : op.value.counter;
    }
    out.set(c.seq, counter);
  }
  return out;
}

function runCrashChild(dir, delay, fromSpawn) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['-e', `const Store = require(${JSON.stringify(INDEX)});\n${CRASH_CHILD}`], {
      env: { ...process.env, DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let timer = null;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    if (fromSpawn) timer = setTimeout(kill, delay);
    child.stdout.on('data', d => {
      if (!fromSpawn && timer === null && d.toString().includes('ready')) timer = setTimeout(kill, delay);
    });
    child.stderr.on('data', d => {
      stderr += d;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

test(`kill -9 during writes and backups: the store, journal chain and backups stay consistent (seed ${SEED})`, async t => {
  const random = rng(SEED);
  const dir = tmpDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.diagnostic(`BACKUP_SEED=${SEED}`);
  const ROUNDS = 15;
  let counter = 0;
  let orphans = 0;
  let rollbacks = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const fromSpawn = round % 4 === 3;
    const delay = fromSpawn ? 20 + random.int(120) : 10 + random.int(250);
    const where = `round ${round} (kill ${delay} ms after ${fromSpawn ? 'spawn' : 'ready'}, seed ${SEED})`;
    const res = await runCrashChild(dir, delay, fromSpawn);
    assert.equal(res.signal, 'SIGKILL', `${where}: the child exited by itself (${res.code}): ${res.stderr}`); // parent kill

    const s = new Store({ cwd: dir, ...CRASH_OPTS });
    try {
      const info = s.getStoreInfo();
      assert.equal(info.recovery.quarantined, null, `${where}: quarantined`);
      assert.equal(info.recovery.journalDamage, null, `${where}: journal damage`);
      assert.equal(s.getHealthReport().healthy, true, `${where}: healthy`);
      const state = plain(s);
      const c = state.counter === undefined ? 0 : state.counter;
      assert.deepStrictEqual(state, expected(c), `${where}: a state the child had`);
      assert.ok(c >= counter, `${where}: went back from ${counter} to ${c}`);

      // the history: consecutive, chained
      const summary = await s.getHistorySummary();
      checkChain(summary);
      await s.flush();
      const { changes } = readJournal(journalPath(s));
      const counters = countersBySeq(changes);
      if (changes.length > 0) {
        assert.equal(changes[changes.length - 1].seq, info.seq, `${where}: the journal ends at the latest change`);
        assert.equal(counters.get(info.seq), c, `${where}: journal and document agree`);
      }

      // every listed backup with metadata matches its bytes and is a state the child had
      for (const b of await s.listBackups()) {
        if (b.metadata === null) {
          orphans++;
          continue;
        }
        const content = checkBackup(b, s);
        assert.deepStrictEqual(content, expected(content.counter === undefined ? 0 : content.counter), `${where}: backup ${b.file}`);
      }

      // rollbacks to a few recent changes (only over the child's own changes), each undone exactly
      const latest = info.seq;
      const lastRollback = Math.max(0, ...changes.filter(ch => ch.op === 'rollback').map(ch => ch.seq));
      const floor = Math.max(lastRollback, changes.length > 0 ? changes[0].seq - 1 : latest, summary.entries.length > 0 ? summary.entries[0].seq - 1 : latest);
      const targets = [...new Set([latest - 1, latest - 4, latest - 11, floor])].filter(x => x >= floor && x < latest && counters.get(x) !== undefined).slice(0, 3);
      for (const target of targets) {
        const before = plain(s);
        const seqBefore = s.getStoreInfo().seq;
        const r = await s.rollbackToSeq(target);
        assert.equal(r.seq, target);
        assert.deepStrictEqual(plain(s), expected(counters.get(target)), `${where}: rollbackToSeq(${target})`);
        await s.rollbackToSeq(seqBefore);
        assert.deepStrictEqual(plain(s), before, `${where}: undo of rollbackToSeq(${target})`);
        rollbacks++;
      }
      counter = c;
    } finally {
      s.close();
    }
    // after a clean close: the journal chain holds and its last checkpoint is the file
    const { changes, checkpoints } = readJournal(path.join(dir, 'storeHistory', 'config.json.journal'));
    const ck = checkpoints[checkpoints.length - 1];
    if (ck && changes.length > 0 && ck.checkpoint === changes[changes.length - 1].seq) {
      assert.equal(ck.hash, sha256(fs.readFileSync(path.join(dir, 'config.json'))), `${where}: checkpoint hash`);
    }
    t.diagnostic(`${where}: counter ${counter}, ${changes.length} journal changes`);
  }
  t.diagnostic(`${ROUNDS} rounds, reached change ${counter}, ${rollbacks} rollbacks checked, ${orphans} backups without metadata seen`);
  assert.ok(counter > 0, 'the child made changes');
  assert.ok(rollbacks > 0, 'some rollbacks were checked');

  // leftovers of killed backups are pruned by the next backup
  const s = new Store({ cwd: dir, ...CRASH_OPTS });
  try {
    s.set('final', true);
    await s.createBackup('final');
    const list = await s.listBackups();
    assert.ok(list.length <= CRASH_OPTS.backups.maxBackups, `${list.length} backups kept`);
    for (const b of list) checkBackup(b, s);
    const temps = fs.readdirSync(path.join(dir, 'backups')).filter(n => !NAME.test(n) && !/\.json\.meta\.json$/.test(n));
    t.diagnostic(`other files left in the backup directory by killed children: ${temps.length}`);
  } finally {
    s.close();
  }
});
