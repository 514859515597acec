'use strict';

/**
 * Worker threads and several JS environments in one process (issue 16):
 * Electron apps load the addon in worker threads and utility processes.
 *
 * - Loading order: first in a worker that exits, then in another, then in
 *   the main thread (this crashed the process with mimalloc 3.3).
 * - A worker terminated inside its Store constructor (a migration) leaves no
 *   transaction open: its changes are undone, the main thread's writes, made
 *   during it and after, reach the disk.
 * - A worker terminated with stores open (also in the middle of writing):
 *   every acknowledged write is in the file, and after 20 such cycles the
 *   process has as many threads as before (no writer or watcher outlives its
 *   last handle).
 * - Main thread and worker on one file: each reads the other's changes at
 *   once (no stale cache), hears them as change events, and every watching
 *   environment hears external edits, also after another one opened or
 *   closed the file.
 * - A worker's process.exit() writes its deferred changes.
 * - In Electron (stand-in module), `new Store()` without `cwd` in a worker
 *   opens the main thread's `userData` file, or throws E_OPTION when the main
 *   thread has not loaded tad-store — never another file.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');

const { Store, fixture } = require('./helpers.js');

const PKG = path.join(__dirname, '..');
const CHILD = path.join(__dirname, 'fixtures', 'worker-child.js');
const STAND_IN = path.join(__dirname, 'fixtures', 'electron-stand-in');
/** Generous: a loaded 2-core machine; what does not happen by then fails loudly. */
const DEADLINE_MS = 60_000;

/** Resolves when `check()` is true; polls (the condition has no event) and fails after the deadline. */
async function until(what, check, ms = DEADLINE_MS) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A worker running `code` with `Store`, `dir`, `post(m)` and `parentPort`
 * in scope. `w.next(pred)` resolves to the next message matching `pred`.
 */
function startWorker(dir, code) {
  const w = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const post = (m) => parentPort.postMessage(m);
    const Store = require(workerData.pkg);
    const dir = workerData.dir;
    ${code}
  `, { eval: true, workerData: { pkg: PKG, dir } });
  const queue = [];
  const waiting = [];
  w.on('message', (m) => {
    const i = waiting.findIndex((x) => x.pred(m));
    if (i === -1) {
      queue.push(m);
      return;
    }
    const [x] = waiting.splice(i, 1);
    x.resolve(m);
  });
  w.failed = new Promise((resolve, reject) => w.on('error', reject));
  w.failed.catch(() => {});
  w.next = (pred = () => true) => {
    const i = queue.findIndex(pred);
    if (i !== -1) return Promise.resolve(queue.splice(i, 1)[0]);
    return Promise.race([
      new Promise((resolve, reject) => {
        const x = { pred, resolve };
        waiting.push(x);
        setTimeout(() => {
          if (waiting.includes(x)) reject(new Error(`no message from the worker within ${DEADLINE_MS} ms`));
        }, DEADLINE_MS).unref();
      }),
      w.failed,
    ]);
  };
  return w;
}

/** Runs fixtures/worker-child.js; resolves to `{ code, signal, lines, stderr }`. */
function runChild(args, env) {
  return new Promise((resolve, reject) => {
    const preload = env && !env.STAND_IN_MAIN_ONLY ? ['-r', path.join(STAND_IN, 'preload.js')] : [];
    const child = spawn(process.execPath, [...preload, CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker-child ${args.join(' ')} did not end within ${DEADLINE_MS} ms: ${out} ${stderr}`));
    }, DEADLINE_MS);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, lines: out.split('\n').filter(Boolean), stderr });
    });
  });
}

/** The store file as another program would read it. */
function fileOf(dir, name = 'config') {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
}

const threadCount = () => fs.readdirSync('/proc/self/task').length;

