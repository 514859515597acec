'use strict';

/**
 * Honest failures through the public API (issue 7): a real full disk (a small
 * tmpfs, when the tests run as root), a read-only mount, panics inside the
 * addon (a child process with the test hooks on), migrations larger than the
 * kept history that throw, a crash in the middle of a migration, and several
 * Store instances on one file, each with its own options.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, spawn } = require('node:child_process');

const { Store, fixture } = require('./helpers.js');

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Mounts a tmpfs of `size` at a new directory; null when that is not possible here. */
function mountTmpfs(t, size) {
  if (!isRoot || process.platform !== 'linux') return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-mnt-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  if (r.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return null;
  }
  t.after(() => {
    spawnSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the file system holding `dir` until it is full; returns the filler's path. */
function fillDisk(dir) {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    assert.equal(error.code, 'ENOSPC');
  }
  // and the last few bytes
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(512, 1));
  } catch {}
  fs.closeSync(fd);
  return filler;
}

/** The next `name` event of `emitter` (its argument); fails loudly after a generous deadline instead of hanging. */
function nextEvent(emitter, name, what, deadlineMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(name, on);
      reject(new Error(`timed out waiting for ${what}`));
    }, deadlineMs);
    const on = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(name, on);
  });
}

test('a real full disk: a sync set throws E_NOSPC with the OS cause and is undone; the store heals', async t => {
  const mnt = mountTmpfs(t, '1m');
  if (!mnt) return t.skip('needs root and tmpfs');
  const cwd = path.join(mnt, 'app');
  const s = new Store({ cwd, durability: 'sync', backups: false });
  t.after(() => s.close({ force: true }));
  s.set('kept', 1);
  const filler = fillDisk(mnt);
  const seen = [];
  s.onDidChange('lost', v => seen.push(v));
  let error;
  // the journal may still have a little room: write until the disk refuses
  for (let i = 0; i < 10_000 && !error; i++) {
    try {
      s.set('lost', 'x'.repeat(4096) + i);
    } catch (e) {
      error = e;
    }
  }
  assert.ok(error, 'the disk filled up');
  assert.equal(error.code, 'E_NOSPC');
  assert.ok(error instanceof Error);
  assert.equal(error.cause.code, 'ENOSPC');
  assert.equal(error.cause.errno, os.constants.errno.ENOSPC);
  assert.ok(error.path, 'the file it was about');
  const before = s.get('lost');
  // a later set that does not fit fails too, and is not applied either
  assert.throws(() => s.set('also', 'z'.repeat(64 * 1024)), { code: 'E_NOSPC' });
  assert.equal(s.get('also'), undefined);
  assert.equal(s.get('lost'), before, 'what get returns is what is durable');
  // room again: it works
  fs.rmSync(filler);
  s.set('after', 3);
  assert.equal(s.get('after'), 3);
  s.close();
  const again = new Store({ cwd, backups: false });
  assert.equal(again.get('kept'), 1);
  assert.equal(again.get('after'), 3);
  assert.equal(again.get('also'), undefined);
  assert.equal(again.getStoreInfo().recovery.journalDamage, null);
  again.close();
});

