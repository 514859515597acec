'use strict';

/**
 * `watch: true` (issue 8): external edits of the file and other processes'
 * journal appends arrive as change events without a call, own writes are
 * never echoed, bad edits are reported and not applied. Every wait is on an
 * event (with a generous deadline that fails the test), never a sleep that
 * hopes; "nothing else arrived" is checked with a sentinel edit whose event
 * must come after anything the earlier steps could have caused.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const { Store, fixture } = require('./helpers.js');

const ROOT = path.join(__dirname, '..');
// generous: a wait fails loudly on a stuck watcher, never on a slow machine
const DEADLINE = 60_000;

/** Records every change event of `store` (whole-store and per key). */
function recorder(store) {
  const rec = { any: [], keys: [], invalid: [], errors: [], waiters: [] };
  const poke = () => {
    for (const w of rec.waiters.slice()) {
      if (w.pred()) {
        rec.waiters.splice(rec.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  };
  store.onDidAnyChange((n) => { rec.any.push(n); poke(); });
  store.onChange('*', (n, o, k) => { rec.keys.push([k, n, o]); poke(); });
  store.events.on('invalid-external-change', (info) => { rec.invalid.push(info); poke(); });
  store.events.on('error', (e) => { rec.errors.push(e); poke(); });
  rec.until = (pred, what) => new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const w = { pred, resolve };
    w.timer = setTimeout(() => {
      rec.waiters.splice(rec.waiters.indexOf(w), 1);
      reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(rec.keys.slice(-5))}, invalid ${JSON.stringify(rec.invalid)}`));
    }, DEADLINE);
    rec.waiters.push(w);
  });
  return rec;
}

/** An editor's save: write a temp file beside it, rename it over the store file. */
function editorSave(file, data) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.swp-${process.hrtime.bigint()}`);
  fs.writeFileSync(tmp, typeof data === 'string' ? data : JSON.stringify(data, null, 2));
  fs.renameSync(tmp, file);
}

function history(store) {
  return store.getHistorySummary().then(h => h.entries);
}

async function openWatching(t, opts = {}) {
  const fx = fixture(t);
  const s = fx.open({ backups: false, watch: true, ...opts });
  t.after(() => { try { s.close({ force: true }); } catch {} });
  await s.flush({ file: true });
  return s;
}

/** Makes an edit and waits for its event: everything before it has been delivered. */
async function sentinel(s, rec, value) {
  const before = rec.keys.length;
  // like an editor, the sentinel saves what it read: read the file once it is current
  await s.flush({ file: true });
  const data = { ...JSON.parse(fs.readFileSync(s.path, 'utf8')), sentinel: value };
  editorSave(s.path, data);
  await rec.until(() => rec.keys.slice(before).some(([k, n]) => k === 'sentinel' && n === value), `sentinel ${value}`);
  return rec.keys.slice(before);
}

test('an editor-style rename-over save: applied, one external-change entry, events for exactly the changed keys', async t => {
  const s = await openWatching(t, { defaults: { theme: 'dark', size: 12, list: [1, 2] } });
  await s.flush({ file: true });
  const rec = recorder(s);
  const perKey = [];
  s.onDidChange('theme', (n, o) => perKey.push([n, o]));
  s.onDidChange('size', (n, o) => perKey.push(['size', n, o]));
  const file = JSON.parse(fs.readFileSync(s.path, 'utf8'));
  editorSave(s.path, { ...file, theme: 'light', added: { x: 1 } });
  await rec.until(() => rec.keys.length >= 2, 'the edit');
  assert.deepStrictEqual(rec.keys.map(e => e[0]).sort(), ['added', 'theme']);
  assert.deepStrictEqual(perKey, [['light', 'dark']], 'size did not change: no event for it');
  assert.equal(s.get('theme'), 'light');
  assert.deepStrictEqual(s.get('added'), { x: 1 });
  assert.equal(rec.any.length, 1, 'one whole-store event');
  const entries = await history(s);
  const ext = entries.filter(e => e.operation === 'external-change');
  assert.equal(ext.length, 1);
  assert.deepStrictEqual(ext[0].keys.sort(), ['added', 'theme']);
  assert.equal(ext[0].reversible, true, 'the state before it is known: it can be rolled back');
  // and rolled back exactly
  const before = entries[entries.length - 2];
  await s.rollbackToSeq(before.seq);
  assert.equal(s.get('theme'), 'dark');
  assert.equal(s.get('added'), undefined);
});

test('truncate-and-write, delete-and-recreate, mv of another file over ours, chmod-only touch', async t => {
  const s = await openWatching(t, { defaults: { v: 0 } });
  const rec = recorder(s);
  // an editor saves what it read: read the file once the store has written it
  const read = async () => { await s.flush({ file: true }); return JSON.parse(fs.readFileSync(s.path, 'utf8')); };
  // truncate and write in place (same inode)
  fs.writeFileSync(s.path, JSON.stringify({ ...(await read()), v: 1 }));
  await rec.until(() => s.get('v') === 1, 'truncate-and-write');
  // delete, then create again (as some editors save)
  const next = { ...(await read()), v: 2 };
  fs.unlinkSync(s.path);
  fs.writeFileSync(s.path, JSON.stringify(next));
  await rec.until(() => s.get('v') === 2, 'delete and recreate');
  // mv another file over ours
  const other = path.join(path.dirname(s.path), 'other.json');
  fs.writeFileSync(other, JSON.stringify({ ...(await read()), v: 3 }));
  fs.renameSync(other, s.path);
  await rec.until(() => s.get('v') === 3, 'mv over');
  assert.deepStrictEqual(rec.keys.map(e => [e[0], e[1]]), [['v', 1], ['v', 2], ['v', 3]]);
  // chmod-only touch: nothing changes, no event
  fs.chmodSync(s.path, 0o600);
  const now = new Date();
  fs.utimesSync(s.path, now, now);
  const after = await sentinel(s, rec, 'chmod');
  assert.deepStrictEqual(after.map(e => e[0]), ['sentinel'], `the touch caused no event: ${JSON.stringify(after)}`);
  const ext = (await history(s)).filter(e => e.operation === 'external-change');
  assert.equal(ext.length, 4, 'three edits and the sentinel, each one entry');
});

test('a deleted file is written again from the store (nothing lost), without events', async t => {
  const s = await openWatching(t);
  s.set('keep', { me: true });
  await s.flush({ file: true });
  const rec = recorder(s);
  fs.unlinkSync(s.path);
  const deadline = Date.now() + DEADLINE;
  while (!fs.existsSync(s.path)) {
    assert.ok(Date.now() < deadline, 'the file came back');
    await new Promise(r => setTimeout(r, 5));
  }
  await s.flush({ file: true });
  assert.deepStrictEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')).keep, { me: true });
  const after = await sentinel(s, rec, 'del');
  assert.deepStrictEqual(after.map(e => e[0]), ['sentinel']);
  assert.deepStrictEqual(s.get('keep'), { me: true });
});

test('100 edits in a row: none missed, none duplicated', async t => {
  const s = await openWatching(t, { defaults: { n: -1 } });
  const rec = recorder(s);
  const base = JSON.parse(fs.readFileSync(s.path, 'utf8'));
  for (let i = 0; i < 100; i++) {
    editorSave(s.path, { ...base, n: i });
    await rec.until(() => rec.keys.some(([k, n]) => k === 'n' && n === i), `edit ${i}`);
  }
  const ns = rec.keys.filter(e => e[0] === 'n').map(e => e[1]);
  assert.deepStrictEqual(ns, Array.from({ length: 100 }, (_, i) => i));
  // a burst without waiting: values arrive in order, none twice, the last one wins
  for (let i = 100; i < 200; i++) fs.writeFileSync(s.path, JSON.stringify({ ...base, n: i }));
  await rec.until(() => s.get('n') === 199, 'the burst');
  const burst = rec.keys.filter(e => e[0] === 'n').map(e => e[1]).slice(100);
  for (let i = 1; i < burst.length; i++) assert.ok(burst[i] > burst[i - 1], `in order, no duplicate: ${burst}`);
  assert.equal(burst[burst.length - 1], 199);
  const after = await sentinel(s, rec, 'done');
  assert.deepStrictEqual(after.map(e => e[0]), ['sentinel'], 'nothing late');
  assert.equal(rec.invalid.length, 0, 'a rewrite in progress is not reported as damage');
});

test('own writes are never echoed, including a burst of 10,000 sets; an edit 10 ms after an own write is seen', async t => {
  const s = await openWatching(t);
  const rec = recorder(s);
  for (let i = 0; i < 10000; i++) s.set(`k${i % 100}`, i);
  await s.flush();
  s.set('sync', 1);
  s.flushSync();
  assert.equal(rec.any.length, 10001, 'one event per own set, nothing else');
  const echoes = await sentinel(s, rec, 'burst');
  assert.deepStrictEqual(echoes.map(e => e[0]), ['sentinel']);
  const ext = (await history(s)).filter(e => e.operation === 'external-change');
  assert.equal(ext.length, 1, 'only the sentinel');
  // an own write, then an external edit 10 ms later: still seen (by content, not by time)
  s.set('mine', 'local');
  await s.flush({ file: true });
  await new Promise(r => setTimeout(r, 10));
  editorSave(s.path, { ...JSON.parse(fs.readFileSync(s.path, 'utf8')), theirs: 'external' });
  await rec.until(() => s.get('theirs') === 'external', 'the edit right after our write');
  assert.equal(s.get('mine'), 'local');
});

test('an external edit is applied on top of local changes made since the file was written', async t => {
  const s = await openWatching(t, { defaults: { a: 1, b: 1 } });
  const rec = recorder(s);
  const onDisk = JSON.parse(fs.readFileSync(s.path, 'utf8'));
  // a local change the file does not hold yet, then an edit of another key
  s.set('b', 2);
  editorSave(s.path, { ...onDisk, a: 'ext' });
  await rec.until(() => s.get('a') === 'ext', 'the edit');
  assert.equal(s.get('b'), 2, 'the local change is kept');
  await s.flush({ file: true });
  assert.deepStrictEqual({ a: 'ext', b: 2 }, { a: JSON.parse(fs.readFileSync(s.path, 'utf8')).a, b: JSON.parse(fs.readFileSync(s.path, 'utf8')).b });
});

test('invalid JSON, a non-object and a schema-violating edit are reported and not applied', async t => {
  const schema = { port: { type: 'number', maximum: 65535 } };
  const s = await openWatching(t, { schema, defaults: { port: 8080 } });
  await s.flush({ file: true });
  const rec = recorder(s);
  const seqBefore = s.getStoreInfo().seq;
  const good = fs.readFileSync(s.path, 'utf8');
  const cases = [
    ['{"port": 80', 'E_CORRUPT'],
    ['[1, 2, 3]', 'E_CORRUPT'],
    [JSON.stringify({ port: 'not a number' }), 'E_SCHEMA'],
  ];
  for (const [text, code] of cases) {
    const n = rec.invalid.length;
    editorSave(s.path, text);
    await rec.until(() => rec.invalid.length > n, `the report of ${text}`);
    const info = rec.invalid[n];
    assert.equal(info.code, code, text);
    assert.equal(info.file, s.path);
    assert.equal(fs.readFileSync(info.path, 'utf8'), text, 'a copy of the edit is kept');
    assert.equal(s.get('port'), 8080, 'not applied');
    assert.equal(rec.keys.length, 0, 'no change event');
    // the file is the store's again
    await s.flush({ file: true });
    const deadline = Date.now() + DEADLINE;
    while (fs.readFileSync(s.path, 'utf8') !== good) {
      assert.ok(Date.now() < deadline, 'the file was written again');
      await new Promise(r => setTimeout(r, 5));
    }
  }
  assert.equal(s.getStoreInfo().seq, seqBefore, 'history untouched');
  // a valid edit afterwards is taken as usual
  editorSave(s.path, { port: 443 });
  await rec.until(() => s.get('port') === 443, 'a valid edit');
});

test('a half-written file is looked at again after the debounce, not reported', async t => {
  const s = await openWatching(t, { defaults: { v: 0 } });
  const rec = recorder(s);
  const fd = fs.openSync(s.path, 'r+');
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, '{"v": ', 0);
  await new Promise(r => setTimeout(r, 20)); // the writer is slow: the watcher sees the half file
  fs.writeSync(fd, '42}', 6);
  fs.closeSync(fd);
  await rec.until(() => s.get('v') === 42, 'the completed save');
  assert.equal(rec.invalid.length, 0);
});

test("another process's writes appear here with events, without a call", async t => {
  const s = await openWatching(t);
  const rec = recorder(s);
  const child = spawn(process.execPath, ['-e', `
    const Store = require(${JSON.stringify(ROOT)});
    const s = new Store({ cwd: ${JSON.stringify(path.dirname(s.path))}, backups: false, durability: 'sync' });
    process.stdin.on('data', d => { for (const line of String(d).split('\\n').filter(Boolean)) { s.set('remote.' + line, Number(line)); process.stdout.write('ok ' + line + '\\n'); } });
    process.stdin.on('end', () => { s.close(); });
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  for (let i = 0; i < 20; i++) {
    child.stdin.write(`${i}\n`);
    await rec.until(() => s.get(`remote.${i}`) === i, `remote set ${i}`);
  }
  child.stdin.end();
  await new Promise(r => child.once('exit', r));
  const remote = rec.keys.filter(e => e[0] === 'remote');
  assert.equal(remote.length, 20, 'one event per remote change');
  assert.equal(rec.invalid.length, 0, "the other process's document writes are not external edits");
  const after = await sentinel(s, rec, 'remote-done');
  assert.deepStrictEqual(after.map(e => e[0]), ['sentinel']);
  assert.equal((await history(s)).filter(e => e.operation === 'external-change').length, 1);
});

test('reload() without watching takes an external edit that arrives right after a local set', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false, defaults: { a: 0 } });
  await s.flush({ file: true });
  const onDisk = JSON.parse(fs.readFileSync(s.path, 'utf8'));
  s.set('b', 'local'); // the writer will rewrite the file soon
  editorSave(s.path, { ...onDisk, a: 'ext' });
  await s.flush(); // the writer overwrote the edit: it kept it first
  const seen = [];
  s.onDidChange('a', n => seen.push(n));
  s.reload();
  assert.equal(s.get('a'), 'ext');
  assert.equal(s.get('b'), 'local');
  assert.deepStrictEqual(seen, ['ext']);
  const ext = (await s.getHistorySummary()).entries.filter(e => e.operation === 'external-change');
  assert.equal(ext.length, 1);
  s.close();
});

test('lifecycle: a watching store does not keep the process alive; close() stops watching; bad option types', async t => {
  const dir = fixture(t).dir();
  // a process whose only work is a watching store exits by itself
  execFileSync(process.execPath, ['-e', `
    const Store = require(${JSON.stringify(ROOT)});
    const s = new Store({ cwd: ${JSON.stringify(dir)}, watch: true, backups: false });
    s.set('x', 1);
  `], { timeout: 10000 });
  const s = new Store({ cwd: dir, watch: true, backups: false });
  const rec = recorder(s);
  editorSave(s.path, { x: 2 });
  await rec.until(() => s.get('x') === 2, 'the edit');
  s.close();
  editorSave(s.path, { x: 3 });
  const again = new Store({ cwd: dir, backups: false });
  // the edit made after close is an edit made while closed: taken at open
  assert.equal(again.get('x'), 3);
  assert.equal(rec.keys.filter(e => e[0] === 'x').length, 1, 'nothing delivered after close');
  again.close();
  assert.throws(() => new Store({ cwd: dir, watch: 'yes' }), TypeError);
  // a second instance in the process watching too: both hear, once each
  const a = new Store({ cwd: dir, watch: true, backups: false });
  const b = new Store({ cwd: dir, watch: true, backups: false });
  const ra = recorder(a);
  const rb = recorder(b);
  editorSave(a.path, { x: 4 });
  await ra.until(() => ra.keys.length === 1, 'a hears');
  await rb.until(() => rb.keys.length === 1, 'b hears');
  a.close();
  editorSave(b.path, { x: 5 });
  await rb.until(() => b.get('x') === 5, 'b still watches after a closed');
  b.close();
});