test('the addon loads first in a worker that exits, then in another worker, then in the main thread', async (t) => {
  const dir = fixture(t).dir();
  for (let round = 0; round < 3; round++) {
    const r = await runChild(['load-order', dir]);
    assert.equal(r.signal, null, `the process was killed by ${r.signal} (${r.stderr})`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.lines, [`ok ${JSON.stringify({ w0: 0, w1: 1, w2: 2, main: true })}`]);
  }
});

test('a worker terminated inside its constructor (a migration) leaves no transaction open: its changes are undone, the main thread writes to disk', async (t) => {
  const fx = fixture(t);
  const dir = fx.dir();
  const main = fx.open({ cwd: dir, backups: false });
  main.set('before', 1);
  const changes = [];
  main.onDidAnyChange((n) => changes.push({ ...n }));
  const w = startWorker(dir, `
    new Store({ cwd: dir, backups: false, projectVersion: '2.0.0', migrations: {
      '2.0.0': (s) => { s.set('migrated', true); post('migrating'); for (;;) {} },
    } });
  `);
  await w.next((m) => m === 'migrating');
  // the migration's change is visible while it runs (one document per file)
  assert.equal(main.get('migrated'), true);
  main.set('during', 1);
  await w.terminate();
  assert.equal(main.get('migrated'), undefined, "the dead constructor's transaction was undone");
  assert.equal(main.get('during'), 1, "the main thread's change made during it stays");
  main.set('after', 2);
  await main.flush({ file: true });
  assert.deepEqual(fileOf(dir), { before: 1, during: 1, after: 2 });
  assert.equal(main.getStoreInfo().pendingWrites, 0, 'nothing left in a transaction');
  await until('the undo event', () => changes.some((c) => c.migrated === undefined && c.during === 1));
  // and the file opens in another instance as written
  const again = new Store({ cwd: dir, backups: false });
  assert.deepEqual({ ...again.store }, { before: 1, during: 1, after: 2 });
  again.close();
});

test('a worker terminated inside its constructor, the file open nowhere else: the next open starts clean', async (t) => {
  const fx = fixture(t);
  const dir = fx.dir();
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ kept: 1 }));
  const w = startWorker(dir, `
    new Store({ cwd: dir, backups: false, defaults: { d: 1 }, projectVersion: '1.0.0', migrations: {
      '1.0.0': (s) => { s.set('kept', 2); post('migrating'); for (;;) {} },
    } });
  `);
  await w.next((m) => m === 'migrating');
  await w.terminate();
  assert.deepEqual(fileOf(dir), { kept: 1 }, 'the file is as it was');
  const main = fx.open({ cwd: dir, backups: false });
  assert.deepEqual({ ...main.store }, { kept: 1 });
  main.set('x', 1);
  await main.flush({ file: true });
  assert.deepEqual(fileOf(dir), { kept: 1, x: 1 });
});

