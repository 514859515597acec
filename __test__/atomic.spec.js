'use strict';

/**
 * Atomic read-modify-writes (issue 20): `update(key, fn)` and
 * `transaction(fn)` run on the latest state across every process, under the
 * shared journal's lock, and are one history entry each. Real processes:
 * 4 × 1,000 increments give exactly 4,000 (deferred and sync), concurrent
 * transactions moving amounts between keys keep the total (some throw
 * midway), and a process killed with SIGKILL in the middle of its updates
 * blocks nobody and loses no acknowledged one.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { Store, fixture } = require('./helpers.js');

const CHILD = path.join(__dirname, 'fixtures', 'atomic-child.js');

function start(args) {
  const child = spawn(process.execPath, [CHILD, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.lines = [];
  child.stderrText = '';
  let buf = '';
  child.ready = new Promise((resolve, reject) => {
    child.stdout.on('data', d => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        child.lines.push(line);
        if (line === 'ready') resolve();
        if (child.onLine) child.onLine(line);
      }
    });
    child.stderr.on('data', d => {
      child.stderrText += d;
    });
    child.once('exit', code => reject(new Error(`child exited (${code}) before it was ready: ${child.stderrText}`)));
  });
  child.done = new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

async function runAll(dir, n, count, mode, durability) {
  const children = [];
  for (let id = 0; id < n; id++) children.push(start([dir, id, count, mode, durability]));
  await Promise.all(children.map(c => c.ready));
  for (const c of children) c.stdin.end('go\n');
  const results = await Promise.all(children.map(c => c.done));
  results.forEach((r, i) => assert.equal(r.code, 0, `process ${i}: ${children[i].stderrText}`));
  return children;
}

function journalOps(dir) {
  const text = fs.readFileSync(path.join(dir, 'storeHistory', 'config.json.journal'), 'utf8');
  return text.split('\n').filter(Boolean).map(l => JSON.parse(l)).filter(e => e.op !== undefined).map(e => e.op);
}

for (const durability of ['deferred', 'sync']) {
  test(`4 processes × 1,000 update('n', n => n + 1) give exactly 4,000 (${durability})`, async t => {
    const dir = fixture(t).dir();
    await runAll(dir, 4, 1000, 'counter', durability);
    const s = new Store({ cwd: dir, backups: false });
    assert.equal(s.get('n'), 4000);
    const history = await s.getHistorySummary();
    assert.ok(history.entries.length > 0);
    for (const e of history.entries) {
      assert.equal(e.operation, 'update');
      assert.deepEqual(e.keys, ['n']);
    }
    s.close();
  });
}

test('4 processes appending to one array through update() keep every element, each process\'s in order', async t => {
  const dir = fixture(t).dir();
  await runAll(dir, 4, 250, 'list', 'deferred');
  const s = new Store({ cwd: dir, backups: false });
  const list = s.get('list');
  assert.equal(list.length, 1000);
  assert.equal(new Set(list).size, 1000);
  for (let id = 0; id < 4; id++) {
    const mine = list.filter(x => x.startsWith(`${id}:`)).map(x => Number(x.split(':')[1]));
    assert.deepEqual(mine, [...Array(250).keys()], `process ${id}'s appends in order`);
  }
  s.close();
});

for (const durability of ['deferred', 'sync']) {
  test(`concurrent transactions moving amounts between keys keep the total; the ones that throw leave nothing (${durability})`, async t => {
    const dir = fixture(t).dir();
    const init = new Store({ cwd: dir, backups: false });
    init.set({ a: 100, b: 100, c: 100, d: 100 });
    init.close();
    const per = durability === 'sync' ? 100 : 300;
    await runAll(dir, 4, per, 'transfer', durability);
    const s = new Store({ cwd: dir, backups: false });
    const total = ['a', 'b', 'c', 'd'].reduce((sum, k) => sum + s.get(k), 0);
    assert.equal(total, 400);
    // every transaction that did not throw made exactly one move (4 of 5 do)
    let committed = 0;
    for (let i = 0; i < per; i++) {
      if (i % 5 !== 4) committed++;
    }
    // (a transaction whose from and to are one account still counts: it moved 0)
    assert.equal(s.get('moves'), 4 * committed);
    for (const op of journalOps(dir)) assert.ok(op === 'transaction' || op === 'set', op);
    s.close();
  });
}

test('the race update() closes: get + set from 4 processes loses increments, update() loses none', async t => {
  // not a claim about how many plain sets are lost (timing decides): only
  // that the count can never exceed 4,000 and update()'s is exact
  const dir = fixture(t).dir();
  await runAll(dir, 4, 500, 'set', 'deferred');
  const s = new Store({ cwd: dir, backups: false });
  assert.ok(s.get('n') <= 2000);
  s.close();
});

test('a process killed with SIGKILL in the middle of its updates blocks nobody and loses no acknowledged update', async t => {
  const dir = fixture(t).dir();
  const victim = start([dir, 9, 0, 'counter', 'sync']);
  const others = [0, 1, 2].map(id => start([dir, id, 300, 'counter', 'sync']));
  await Promise.all([victim, ...others].map(c => c.ready));
  // the victim runs until it has acknowledged some updates while the others write
  const acked = new Promise(resolve => {
    victim.onLine = line => {
      if (line === 'ack 150') resolve();
    };
  });
  for (const c of [victim, ...others]) c.stdin.write('go\n');
  const deadline = setTimeout(() => victim.kill('SIGKILL'), 60_000);
  await acked;
  clearTimeout(deadline);
  victim.kill('SIGKILL');
  const v = await victim.done;
  assert.equal(v.signal, 'SIGKILL'); // parent kill
  const results = await Promise.all(others.map(c => c.done));
  results.forEach((r, i) => assert.equal(r.code, 0, `process ${i}: ${others[i].stderrText}`));
  let victimAcks = -1;
  for (const l of victim.lines) if (l.startsWith('ack ')) victimAcks = Number(l.slice(4));
  const s = new Store({ cwd: dir, backups: false });
  const n = s.get('n');
  assert.ok(Number.isInteger(n));
  // every acknowledged update is there (at most the one in flight more)
  assert.ok(n >= 900 + victimAcks + 1, `n = ${n}, acknowledged ${900 + victimAcks + 1}`);
  s.close();
});

// -- update(): one process --------------------------------------------------

test('update() returns the new value as stored, is one change event and one history entry', async t => {
  const s = fixture(t).open({ backups: false });
  const seen = [];
  s.onDidChange('n', (n, o) => seen.push([n, o]));
  assert.equal(s.update('n', (n = 0) => n + 1), 1);
  assert.equal(s.update('n', n => n + 1), 2);
  const d = new Date(0);
  assert.equal(s.update('when', () => d), d.toJSON());
  assert.deepEqual(s.update('list', (l = []) => { l.push('x'); return l; }), ['x']);
  assert.deepEqual(seen, [[1, undefined], [2, 1]]);
  await s.flush();
  const h = await s.getHistorySummary();
  assert.deepEqual(h.entries.map(e => e.operation), ['update', 'update', 'update', 'update']);
});

test('update(): undefined, a Promise or a throw from fn changes nothing; the lock is given back', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, backups: false, durability: 'sync' });
  s.set('n', 5);
  await s.flush({ file: true });
  const bytes = fs.readFileSync(s.path);
  const seen = [];
  s.onDidAnyChange(() => seen.push(1));
  assert.throws(() => s.update('n', () => undefined), { name: 'TypeError', message: /returned undefined/ });
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on('unhandledRejection', onUnhandled);
  assert.throws(() => s.update('n', async () => 1), { name: 'TypeError', message: /Promise/ });
  assert.throws(() => s.update('n', () => Promise.reject(new Error('x'))), { name: 'TypeError' });
  assert.throws(() => s.update('n', () => { throw new Error('mine'); }), { message: 'mine' });
  assert.throws(() => s.update('n', () => 10n), { name: 'TypeError' });
  assert.throws(() => s.update('n', () => ({ f() {} }).f), { name: 'TypeError' });
  await new Promise(r => setImmediate(r));
  process.removeListener('unhandledRejection', onUnhandled);
  assert.equal(unhandled, 0);
  assert.equal(s.get('n'), 5);
  assert.deepEqual(seen, []);
  assert.deepEqual(fs.readFileSync(s.path), bytes);
  // the lock was given back: another process can write at once
  await runAll(dir, 1, 3, 'counter', 'sync');
  assert.equal(s.update('n', n => n + 1), 9);
});

test('update(): bad arguments and hostile keys are clear errors', t => {
  const s = fixture(t).open({ backups: false });
  assert.throws(() => s.update(1, () => 1), { name: 'TypeError', message: /`key`/ });
  assert.throws(() => s.update('k'), { name: 'TypeError', message: /`fn`/ });
  assert.throws(() => s.update('k', 'x'), { name: 'TypeError', message: /`fn`/ });
  assert.throws(() => s.update('__internal__.migrations.version', () => '9.9.9'), { name: 'TypeError', message: /__internal__/ });
  assert.throws(() => s.update('__proto__.polluted', () => 1), { code: 'E_FORBIDDEN_KEY' });
  assert.throws(() => s.update('a.constructor.prototype', () => 1), { code: 'E_FORBIDDEN_KEY' });
  assert.equal({}.polluted, undefined);
  assert.deepEqual({ ...s.store }, {});
  // and the store still works
  assert.equal(s.update('ok', () => true), true);
});

test('update() checks the schema: a violation throws E_SCHEMA and changes nothing', t => {
  const s = fixture(t).open({ backups: false, schema: { n: { type: 'number', maximum: 2 } } });
  s.update('n', (n = 0) => n + 1);
  s.update('n', n => n + 1);
  assert.throws(() => s.update('n', n => n + 1), { code: 'E_SCHEMA' });
  assert.equal(s.get('n'), 2);
  assert.equal(s.update('n', n => n - 1), 1);
});

test('update() on a closed store throws E_CLOSED; nested update/transaction throw E_NESTED', t => {
  const s = fixture(t).open({ backups: false });
  const other = new Store({ cwd: path.dirname(s.path), backups: false });
  t.after(() => other.close());
  assert.throws(() => s.update('a', () => { s.update('b', () => 1); return 1; }), { code: 'E_NESTED' });
  // another instance on the same file in the same thread: refused, not a deadlock
  assert.throws(() => s.update('a', () => { other.update('b', () => 1); return 1; }), { code: 'E_NESTED' });
  assert.throws(() => s.transaction(() => s.update('b', () => 1)), { code: 'E_NESTED' });
  assert.throws(() => s.update('a', () => s.transaction(() => 1)), { code: 'E_NESTED' });
  assert.deepEqual({ ...s.store }, {});
  s.close();
  assert.throws(() => s.update('a', () => 1), { code: 'E_CLOSED' });
  assert.throws(() => s.transaction(() => 1), { code: 'E_CLOSED' });
});

// -- transaction(): one process ------------------------------------------------

test('transaction(): one history entry; listeners hear the net change once, after it commits', async t => {
  const s = fixture(t).open({ backups: false });
  s.set({ a: 1, b: 2 });
  const any = [];
  const keys = [];
  s.onDidAnyChange((n, o) => any.push([{ ...o }, { ...n }]));
  s.onChange('*', (n, o, k) => keys.push([k, o, n]));
  const result = s.transaction(tx => {
    assert.equal(tx.get('a'), 1);
    tx.set('a', 10);
    assert.equal(tx.get('a'), 10);
    tx.set('a', 11);
    tx.set('c', 3);
    tx.delete('b');
    assert.equal(tx.has('b'), false);
    tx.set({ d: { e: 1 } });
    // nothing delivered yet
    assert.deepEqual(any, []);
    return 'result';
  });
  assert.equal(result, 'result');
  assert.deepEqual(any, [[{ a: 1, b: 2 }, { a: 11, c: 3, d: { e: 1 } }]]);
  assert.deepEqual(keys.sort((x, y) => x[0].localeCompare(y[0])), [['a', 1, 11], ['b', 2, undefined], ['c', undefined, 3], ['d', undefined, { e: 1 }]]);
  await s.flush();
  const h = await s.getHistorySummary();
  assert.equal(h.entries.at(-1).operation, 'transaction');
  assert.equal(h.entries.filter(e => e.operation === 'transaction').length, 1);
  // and it rolls back as one
  const back = await s.rollbackToSeq(h.entries.at(-2).seq);
  assert.equal(back.success, true);
  assert.deepEqual({ ...s.store }, { a: 1, b: 2 });
});

test('transaction(): a throw midway rolls everything back; listeners see nothing; nothing is written', async t => {
  const s = fixture(t).open({ backups: false, durability: 'sync' });
  s.set({ a: 1, b: 2 });
  await s.flush({ file: true });
  const bytes = fs.readFileSync(s.path);
  const before = (await s.getHistorySummary()).entries.length;
  const seen = [];
  s.onDidAnyChange(() => seen.push('any'));
  s.onDidChange('a', () => seen.push('a'));
  s.onChange('*', () => seen.push('*'));
  let kept;
  assert.throws(() => s.transaction(tx => {
    tx.set('a', 100);
    tx.delete('b');
    tx.set('x', { y: 1 });
    kept = tx;
    throw new Error('midway');
  }), { message: 'midway' });
  assert.deepEqual(seen, []);
  assert.deepEqual({ ...s.store }, { a: 1, b: 2 });
  assert.deepEqual(fs.readFileSync(s.path), bytes);
  assert.equal((await s.getHistorySummary()).entries.length, before);
  // the tx of an ended transaction cannot be used
  assert.throws(() => kept.set('a', 5), { code: 'E_TRANSACTION' });
  assert.throws(() => kept.get('a'), { code: 'E_TRANSACTION' });
  // a Promise is refused, and rolled back as a throw
  assert.throws(() => s.transaction(async tx => { tx.set('a', 7); }), { name: 'TypeError', message: /Promise/ });
  assert.equal(s.get('a'), 1);
  // a schema violation inside is a throw like any other
  const v = fixture(t).open({ backups: false, schema: { a: { type: 'number' } } });
  v.set('a', 1);
  assert.throws(() => v.transaction(tx => { tx.set('b', 1); tx.set('a', 'no'); }), { code: 'E_SCHEMA' });
  assert.deepEqual({ ...v.store }, { a: 1 });
  // and the store is usable after all of it
  assert.equal(s.transaction(tx => { tx.set('a', 2); return tx.get('a'); }), 2);
  assert.deepEqual(seen, ['any', 'a', '*']);
});

test('transaction(): bad arguments and hostile keys inside it are clear errors that roll it back', t => {
  const s = fixture(t).open({ backups: false });
  assert.throws(() => s.transaction(), { name: 'TypeError', message: /`fn`/ });
  assert.throws(() => s.transaction({}), { name: 'TypeError' });
  assert.throws(() => s.transaction(tx => { tx.set('ok', 1); tx.set('__proto__.x', 1); }), { code: 'E_FORBIDDEN_KEY' });
  assert.throws(() => s.transaction(tx => { tx.set('ok', 1); tx.set('k'); }), { name: 'TypeError', message: /delete/ });
  assert.throws(() => s.transaction(tx => { tx.set('ok', 1); tx.get(5); }), { name: 'TypeError' });
  assert.equal({}.x, undefined);
  assert.deepEqual({ ...s.store }, {});
});

test('update() brings in another process\'s changes first, with their change events', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, backups: false });
  s.set('n', 1);
  await s.flush();
  const seen = [];
  s.onDidChange('n', (n, o) => seen.push([n, o]));
  await runAll(dir, 2, 10, 'counter', 'deferred');
  // no watch and no write since: this process has not seen the 20 yet
  const all = [];
  s.onChange('*', (n, o, k) => all.push([k, n, o]));
  assert.equal(s.update('n', n => n * 2), 42);
  // (delivered after fn ran, outside the lock: a key listener hears both as one change)
  assert.deepEqual(seen, [[42, 1]]);
  assert.deepEqual(all, [['n', 21, 1], ['n', 42, 21]]);
});

test('a worker thread terminated inside update() or transaction() leaves nothing locked and nothing half-done', async t => {
  const { Worker } = require('node:worker_threads');
  const fx = fixture(t);
  const dir = fx.dir();
  const s = fx.open({ cwd: dir, backups: false });
  s.set('n', 0);
  for (const kind of ['update', 'transaction']) {
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const Store = require(workerData.root);
      const store = new Store({ cwd: workerData.dir, backups: false });
      const spin = () => { parentPort.postMessage('inside'); for (;;) {} };
      if (workerData.kind === 'update') store.update('n', spin);
      else store.transaction(tx => { tx.set('half', 1); spin(); });
    `, { eval: true, workerData: { dir, root: path.join(__dirname, '..'), kind } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', code => reject(new Error(`the worker exited (${code}) before it was inside ${kind}()`)));
    });
    await worker.terminate();
    // this thread's update does not wait for the dead section, and the
    // transaction's half is gone
    assert.equal(s.update('n', n => n + 1), kind === 'update' ? 1 : 7);
    assert.equal(s.has('half'), false);
    // and another process can take the lock
    await runAll(dir, 1, 5, 'counter', 'sync');
  }
  assert.equal(s.update('n', n => n), 12);
});
