'use strict';

/**
 * Process exit (issue 16): every change a process makes before it ends is in
 * the store file when it has ended — whatever ends it, as README's
 * "Process exit" promises. Each case runs fixtures/exit-child.js in a real
 * child process and reads the file it left (the document on disk, not a
 * store's memory):
 *
 * - the app's own 'exit' handlers, registered before or after tad-store's,
 *   write (no E_CLOSED: stores are not closed on exit, changes made while
 *   exiting are durable before the call returns), even with a store opened
 *   there; a critical-key backup due is taken, and one for a change made
 *   there;
 * - 'beforeExit', process.exit() with 1,000 deferred changes queued, an
 *   uncaught exception, an unhandled rejection;
 * - SIGINT / SIGTERM / SIGHUP with no handler of the app's: everything
 *   acknowledged is flushed and the process still ends by that signal;
 *   with the app's handler: flushed, the app decides (its handler that calls
 *   process.exit writes; its handler that lets the process go on sees the
 *   signal once); with only signal-exit listening: it still ends by the
 *   signal, signal-exit's callback runs;
 * - Electron (stand-in module): 'before-quit' and 'will-quit' flush, no signal
 *   listener is installed (Electron quits on signals itself), app.quit()
 *   ends with everything written.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { tmpDir } = require('./helpers.js');

const CHILD = path.join(__dirname, 'fixtures', 'exit-child.js');
const STAND_IN = path.join(__dirname, 'fixtures', 'electron-stand-in');
/** Generous: a loaded 2-core machine; a child that hangs fails the test. */
const DEADLINE_MS = 60_000;

/**
 * Runs the child. `onLine(line, child)` sees each stdout line. Resolves to
 * `{ code, signal, lines, stderr }` when it has exited.
 */
function runChild(args, { env, onLine } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(env && env.NODE_PATH ? ['-r', path.join(STAND_IN, 'preload.js')] : []), CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const lines = [];
    let stderr = '';
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`exit-child ${args.join(' ')} did not end within ${DEADLINE_MS} ms; output: ${lines.join(' | ')}; stderr: ${stderr}`));
    }, DEADLINE_MS);
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (onLine) onLine(line, child);
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, lines, stderr });
    });
  });
}

/** The store file's content as another program (or electron-store) would read it. */
function fileOf(dir, name = 'config') {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
}