test("a real full disk in deferred mode: 'error' event, flush rejects, writerError, close throws and keeps the changes; it heals", async t => {
  const mnt = mountTmpfs(t, '1m');
  if (!mnt) return t.skip('needs root and tmpfs');
  const cwd = path.join(mnt, 'app');
  const s = new Store({ cwd, backups: false });
  t.after(() => s.close({ force: true }));
  s.set('base', 1);
  await s.flush();
  const filler = fillDisk(mnt);
  const firstError = nextEvent(s.events, 'error', "an 'error' event");
  for (let i = 0; i < 50; i++) s.set(`k${i}`, 'y'.repeat(2048));
  const error = await firstError;
  assert.equal(error.code, 'E_NOSPC');
  // made as thrown errors are: the OS error as `cause`, the file as `path`
  assert.ok(error instanceof Error);
  assert.equal(error.cause.code, 'ENOSPC');
  assert.equal(error.cause.errno, os.constants.errno.ENOSPC);
  assert.ok(typeof error.path === 'string' && error.path.startsWith(cwd), `path ${error.path}`);
  // The first write to fail is a journal append (its changes are in memory
  // only: `pending` > 0), or — when the appends so far fit in the file
  // system's last free bytes and the writer found nothing more queued — the
  // document write (every change durable in the journal, the file behind it).
  // Either way not every change is in the file yet:
  const behind = (pending, info) => pending > 0 || info.checkpointedSeq < info.seq;
  assert.ok(behind(error.pending, s.getStoreInfo()), `pending ${error.pending}, ${JSON.stringify(s.getStoreInfo())}`);
  await assert.rejects(s.flush(), { code: 'E_NOSPC' });
  const info = s.getStoreInfo();
  assert.equal(info.writerError.code, 'E_NOSPC');
  assert.ok(behind(info.pendingWrites, info), JSON.stringify(info));
  assert.equal(s.getHealthReport().healthy, false);
  // close says so, and the store stays open with every change
  assert.throws(() => s.close(), { code: 'E_NOSPC' });
  assert.equal(s.closed, false);
  assert.equal(s.get('k49'), 'y'.repeat(2048));
  // the disk has room again: the writer retries by itself
  const healed = nextEvent(s.events, 'writeRecovered', 'the store to heal');
  fs.rmSync(filler);
  await healed;
  await s.flush();
  assert.equal(s.getStoreInfo().writerError, null);
  s.close();
  const again = new Store({ cwd, backups: false });
  assert.equal(Object.keys(again.store).length, 51, 'nothing lost');
  again.close();
});

test('a read-only mount opens for reading; writes fail with E_READONLY and change nothing', async t => {
  const mnt = mountTmpfs(t, '4m');
  if (!mnt) return t.skip('needs root and tmpfs');
  const cwd = path.join(mnt, 'app');
  const s = new Store({ cwd, defaults: { theme: 'dark' }, backups: false });
  s.set('a', { b: 1 });
  s.close();
  const bytes = fs.readFileSync(path.join(cwd, 'config.json'));
  assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
  const ro = new Store({ cwd, defaults: { theme: 'dark' }, backups: false });
  assert.equal(ro.getStoreInfo().readOnly, true);
  assert.equal(ro.get('a.b'), 1);
  assert.deepStrictEqual({ ...ro.store }, { theme: 'dark', a: { b: 1 } });
  assert.throws(() => ro.set('a.b', 2), { code: 'E_READONLY' });
  assert.equal(ro.get('a.b'), 1);
  ro.set('theme', 'dark'); // no change: no error
  await assert.rejects(ro.createBackup(), { code: 'E_READONLY' });
  ro.close();
  assert.ok(fs.readFileSync(path.join(cwd, 'config.json')).equals(bytes));
  spawnSync('mount', ['-o', 'remount,rw', mnt]);
});

