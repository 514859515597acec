'use strict';

/**
 * Shared helpers for the tad-store specs: temp directories, a fixture that
 * closes every store a test opens, and a tad-store / conf@10 pair for
 * differential tests (same operations on both, same result expected).
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');

const Store = require('..');
const Conf = require('conf');

// ---------------------------------------------------------------------------
// Platforms: what a spec may assume (checked by scripts/check-platform-code.js)
// ---------------------------------------------------------------------------

/**
 * Unix file modes exist here. On Windows Node reports 0o666 (or 0o444 for a
 * read-only file) whatever the ACLs say, so mode checks only run elsewhere.
 */
const HAS_MODES = process.platform !== 'win32';

/** A test's `skip` option for a test that is only about Unix modes. */
const NO_MODES = !HAS_MODES && 'Windows has no Unix file modes (ACLs instead: see the README platform table)';

/** The permission bits of `file` (call only where `HAS_MODES`). */
function fileMode(file) {
  if (!HAS_MODES) throw new Error('fileMode() on a platform without Unix modes: guard the check with HAS_MODES');
  return fs.statSync(file).mode & 0o777;
}

/**
 * Asserts `file`'s permission bits where modes exist; on Windows there is
 * nothing to assert (the rest of the test still runs).
 */
function assertMode(file, want, message) {
  if (HAS_MODES) assert.equal(fileMode(file), want, message || `mode of ${file}`);
}

let symlinks;
/**
 * Whether this account can create symbolic links (Windows needs developer
 * mode or the SeCreateSymbolicLink privilege; elsewhere always).
 */