test('20 cycles of a worker opening stores, writing and being terminated (half of them mid-write): every acknowledged write is on disk, no thread is left', { skip: process.platform !== 'linux' && 'counts threads in /proc' }, async (t) => {
  const fx = fixture(t);
  const dir = fx.dir();
  // the thread pool and a worker's first-use threads exist before counting
  await fs.promises.readFile(__filename);
  const warm = startWorker(dir, `const s = new Store({ cwd: dir, name: 'warm', backups: false }); s.set('a', 1); s.close(); post('done');`);
  await warm.next();
  await warm.terminate();
  // the main thread has one of the files open too (a shared core), not watched
  const shared = fx.open({ cwd: dir, name: 'shared', backups: false });
  shared.set('main', 0);
  await shared.flush();
  const before = threadCount();
  for (let cycle = 0; cycle < 20; cycle++) {
    const midWrite = cycle % 2 === 1;
    const w = startWorker(dir, `
      const own = new Store({ cwd: dir, name: 'own${cycle}', backups: false, watch: ${cycle % 4 < 2} });
      const shared = new Store({ cwd: dir, name: 'shared', backups: false, watch: true });
      for (let i = 1; ; i++) {
        own.set('k' + i, i);
        own.set('n', i);
        shared.set('w${cycle}', i);
        // every set before this message returned
        if (i % 50 === 0) post(i);
        if (i === 200 && !${midWrite}) { post('idle'); break; }
      }
    `);
    let acked = 0;
    if (midWrite) {
      // terminated while it writes, at some point after 100 acknowledged
      acked = await w.next((m) => typeof m === 'number' && m >= 100);
    } else {
      await w.next((m) => m === 'idle');
      acked = 200;
    }
    await w.terminate();
    // the worker's environment is gone: its stores were closed, their changes flushed
    const own = fileOf(dir, `own${cycle}`);
    assert.ok(own.n >= acked, `cycle ${cycle}: ${own.n} sets in the file, ${acked} acknowledged`);
    for (let i = 1; i <= own.n; i++) assert.equal(own[`k${i}`], i, `cycle ${cycle}: k${i} (a prefix)`);
    assert.ok(shared.get(`w${cycle}`) >= acked, 'the main thread reads the worker’s writes');
    await shared.flush({ file: true });
    assert.ok(fileOf(dir, 'shared')[`w${cycle}`] >= acked);
  }
  await until(`the thread count to come back to ${before} (now ${threadCount()})`, () => threadCount() <= before);
  t.diagnostic(`threads before ${before}, after 20 cycles ${threadCount()}`);
  assert.equal(threadCount(), before);
  // the shared file still works and its writer stops with its last handle
  shared.set('main', 1);
  shared.close();
  assert.equal(fileOf(dir, 'shared').main, 1);
  await until('the shared file’s writer to stop', () => threadCount() < before);
});

test('main thread and worker on one file: each reads the other’s changes at once and hears them as events', async (t) => {
  const fx = fixture(t);
  const dir = fx.dir();
  const main = fx.open({ cwd: dir, backups: false });
  main.set('a', 0);
  assert.equal(main.get('a'), 0); // cached
  const store0 = main.store;
  assert.equal(store0.a, 0);
  const heard = [];
  main.onDidChange('a', (n, o) => heard.push(['a', n, o]));
  main.onChange('*', (n, o, k) => heard.push(['*', k, n, o]));
  let anyChanges = 0;
  main.events.on('change', () => anyChanges++);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = startWorker(dir, `
    const s = new Store({ cwd: dir, backups: false });
    s.onDidChange('b', (n, o) => post({ event: ['b', n, o], b: s.get('b'), store: { ...s.store } }));
    parentPort.on('message', (m) => {
      if (m.cmd === 'set') {
        s.set(m.key, m.value);
        Atomics.store(m.flag, 0, 1);
        Atomics.notify(m.flag, 0);
      } else if (m.cmd === 'close') {
        s.close();
        post('closed');
      }
    });
    post('ready');
  `);
  await w.next((m) => m === 'ready');
  assert.equal(main.get('a'), 0);
  w.postMessage({ cmd: 'set', key: 'a', value: 1, flag });
  // blocks this thread until the worker's set returned: no event has been
  // delivered here yet, and the read cache must not answer
  assert.equal(Atomics.wait(flag, 0, 0, DEADLINE_MS), 'ok');
  assert.equal(main.get('a'), 1, 'get() after the worker’s set');
  assert.equal(main.store.a, 1, 'store after the worker’s set');
  await until('the change event', () => heard.length >= 2);
  assert.deepEqual(heard, [['a', 1, 0], ['*', 'a', 1, 0]]);
  assert.ok(anyChanges >= 1, "conf's 'change' event");
  main.set('b', 2);
  const r = await w.next((m) => m && m.event);
  assert.deepEqual(r, { event: ['b', 2, undefined], b: 2, store: { a: 1, b: 2 } });
  w.postMessage({ cmd: 'close' });
  await w.next((m) => m === 'closed');
  await w.terminate();
  main.set('c', 3);
  await main.flush({ file: true });
  assert.deepEqual(fileOf(dir), { a: 1, b: 2, c: 3 });
});