function withDir(t) {
  const dir = tmpDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function assertClean(r) {
  assert.doesNotMatch(r.stderr, /tad-store|E_CLOSED/, `no store error on stderr: ${r.stderr}`);
}

test("the app's 'exit' handler registered after tad-store's writes durably (no E_CLOSED)", async (t) => {
  const dir = withDir(t);
  const r = await runChild(['exit-after', dir]);
  assert.equal(r.code, 0, r.stderr);
  assertClean(r);
  assert.deepEqual(fileOf(dir), { late: 1, late2: { x: 1 } });
});

test("the app's 'exit' handler registered before tad-store's writes durably", async (t) => {
  const dir = withDir(t);
  const r = await runChild(['exit-before', dir]);
  assert.equal(r.code, 0, r.stderr);
  assertClean(r);
  assert.deepEqual(fileOf(dir), { a: 1, early: 1 });
});

test("critical-key backups: the one due is taken at exit, a change in an 'exit' handler gets its own", async (t) => {
  const dir = withDir(t);
  const r = await runChild(['exit-critical', dir]);
  assert.equal(r.code, 0, r.stderr);
  assertClean(r);
  assert.deepEqual(fileOf(dir), { settings: { a: 1, b: 2 } });
  const backups = fs.readdirSync(path.join(dir, 'backups')).filter((f) => f.endsWith('.json') && !f.endsWith('.meta.json'));
  // (two backups may share a millisecond: compared as a set)
  assert.deepEqual(backups.map((f) => fs.readFileSync(path.join(dir, 'backups', f), 'utf8').replace(/\s/g, '')).sort(), [
    '{"settings":{"a":1,"b":2}}',
    '{"settings":{"a":1}}',
  ]);
});

test("a store opened in an 'exit' handler writes durably", async (t) => {
  const dir = withDir(t);
  const r = await runChild(['exit-new-store', dir]);
  assert.equal(r.code, 0, r.stderr);
  assertClean(r);
  assert.deepEqual(fileOf(dir), { a: 1 });
  assert.deepEqual(fileOf(dir, 'other'), { d: 1, z: 1 });
});

test('process.exit() with 1,000 deferred changes queued: all written, exit code kept', async (t) => {
  const dir = withDir(t);
  const r = await runChild(['process-exit', dir]);
  assert.equal(r.code, 3, r.stderr);
  assertClean(r);
  const doc = fileOf(dir);
  for (let i = 0; i < 1000; i++) assert.equal(doc[`k${i}`], i);
  assert.equal(doc.code, 3, "the 'exit' handler's set too");
});

test("a change made in 'beforeExit' is written", async (t) => {
  const dir = withDir(t);
  const r = await runChild(['before-exit', dir]);
  assert.equal(r.code, 0, r.stderr);
  assertClean(r);
  assert.deepEqual(fileOf(dir), { a: 1, be: 1 });
});

for (const scenario of ['uncaught', 'rejection']) {
  test(`an ${scenario === 'uncaught' ? 'uncaught exception' : 'unhandled rejection'} ends the process with every change written`, async (t) => {
    const dir = withDir(t);
    const r = await runChild([scenario, dir]);
    assert.equal(r.code, 1, 'Node exits with 1');
    assert.match(r.stderr, /expected by exit\.spec\.js/);
    assert.doesNotMatch(r.stderr, /tad-store/);
    const doc = fileOf(dir);
    for (let i = 0; i < 1000; i++) assert.equal(doc[`k${i}`], i);
    assert.equal(doc.late, 1);
  });
}

/**
 * Lets the child write until it has acknowledged `atLeast` sets, then sends
 * `signal`. Returns the child's result and the count acknowledged when the
 * signal was sent (every set up to it returned before).
 */
async function signalWhileWriting(dir, signal, handler, atLeast = 1000) {
  let acked = -1;
  const r = await runChild(['signal', dir, signal, handler], {
    onLine(line, child) {
      const m = /^n (\d+)$/.exec(line);
      if (m && acked < 0 && Number(m[1]) >= atLeast) {
        acked = Number(m[1]);
        child.kill(signal);
      }
    },
  });
  assert.ok(acked >= atLeast, `the child acknowledged ${atLeast} sets before the signal (${r.lines.slice(-3).join(' | ')}; ${r.stderr})`);
  return { r, acked };
}

/** Every set the child acknowledged is in the file, and what is there is a prefix of them. */
function assertPrefix(dir, acked) {
  const doc = fileOf(dir);
  const keys = Object.keys(doc).filter((k) => /^k\d+$/.test(k));
  for (let i = 0; i < keys.length; i++) assert.equal(doc[`k${i}`], i, 'a prefix of the sets');
  assert.ok(keys.length >= acked, `all ${acked} acknowledged sets are in the file (found ${keys.length})`);
  return doc;
}

const SIGNALS = process.platform === 'win32' ? [] : ['SIGTERM', 'SIGINT', 'SIGHUP'];

for (const signal of SIGNALS) {
  test(`${signal} with no handler of the app's: every acknowledged set is written, and the process ends by ${signal}`, async (t) => {
    const dir = withDir(t);
    const { r, acked } = await signalWhileWriting(dir, signal, 'none');
    assert.equal(r.signal, signal, `ended by the signal (code ${r.code}; ${r.stderr})`);
    assertClean(r);
    assertPrefix(dir, acked);
  });
}

if (SIGNALS.length > 0) {
  test('SIGTERM with no handler of the app\'s: a file only a worker thread has open is written too', async (t) => {
    const dir = withDir(t);
    let acked = -1;
    const r = await runChild(['signal-worker', dir], {
      onLine(line, child) {
        const m = /^n (\d+)$/.exec(line);
        if (m && acked < 0 && Number(m[1]) >= 1000) {
          acked = Number(m[1]);
          child.kill('SIGTERM');
        }
      },
    });
    assert.equal(r.signal, 'SIGTERM', `ended by the signal (code ${r.code}; ${r.stderr})`);
    assertClean(r);
    assert.deepEqual(fileOf(dir), { main: 1 });
    const { n } = fileOf(dir, 'worker');
    assert.ok(n >= acked, `all ${acked} sets the worker acknowledged are in its file (found ${n})`);
  });
}

for (const signal of ['SIGTERM', 'SIGINT'].filter((s) => SIGNALS.includes(s))) {
  test(`${signal} with the app's handler calling process.exit(0): everything written, including the handler's set`, async (t) => {
    const dir = withDir(t);
    const { r, acked } = await signalWhileWriting(dir, signal, 'exit');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.signal, null);
    assertClean(r);
    assert.equal(assertPrefix(dir, acked).handler, 1);
  });

  test(`${signal} with the app's handler that goes on: flushed, the process is not ended, the handler sees the signal once`, async (t) => {
    const dir = withDir(t);
    const { r, acked } = await signalWhileWriting(dir, signal, 'continue');
    assert.equal(r.signal, null, 'the app kept the process');
    assert.equal(r.code, 0, r.stderr);
    assertClean(r);
    assert.deepEqual(r.lines.filter((l) => l === 'handled' || l.startsWith('hits')), ['handled', 'hits 1']);
    assert.equal(assertPrefix(dir, acked).handler, 1);
  });
}

for (const handler of SIGNALS.length > 0 ? ['signal-exit', 'signal-exit-first'] : []) {
  test(`SIGTERM with only signal-exit listening (as libraries install it${handler === 'signal-exit-first' ? ', before the store opens' : ''}): written, ended by SIGTERM, signal-exit's callback ran`, async (t) => {
    const dir = withDir(t);
    const { r, acked } = await signalWhileWriting(dir, 'SIGTERM', handler);
    assert.equal(r.signal, 'SIGTERM', `ended by the signal (code ${r.code}; ${r.stderr})`);
    assert.ok(r.lines.includes('signal-exit SIGTERM'), `signal-exit's callback ran: ${r.lines.slice(-3).join(' | ')}`);
    assertClean(r);
    assertPrefix(dir, acked);
  });
}

test("Electron (stand-in): 'before-quit' and 'will-quit' flush, app.quit() ends with everything written, no signal listener", async (t) => {
  const userData = withDir(t);
  const r = await runChild(['electron', ''], { env: { NODE_PATH: STAND_IN, STAND_IN_USER_DATA: userData } });
  assert.equal(r.code, 0, r.stderr);
  assertClean(r);
  assert.ok(r.lines.includes(`path ${path.join(userData, 'config.json')}`), `the store is in userData: ${r.lines.join(' | ')}`);
  assert.ok(r.lines.includes('sigterm-listeners 0'), 'Electron handles SIGTERM itself');
  assert.ok(r.lines.includes('before-quit a 1'), "the file holds `a` at 'before-quit'");
  assert.ok(r.lines.includes('will-quit a 1'));
  assert.deepEqual(fileOf(userData), { a: 1, b: 2, c: 3, d: 4 });
});