function canSymlink() {
  if (symlinks === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-link-'));
    try {
      fs.writeFileSync(path.join(dir, 'target'), '');
      fs.symlinkSync(path.join(dir, 'target'), path.join(dir, 'link'), 'file');
      fs.mkdirSync(path.join(dir, 'dir'));
      fs.symlinkSync(path.join(dir, 'dir'), path.join(dir, 'dir-link'), 'dir');
      symlinks = true;
    } catch {
      symlinks = false;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return symlinks;
}

/** A test's `skip` option for a test that needs symbolic links. */
function noSymlinks() {
  return !canSymlink() && 'this account cannot create symbolic links (Windows without developer mode)';
}

/**
 * Asserts that a child process (a `spawnSync` result) ended by killing itself
 * with `process.kill(process.pid, 'SIGKILL')`. On Windows that is libuv's
 * uv_kill: TerminateProcess(..., 1), so the exit code is 1 and no signal is
 * reported; an uncaught exception would also exit with 1, so its stack trace
 * in stderr tells the two apart.
 */
function assertSelfKilled(r, message) {
  const what = `${message || 'the child'} (status ${r.status}, signal ${r.signal}): ${r.stderr}`;
  if (process.platform === 'win32') {
    assert.equal(r.signal, null, what);
    assert.equal(r.status, 1, what);
    assert.doesNotMatch(r.stderr || '', /^\s+at /m, `${what}: it threw instead of being killed`);
  } else {
    assert.equal(r.signal, 'SIGKILL', what);
  }
}

/** Removes a directory tree, retrying while Windows still holds a file in it. */
function removeTree(dir) {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

/** A fresh, empty temp directory. */
function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tad-'));
}

/**
 * Per-test fixture: `dir()` makes temp dirs, `open(opts)` opens a tad-store
 * (cwd defaults to a fresh dir), `conf(opts)` opens a conf@10 instance.
 * Every tad-store opened through it is closed when the test ends (tests also
 * close explicitly where closing is part of what they check), and the temp
 * dirs are removed.
 */
function fixture(t) {
  const dirs = [];
  const stores = [];
  const fx = {
    dir() {
      const d = tmpDir();
      dirs.push(d);
      return d;
    },
    open(opts = {}) {
      const store = new Store({ cwd: opts.cwd === undefined ? fx.dir() : opts.cwd, ...opts });
      stores.push(store);
      return store;
    },
    conf(opts = {}) {
      const { name, ...rest } = opts;
      const cwd = rest.cwd === undefined ? fx.dir() : rest.cwd;
      return new Conf({ ...rest, cwd, configName: name === undefined ? 'config' : name });
    },
    /** A tad-store and a conf instance with the same options, on separate dirs. */
    pair(opts = {}) {
      const tad = fx.open({ ...opts, cwd: fx.dir() });
      const conf = fx.conf({ ...opts, cwd: fx.dir() });
      return { tad, conf };
    },
  };
  t.after(() => {
    for (const s of stores) {
      if (!s.closed) s.close();
    }
    for (const d of dirs) removeTree(d);
  });
  return fx;
}

/**
 * Opens a tad-store and a conf@10 instance on separate temp dirs, with the
 * same options. The caller closes `tad` (or relies on the fixture).
 */
function openPair(t, opts = {}) {
  return fixture(t).pair(opts);
}

/** Plain copy of `store` (drops the null prototype) for deep comparisons. */
function plain(store) {
  return { ...store.store };
}

/** File bytes, or null when the file does not exist. */
function readBytes(file) {
  return fs.existsSync(file) ? fs.readFileSync(file) : null;
}

/**
 * Asserts the two stores hold the same data (deep, in memory) and, after
 * tad-store's flushSync, that the files have identical bytes.
 */
function assertSame(tad, conf, message) {
  assert.deepStrictEqual(plain(tad), plain(conf), message);
  assert.deepStrictEqual(Object.keys(tad.store), Object.keys(conf.store), `${message || ''} (key order)`);
  tad.flushSync({ file: true });
  const a = readBytes(tad.path);
  const b = readBytes(conf.path);
  assert.equal(a === null ? null : a.toString('utf8'), b === null ? null : b.toString('utf8'), `${message || ''} (file bytes)`);
  assert.ok(a === null || a.equals(b), `${message || ''} (file bytes)`);
}

/**
 * Runs `op(store)` on both and asserts the same outcome: equal return value,
 * or a throw on both (same error class).
 */
function same(tad, conf, op, label) {
  let rt;
  let rc;
  let et;
  let ec;
  try {
    rt = op(tad);
  } catch (error) {
    et = error;
  }
  try {
    rc = op(conf);
  } catch (error) {
    ec = error;
  }
  const what = label || op.toString();
  if (et || ec) {
    assert.ok(et && ec, `${what}: tad threw ${et && et.message}, conf threw ${ec && ec.message}`);
    assert.equal(et.constructor, ec.constructor, `${what}: error class`);
    return undefined;
  }
  assert.deepStrictEqual(rt, rc, `${what}: return value`);
  return rt;
}

/** Small seeded PRNG (mulberry32) so random tests are reproducible. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = n => Math.floor(next() * n);
  next.pick = list => list[next.int(list.length)];
  return next;
}

/** Writes `data` (string or Buffer) to `<dir>/<name>` and returns the path. */
function writeFile(dir, name, data) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  return file;
}

/**
 * Runs `fn` and returns `{ result, warnings }`: the process warnings emitted
 * while it ran (caught synchronously by wrapping process.emitWarning).
 */
function captureWarnings(fn) {
  const warnings = [];
  const original = process.emitWarning;
  process.emitWarning = (warning, options) => {
    const code = options && typeof options === 'object' ? options.code : undefined;
    warnings.push({ message: String(warning && warning.message ? warning.message : warning), code });
  };
  try {
    return { result: fn(), warnings };
  } finally {
    process.emitWarning = original;
  }
}

module.exports = {
  HAS_MODES,
  NO_MODES,
  fileMode,
  assertMode,
  canSymlink,
  noSymlinks,
  assertSelfKilled,
  removeTree,
  Store,
  Conf,
  tmpDir,
  fixture,
  openPair,
  plain,
  readBytes,
  assertSame,
  same,
  rng,
  writeFile,
  captureWarnings,
};