test('a panic inside the addon becomes an E_INTERNAL error: no abort, no hang, the store goes on', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-panic-'));
  try {
    const script = `
      const binding = require('./binding.js');
      const Store = require('.');
      const out = [];
      const codeOf = f => { try { f(); return 'ok'; } catch (e) { return e.code + (e instanceof Error ? '' : '?'); } };
      const s = new Store({ cwd: process.argv[1], durability: 'sync', backups: false });
      out.push(binding.testArmPanic('commit', 1));
      out.push(codeOf(() => s.set('a', 1)));
      out.push(s.get('a') === undefined);
      out.push(binding.testArmPanic('writer.batch', 1));
      out.push(codeOf(() => s.set('b', 2)));
      out.push(s.get('b') === undefined);
      out.push(codeOf(() => s.set('c', 3)));
      binding.testArmPanic('backup', 1);
      s.createBackup().then(() => 'ok', e => e.code).then(r => {
        out.push(r);
        out.push(codeOf(() => s.flushSync()));
        s.close();
        const again = new Store({ cwd: process.argv[1], backups: false });
        out.push(JSON.stringify(again.store));
        again.close();
        process.stdout.write(JSON.stringify(out));
      });
    `;
    const r = spawnSync(process.execPath, ['-e', script, dir], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, TAD_STORE_TEST_HOOKS: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `the process survived: ${r.stderr}`);
    assert.deepStrictEqual(JSON.parse(r.stdout), [true, 'E_INTERNAL', true, true, 'E_INTERNAL', true, 'ok', 'E_INTERNAL', 'ok', '{"c":3}']);
    // without the environment variable the hook does nothing
    const off = spawnSync(process.execPath, ['-e', "process.stdout.write(String(require('./binding.js').testArmPanic('commit', 1)))"], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
    assert.equal(off.stdout, 'false');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a migration making more changes than history.maxEntries that throws: byte-identical file, no history, E_MIGRATION with the cause', t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const first = new Store({ cwd, projectVersion: '1.0.0', history: { maxEntries: 5 }, backups: false, migrations: { '1.0.0': st => st.set('v', 1) } });
  first.set('data', { keep: true });
  first.close();
  const file = fs.readFileSync(path.join(cwd, 'config.json'));
  const journal = fs.readFileSync(path.join(cwd, 'storeHistory', 'config.json.journal'));
  const boom = new Error('boom');
  let error;
  try {
    new Store({
      cwd,
      projectVersion: '2.0.0',
      history: { maxEntries: 5 },
      backups: false,
      migrations: {
        '2.0.0': st => {
          for (let i = 0; i < 200; i++) st.set(`m${i}`, i);
          st.delete('data');
          throw boom;
        },
      },
    });
  } catch (e) {
    error = e;
  }
  assert.equal(error.code, 'E_MIGRATION');
  assert.equal(error.cause, boom, 'the thrown error is the cause');
  assert.equal(error.migration, '2.0.0');
  assert.ok(fs.readFileSync(path.join(cwd, 'config.json')).equals(file), 'file byte-identical');
  assert.ok(fs.readFileSync(path.join(cwd, 'storeHistory', 'config.json.journal')).equals(journal), 'no history of its steps');
  // a successful one is a single history entry
  const ok = new Store({ cwd, projectVersion: '2.0.0', history: { maxEntries: 5 }, backups: false, migrations: { '2.0.0': st => { for (let i = 0; i < 200; i++) st.set(`m${i}`, i); } } });
  return ok.getHistorySummary().then(h => {
    const last = h.entries[h.entries.length - 1];
    assert.equal(last.operation, 'migration');
    assert.equal(last.keys.length, 201);
    assert.equal(ok.get('m199'), 199);
    ok.close();
  });
});

test('kill -9 in the middle of a migration reopens to the state before it', async t => {
  const cwd = fixture(t).dir();
  const s = new Store({ cwd, projectVersion: '1.0.0', backups: false, migrations: { '1.0.0': () => {} } });
  s.set('before', true);
  s.close();
  const file = fs.readFileSync(path.join(cwd, 'config.json'));
  const script = `
    const Store = require('.');
    new Store({ cwd: process.argv[1], projectVersion: '2.0.0', durability: 'sync', backups: false, migrations: { '2.0.0': st => {
      for (let i = 0; i < 500; i++) st.set('m' + i, i);
      process.stdout.write('midway\\n');
      const until = Date.now() + 60000; while (Date.now() < until) {}
    } } });
  `;
  const child = spawn(process.execPath, ['-e', script, cwd], { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise(resolve => child.stdout.once('data', resolve));
  child.kill('SIGKILL');
  await new Promise(resolve => child.once('exit', resolve));
  assert.ok(fs.readFileSync(path.join(cwd, 'config.json')).equals(file));
  const again = new Store({ cwd, projectVersion: '1.0.0', backups: false });
  assert.deepStrictEqual({ ...again.store }, { __internal__: { migrations: { version: '1.0.0' } }, before: true });
  again.close();
});

test('a second Store on an open file keeps its own schema, migrations, durability and dot notation, or is refused naming the option', t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const a = fx.open({ cwd, backups: false, projectVersion: '1.0.0', migrations: { '1.0.0': st => st.set('fromA', 1) } });
  a.set('x.y', 1);
  // its own migrations run, and its own schema is checked at open
  const b = fx.open({ cwd, backups: false, accessPropertiesByDotNotation: false, durability: 'sync', projectVersion: '2.0.0', migrations: { '2.0.0': st => st.set('fromB', 2) }, schema: { fromB: { type: 'number' } } });
  assert.equal(a.get('fromB'), 2, 'b migrated the shared file');
  assert.equal(b.get('x.y'), undefined, 'b reads keys literally');
  assert.throws(() => b.set('fromB', 'text'), { code: 'E_SCHEMA' });
  a.set('fromB', 'text'); // a has no schema
  assert.equal(b.get('fromB'), 'text');
  assert.throws(() => new Store({ cwd, schema: { x: { type: 'string' } } }), { code: 'E_SCHEMA' }, "a third one's schema check at open runs");
  assert.throws(() => new Store({ cwd, history: { maxEntries: 3 } }), e => e.code === 'E_OPTION_CONFLICT' && e.message.includes('history.maxEntries'));
  assert.throws(() => new Store({ cwd, configFileMode: 0o644 }), e => e.code === 'E_OPTION_CONFLICT' && e.message.includes('configFileMode'));
  // the refused ones left nothing behind: a and b still work
  a.set('z', 1);
  assert.equal(b.get('z'), 1);
});

test('native errors carry their code natively: TypeErrors for bad arguments, Errors with code otherwise', t => {
  const s = fixture(t).open({ backups: false });
  assert.throws(() => s.get('a.__proto__.b'), e => e instanceof TypeError && e.code === 'E_FORBIDDEN_KEY');
  // a scalar at a path deeper than the nesting limit: checked natively only
  assert.throws(() => s.set(`k${'.k'.repeat(require('../lib/values.js').MAX_DEPTH)}`, 1), e => e instanceof RangeError && e.code === 'E_TOO_DEEP');
  s.close();
  assert.throws(() => s.get('a'), e => e.code === 'E_CLOSED');
  fs.writeFileSync(s.path, '{broken');
  assert.throws(() => new Store({ cwd: path.dirname(s.path), backups: false }), e => e.code === 'E_CORRUPT' && e.path === s.path && !(e instanceof TypeError));
});

test('kill -9 at random moments of a rollback: reopens as before it or as after it, never a mix', async t => {
  const ROOT = path.join(__dirname, '..');
  for (let round = 0; round < 12; round++) {
    const dir = fixture(t).dir();
    const script = `
      const Store = require(${JSON.stringify(ROOT)});
      const s = new Store({ cwd: ${JSON.stringify(dir)}, durability: 'sync', backups: false, history: { maxEntries: 1000 } });
      const wide = {}; for (let i = 0; i < 3000; i++) wide['k' + i] = i;
      s.set('wide', wide);
      for (let i = 0; i < 50; i++) s.set('n', i);
      process.stdout.write('ready\\n');
      s.rollbackToSeq(2).then(() => { process.stdout.write('rolled\\n'); s.set('n', 100); process.stdout.write('after\\n'); });
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', d => {
      out += d;
      if (out.includes('ready') && !child.killTimer) child.killTimer = setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 25));
    });
    await new Promise(r => child.once('exit', r));
    assert.ok(out.includes('ready'), out);
    const s = new Store({ cwd: dir, backups: false, history: { maxEntries: 1000 } });
    const n = s.get('n');
    const wide = s.get('wide');
    if (out.includes('after')) assert.equal(n, 100, `round ${round}: acknowledged set after the rollback kept`);
    else if (out.includes('rolled')) assert.ok(n === 0 || n === 100, `round ${round}: the acknowledged rollback kept (n=${n})`);
    else assert.ok(n === 49 || n === 0 || n === 100, `round ${round}: before or after, never a mix (n=${n})`);
    assert.equal(Object.keys(wide).length, 3000, `round ${round}: the untouched key is whole`);
    assert.equal(s.getStoreInfo().recovery.journalDamage, null, `round ${round}`);
    s.close();
  }
});