/** Replaces the store file the way an editor saves (temp file, rename over). */
function editFile(file, change) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(doc);
  fs.writeFileSync(`${file}.edit`, JSON.stringify(doc, undefined, '\t'));
  fs.renameSync(`${file}.edit`, file);
}

test('external edits reach every watching environment, before and after another one opens and closes the file', async (t) => {
  const fx = fixture(t);
  const dir = fx.dir();
  const main = fx.open({ cwd: dir, backups: false, watch: true });
  main.set('x', 0);
  await main.flush({ file: true });
  const heard = [];
  main.onDidChange('x', (n) => heard.push(n));
  editFile(main.path, (d) => (d.x = 1));
  await until('the main thread to hear edit 1', () => heard.includes(1));
  const w = startWorker(dir, `
    const s = new Store({ cwd: dir, backups: false, watch: true });
    s.onDidChange('x', (n) => post({ x: n }));
    parentPort.on('message', (m) => {
      if (m === 'close') { s.close(); post('closed'); }
    });
    post('ready');
  `);
  await w.next((m) => m === 'ready');
  await main.flush({ file: true });
  editFile(main.path, (d) => (d.x = 2));
  assert.deepEqual(await w.next((m) => m && m.x === 2), { x: 2 }, 'the worker hears it');
  await until('the main thread to hear edit 2', () => heard.includes(2));
  w.postMessage('close');
  await w.next((m) => m === 'closed');
  await w.terminate();
  editFile(main.path, (d) => (d.x = 3));
  await until('the main thread to hear edit 3, the worker gone', () => heard.includes(3));
  assert.deepEqual(heard, [1, 2, 3]);
  assert.equal(main.get('x'), 3);
});

test("a worker's process.exit() writes its deferred changes", async (t) => {
  const dir = fixture(t).dir();
  const w = startWorker(dir, `
    const s = new Store({ cwd: dir, backups: false });
    for (let i = 0; i < 1000; i++) s.set('k' + i, i);
    process.on('exit', () => s.set('late', true));
    process.exit(0);
  `);
  const code = await new Promise((resolve) => w.once('exit', resolve));
  assert.equal(code, 0);
  const doc = fileOf(dir);
  for (let i = 0; i < 1000; i++) assert.equal(doc[`k${i}`], i);
  assert.equal(doc.late, true);
});

for (const mainOnly of [false, true]) {
  test(`Electron (stand-in): new Store() without cwd in a worker opens the main thread's userData file${mainOnly ? ' (process.versions.electron set in the main thread only)' : ''}`, async (t) => {
    const userData = fixture(t).dir();
    const env = { NODE_PATH: STAND_IN, STAND_IN_USER_DATA: userData, STAND_IN_APP_VERSION: '2.5.0' };
    if (mainOnly) env.STAND_IN_MAIN_ONLY = '1';
    const r = await runChild(['electron-cwd', ''], env);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(userData, 'config.json');
    assert.deepEqual(r.lines, [`main-path ${file}`, `worker-path ${file}`, 'worker-version 2.5.0']);
  });
}

test('Electron (stand-in): without cwd in a worker whose main thread has not loaded tad-store, E_OPTION (never another file)', async (t) => {
  const fx = fixture(t);
  const userData = fx.dir();
  const given = fx.dir();
  const home = fx.dir();
  const r = await runChild(['electron-cwd-unloaded', given], { NODE_PATH: STAND_IN, STAND_IN_USER_DATA: userData, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines, ['worker-error E_OPTION', `worker-with-cwd ${path.join(given, 'config.json')}`]);
  assert.deepEqual(fs.readdirSync(home), [], 'nothing was created under the home directory');
});
