'use strict';

// tad-store vs conf@10 (electron-store 8's engine), same run, same starting bytes.
//
//   node --expose-gc bench/bench.js [--sizes 1kb,100kb,1mb,10mb] [--quick] [--no-memory] [--no-snapshot] [--only-recovery]
//
// Prints a Markdown table (median, p95 where useful, ratio conf/tad: >1 means
// tad-store is faster / smaller) and writes it to bench/results.md.
// At 1 MB and 10 MB it also times tad-store's backup / restore / rollback and a
// set inside a wide node (no conf counterpart: references are a plain file copy
// and tad's own document write). `--only-recovery` runs just those rows.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const { docForSize } = require('./docgen.js');

const crypto = require('node:crypto');

const ROOT = path.resolve(__dirname, '..');
const CONF_MODULE = path.join(ROOT, 'node_modules', 'conf');

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

const SIZE_BYTES = { '1kb': 1024, '100kb': 100 * 1024, '1mb': 1024 * 1024, '10mb': 10 * 1024 * 1024 };

function parseArgs(argv) {
  const out = { sizes: Object.keys(SIZE_BYTES), quick: false, noMemory: false, noSnapshot: false, onlyRecovery: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') out.quick = true;
    else if (a === '--no-memory') out.noMemory = true;
    else if (a === '--no-snapshot') out.noSnapshot = true;
    else if (a === '--only-recovery') out.onlyRecovery = true;
    else if (a === '--sizes' || a.startsWith('--sizes=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      out.sizes = String(v || '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      for (const s of out.sizes) {
        if (!(s in SIZE_BYTES)) throw new Error(`unknown size ${s}: use ${Object.keys(SIZE_BYTES).join(',')}`);
      }
    } else if (a === '--help' || a === '-h') {
      console.log('usage: node --expose-gc bench/bench.js [--sizes 1kb,100kb,1mb,10mb] [--quick] [--no-memory] [--no-snapshot] [--only-recovery]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

const ARGS = parseArgs(process.argv.slice(2));
const Q = ARGS.quick ? 0.25 : 1; // budget multiplier

// ---------------------------------------------------------------------------
// Temp dir and the package under test
// ---------------------------------------------------------------------------

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-bench-'));
function cleanup() {
  try {
    fs.rmSync(TMP, { recursive: true, force: true });
  } catch {}
}
process.on('exit', cleanup); // also on a crash (e.g. EPIPE when piped into `head`)
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

/**
 * The addon is rebuilt and edited while benchmarks run; copy its runtime files
 * once so this process and every memory child load the very same build.
 * `--no-snapshot` loads /work/main in place.
 */
function snapshotPackage() {
  if (ARGS.noSnapshot) return ROOT;
  const dst = path.join(TMP, 'pkg');
  fs.mkdirSync(dst);
  for (const f of fs.readdirSync(ROOT)) {
    if (['package.json', 'index.js', 'index.mjs', 'binding.js'].includes(f) || f.endsWith('.node')) fs.copyFileSync(path.join(ROOT, f), path.join(dst, f));
  }
  fs.cpSync(path.join(ROOT, 'lib'), path.join(dst, 'lib'), { recursive: true });
  // runtime dependencies (semver) resolve from the project's node_modules
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dst, 'node_modules'), 'dir');
  return dst;
}
const TAD_MODULE = snapshotPackage();
const Store = require(TAD_MODULE);
const Conf = require(CONF_MODULE);

function buildInfo() {
  const node = fs.readdirSync(TAD_MODULE).find((f) => f.endsWith('.node'));
  if (!node) return 'addon: (no local .node file)';
  const file = path.join(TAD_MODULE, node);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 12);
  const mtime = fs.statSync(path.join(ROOT, node)).mtime.toISOString();
  return `addon ${node} sha256 ${hash} (built ${mtime})${ARGS.noSnapshot ? ', loaded in place' : ', runtime files snapshotted at start'}`;
}

// ---------------------------------------------------------------------------
// Timing helpers
// ---------------------------------------------------------------------------

const now = () => process.hrtime.bigint();
const ns = (a, b) => Number(b - a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function settle() {
  if (global.gc) {
    global.gc();
    global.gc();
  }
  await sleep(20);
}

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p95: quantile(s, 0.95), min: s[0], max: s[s.length - 1], n: s.length };
}

let counter = 1000; // global op counter: every set writes a value the store does not hold yet

/**
 * Times `op(i)` (synchronous). Samples are per-op times (ns): each sample is one
 * batch of N ops timed together (N from a warm-up estimate, `batch` forces it),
 * so p95 is over batch means when N > 1. `after()` runs untimed after every batch.
 */
async function timeOp(op, { budgetMs = 1500, minSamples = 5, maxSamples = 300, targetBatchMs = 1, batch, after, warmMs = 100, minWarm = 3 } = {}) {
  budgetMs *= Q;
  warmMs *= Q;
  // warm-up
  let warmOps = 0;
  const w0 = now();
  let elapsed = 0;
  while ((warmOps < minWarm || elapsed < warmMs * 1e6) && elapsed < 1500e6 * Q && warmOps < 100000) {
    op(counter++);
    warmOps++;
    elapsed = ns(w0, now());
  }
  if (after) await after();
  const perOp = elapsed / warmOps;
  const n = batch || Math.max(1, Math.min(100000, Math.round((targetBatchMs * 1e6) / perOp)));
  const samples = [];
  const start = now();
  while (samples.length < maxSamples && (samples.length < minSamples || ns(start, now()) < budgetMs * 1e6)) {
    const t0 = now();
    for (let k = 0; k < n; k++) op(counter++);
    const t1 = now();
    samples.push(ns(t0, t1) / n);
    if (after) await after();
  }
  return { ...summarize(samples), batch: n };
}

/** Runs `round()` (async, returns {name: ns}) repeatedly; summarizes each name. */
async function timeRounds(round, { budgetMs = 1500, minSamples = 3, maxSamples = 50, warm = 1 } = {}) {
  budgetMs *= Q;
  for (let i = 0; i < warm; i++) await round();
  const acc = {};
  const start = now();
  let n = 0;
  while (n < maxSamples && (n < minSamples || ns(start, now()) < budgetMs * 1e6)) {
    const r = await round();
    for (const [k, v] of Object.entries(r)) (acc[k] = acc[k] || []).push(v);
    n++;
  }
  const out = {};
  for (const [k, v] of Object.entries(acc)) out[k] = summarize(v);
  return out;
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

function fmtTime(v) {
  if (!Number.isFinite(v)) return '—';
  if (v < 1e3) return `${v.toFixed(0)} ns`;
  if (v < 1e6) return `${(v / 1e3).toFixed(v < 1e4 ? 2 : 1)} µs`;
  if (v < 1e9) return `${(v / 1e6).toFixed(v < 1e7 ? 2 : 1)} ms`;
  return `${(v / 1e9).toFixed(2)} s`;
}
const fmtStat = (s, p95 = true) => (s ? (p95 ? `${fmtTime(s.median)} (p95 ${fmtTime(s.p95)})` : fmtTime(s.median)) : '—');
const fmtKB = (kb) => (Number.isFinite(kb) ? (kb >= 10240 ? `${(kb / 1024).toFixed(1)} MB` : `${kb.toFixed(0)} KB`) : '—');
const fmtBytes = (b) => (b >= 1048576 ? `${(b / 1048576).toFixed(2)} MB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${b} B`);
const ratio = (conf, tad) => (Number.isFinite(conf) && Number.isFinite(tad) && tad > 0 ? `${(conf / tad).toFixed(conf / tad >= 100 ? 0 : 2)}×` : '—');

const rows = [];
function row(metric, size, tad, conf, r, note = '') {
  rows.push({ metric, size, tad, conf, ratio: r, note });
}
function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------

function freshDir(name, startFile) {
  const dir = path.join(TMP, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(startFile, path.join(dir, 'config.json'));
  return dir;
}

// Automatic backups off (no backup at open, no timer), so they do not run under
// other rows; the backup/restore rows open their stores with the default options.
const NO_AUTO_BACKUPS = Object.freeze({ onStart: false, interval: 0 });
const openTad = (dir, durability = 'deferred') => new Store({ cwd: dir, name: 'config', durability, backups: NO_AUTO_BACKUPS });
const openConf = (dir) => new Conf({ cwd: dir, configName: 'config' });

// ---------------------------------------------------------------------------
// Reference: fsync'd 200-byte append
// ---------------------------------------------------------------------------

async function fsyncReference() {
  const file = path.join(TMP, 'fsync-ref.log');
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600);
  const buf = Buffer.alloc(200, 'x');
  buf[199] = 10;
  const iters = Math.max(30, Math.round(300 * Q));
  const measure = (sync) => {
    for (let i = 0; i < 10; i++) {
      fs.writeSync(fd, buf);
      sync(fd);
    }
    const s = [];
    for (let i = 0; i < iters; i++) {
      const t0 = now();
      fs.writeSync(fd, buf);
      sync(fd);
      s.push(ns(t0, now()));
    }
    return summarize(s);
  };
  const fsyncS = measure(fs.fsyncSync);
  const fdatasyncS = measure(fs.fdatasyncSync);
  fs.closeSync(fd);
  return { fsync: fsyncS, fdatasync: fdatasyncS };
}

// ---------------------------------------------------------------------------
// Peak memory (fresh child processes)
// ---------------------------------------------------------------------------

function runChild(lib, dir, mode) {
  const mod = lib === 'tad' ? TAD_MODULE : CONF_MODULE;
  const r = spawnSync(process.execPath, [path.join(__dirname, 'mem-child.js'), lib, mod, dir || '-', mode], {
    encoding: 'utf8',
    timeout: 120000,
  });
  if (r.status !== 0) throw new Error(`mem child ${lib} ${mode} failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const baselines = {};
function baseline(lib) {
  if (!baselines[lib]) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(runChild(lib, null, 'baseline').maxRSS);
    baselines[lib] = summarize(runs).median;
  }
  return baselines[lib];
}

function peakMemory(lib, sizeName, startFile, runs) {
  const values = [];
  for (let i = 0; i < runs; i++) {
    const dir = freshDir(`${sizeName}-mem-${lib}-${i}`, startFile);
    values.push(runChild(lib, dir, 'full').maxRSS);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return summarize(values).median;
}

// ---------------------------------------------------------------------------
// One size
// ---------------------------------------------------------------------------

const SMALL_KEY = 'settings.theme';
const SET_KEY = 'settings.fontSize';

async function benchSize(sizeName, targets) {
  const bytes = SIZE_BYTES[sizeName];
  log(`${sizeName}: generating document`);
  const { doc, size } = docForSize(bytes);
  const startFile = path.join(TMP, `${sizeName}-start.json`);
  fs.writeFileSync(startFile, JSON.stringify(doc, null, '\t'));
  const fileSize = fs.statSync(startFile).size;
  targets.docs.push({ sizeName, chars: size, fileSize, load: os.loadavg()[0] });
  const label = sizeName.toUpperCase().replace('KB', ' KB').replace('MB', ' MB');

  if (!ARGS.onlyRecovery) await benchCore(sizeName, label, startFile, targets);
  if (bytes >= 1024 * 1024) await benchRecovery(sizeName, label, startFile, doc, targets);
  fs.rmSync(startFile, { force: true });
}

async function benchCore(sizeName, label, startFile, targets) {
  const huge = SIZE_BYTES[sizeName] >= 10 * 1024 * 1024;
  const tadDir = freshDir(`${sizeName}-tad`, startFile);
  const tadSyncDir = freshDir(`${sizeName}-tad-sync`, startFile);
  const confDir = freshDir(`${sizeName}-conf`, startFile);
  const slowBudget = huge ? 1200 : 1500;

  // -- open -----------------------------------------------------------------
  await settle();
  log(`${sizeName}: open`);
  const closeTimes = [];
  const tadOpen = await timeRounds(
    async () => {
      const t0 = now();
      const s = openTad(tadDir);
      const t1 = now();
      s.close();
      closeTimes.push(ns(t1, now()));
      return { open: ns(t0, t1) };
    },
    { budgetMs: slowBudget, minSamples: huge ? 8 : 10, maxSamples: 200, warm: 2 },
  );
  await settle();
  const confOpen = await timeRounds(
    async () => {
      const t0 = now();
      openConf(confDir);
      return { open: ns(t0, now()) };
    },
    { budgetMs: slowBudget, minSamples: huge ? 8 : 10, maxSamples: 200, warm: 2 },
  );
  row('open (new instance on existing file)', label, fmtStat(tadOpen.open), fmtStat(confOpen.open), ratio(confOpen.open.median, tadOpen.open.median));
  row('close, no changes (tad only)', label, fmtStat(summarize(closeTimes.slice(2))), '—', '—', 'conf has nothing to close');
  targets.open[sizeName] = { tad: tadOpen.open.median, conf: confOpen.open.median };

  const tad = openTad(tadDir, 'deferred');
  const conf = openConf(confDir);
  const tadFlush = () => tad.flush();

  // -- small get ------------------------------------------------------------
  await settle();
  log(`${sizeName}: small get`);
  let sink = 0;
  const tadGet = await timeOp(() => {
    if (tad.get(SMALL_KEY) === 'dark') sink++;
  }, { budgetMs: 1000, targetBatchMs: 1, maxSamples: 500 });
  await settle();
  const confGet = await timeOp(() => {
    if (conf.get(SMALL_KEY) === 'dark') sink++;
  }, { budgetMs: slowBudget, targetBatchMs: 1, maxSamples: 500, minSamples: huge ? 6 : 10, minWarm: huge ? 1 : 3 });
  if (tad.get(SMALL_KEY) !== 'dark' || conf.get(SMALL_KEY) !== 'dark') throw new Error('get returned the wrong value');
  row(`small get \`get('${SMALL_KEY}')\``, label, fmtStat(tadGet), fmtStat(confGet), ratio(confGet.median, tadGet.median));
  targets.get[sizeName] = tadGet.median;

  // -- set, deferred ----------------------------------------------------------
  await settle();
  log(`${sizeName}: set deferred`);
  const tadSet = await timeOp((i) => tad.set(SET_KEY, i), { budgetMs: 1500, targetBatchMs: 1, maxSamples: 300, after: tadFlush });
  await tad.flush();
  await settle();
  const confSet = await timeOp((i) => conf.set(SET_KEY, i), { budgetMs: slowBudget, batch: 1, maxSamples: 300, minSamples: huge ? 6 : 10, minWarm: huge ? 1 : 3 });
  row(`set deferred \`set('${SET_KEY}', i)\`, calling thread`, label, fmtStat(tadSet), fmtStat(confSet), ratio(confSet.median, tadSet.median), 'tad: durability deferred, flush() awaited untimed after each batch');
  targets.setDeferred[sizeName] = tadSet.median;

  // -- set, sync --------------------------------------------------------------
  await settle();
  log(`${sizeName}: set sync`);
  const tadSync = openTad(tadSyncDir, 'sync');
  // no flush between sync sets at any size: the writer checkpoints the file on its own
  // schedule, and a set that lands during a checkpoint waits for it (shows in p95)
  const tadSetSync = await timeOp((i) => tadSync.set(SET_KEY, i), { budgetMs: 1500, batch: 1, maxSamples: 1000, minSamples: 20, warmMs: 50 });
  await tadSync.flush();
  row('set sync (returns when durable)', label, fmtStat(tadSetSync), fmtStat(confSet), ratio(confSet.median, tadSetSync.median), `conf column = the set row above (conf has one mode); tad max ${fmtTime(tadSetSync.max)}`);
  targets.setSync[sizeName] = tadSetSync.median;

  // -- 100 sets in a row --------------------------------------------------------
  await settle();
  log(`${sizeName}: 100 sets`);
  let round = 0;
  const hundredTad = await timeRounds(async () => {
    const base = ++round * 1000;
    const t0 = now();
    for (let j = 0; j < 100; j++) tad.set(`settings.flags.f${j}`, base + j);
    const t1 = now();
    await tad.flush();
    const t2 = now();
    return { calling: ns(t0, t1), flushed: ns(t0, t2) };
  }, { budgetMs: 1500, minSamples: 5, maxSamples: 100 });
  await settle();
  const hundredTadSync = await timeRounds(async () => {
    const base = ++round * 1000;
    const t0 = now();
    for (let j = 0; j < 100; j++) tadSync.set(`settings.flags.f${j}`, base + j);
    const t1 = now();
    await tadSync.flush(); // untimed: every round starts with an idle writer
    return { calling: ns(t0, t1) };
  }, { budgetMs: 1500, minSamples: 3, maxSamples: 50 });
  tadSync.close();
  await settle();
  const hundredConf = await timeRounds(async () => {
    const base = ++round * 1000;
    const t0 = now();
    for (let j = 0; j < 100; j++) conf.set(`settings.flags.f${j}`, base + j);
    return { calling: ns(t0, now()) };
  }, { budgetMs: huge ? 0 : 1500, minSamples: huge ? 1 : 3, maxSamples: 50, warm: huge ? 0 : 1 }); // ~25 s per round at 10 MB
  const c100 = hundredConf.calling;
  const fmt100 = (s) => (s.n >= 5 ? fmtStat(s) : `${fmtStat(s, false)} (n=${s.n})`);
  row('100 sets (different keys), calling thread', label, fmt100(hundredTad.calling), fmt100(c100), ratio(c100.median, hundredTad.calling.median), 'tad deferred');
  row('100 sets, until `await flush()` resolves', label, fmt100(hundredTad.flushed), fmt100(c100), ratio(c100.median, hundredTad.flushed.median), 'tad: journal fsync + file checkpoint; conf: its sets already wrote the file');
  row('100 sets, tad durability sync', label, fmt100(hundredTadSync.calling), fmt100(c100), ratio(c100.median, hundredTadSync.calling.median), 'every tad set durable on return; flush() awaited untimed between rounds');

  // -- whole-store read ---------------------------------------------------------
  await settle();
  log(`${sizeName}: whole-store read`);
  const tadWhole = await timeOp(() => {
    sink += tad.store.settings ? 1 : 0;
  }, { budgetMs: slowBudget, targetBatchMs: 2, maxSamples: 300, minSamples: huge ? 6 : 10, minWarm: huge ? 1 : 3 });
  await settle();
  const confWhole = await timeOp(() => {
    sink += conf.store.settings ? 1 : 0;
  }, { budgetMs: slowBudget, targetBatchMs: 2, maxSamples: 300, minSamples: huge ? 6 : 10, minWarm: huge ? 1 : 3 });
  row('whole-store read `store.store`', label, fmtStat(tadWhole), fmtStat(confWhole), ratio(confWhole.median, tadWhole.median));
  targets.whole[sizeName] = { tad: tadWhole.median, conf: confWhole.median };

  await tad.flush();
  tad.close();
  if (sink < 0) console.log(sink);

  // -- peak memory ----------------------------------------------------------------
  if (!ARGS.noMemory) {
    await settle();
    log(`${sizeName}: peak memory (child processes)`);
    const runs = ARGS.quick || huge ? 1 : 3;
    const tadBase = baseline('tad');
    const confBase = baseline('conf');
    const tadPeak = peakMemory('tad', sizeName, startFile, runs);
    const confPeak = peakMemory('conf', sizeName, startFile, runs);
    row('peak memory: maxRSS', label, fmtKB(tadPeak), fmtKB(confPeak), ratio(confPeak, tadPeak), 'fresh child: open, 100 gets, 100 sets, 3 whole reads, flush/close');
    row('peak memory: maxRSS − baseline child', label, fmtKB(tadPeak - tadBase), fmtKB(confPeak - confBase), ratio(confPeak - confBase, tadPeak - tadBase), `baseline (require only): tad ${fmtKB(tadBase)}, conf ${fmtKB(confBase)}`);
    targets.mem[sizeName] = { tad: tadPeak, conf: confPeak, tadDelta: tadPeak - tadBase, confDelta: confPeak - confBase };
  }

  for (const d of [tadDir, tadSyncDir, confDir]) fs.rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Backups, restore, rollback, sets inside wide nodes (tad only, 1 MB and 10 MB)
// ---------------------------------------------------------------------------

/** Resolves to the backups once there are at least `n` (the backup at open runs on the thread pool). */
async function waitForBackups(store, n, timeoutMs = 30000) {
  const t0 = Date.now();
  for (;;) {
    const list = await store.listBackups();
    if (list.length >= n) return list;
    if (Date.now() - t0 > timeoutMs) throw new Error(`expected ${n} backup(s), found ${list.length}`);
    await sleep(10);
  }
}

/** The array and the object with the most children in `doc`, as dot paths (segments without dots only). */
function widestNodes(doc) {
  let arr = null;
  let obj = null;
  const walk = (v, segs) => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      if (!arr || v.length > arr.n) arr = { path: segs.join('.'), n: v.length, node: v };
      v.forEach((c, i) => walk(c, [...segs, String(i)]));
      return;
    }
    const keys = Object.keys(v);
    if (segs.length > 0 && (!obj || keys.length > obj.n)) obj = { path: segs.join('.'), n: keys.length, node: v };
    for (const k of keys) if (!k.includes('.')) walk(v[k], [...segs, k]);
  };
  walk(doc, []);
  return { arr, obj };
}

const mb = (b) => `${(b / 1048576).toFixed(1)} MB`;

/**
 * Awaits `fn()`; returns its elapsed time and the longest stretch during it in
 * which the JS thread could not run a 1 ms interval timer (ns; ~1 ms when it
 * never stalls): how long the event loop was blocked by the synchronous parts.
 */
async function timeWithStall(fn) {
  let last = now();
  let max = 0;
  const iv = setInterval(() => {
    const t = now();
    max = Math.max(max, ns(last, t));
    last = t;
  }, 1);
  const t0 = now();
  const result = await fn();
  const t1 = now();
  clearInterval(iv);
  max = Math.max(max, ns(last, t1));
  return { elapsed: ns(t0, t1), stall: max, result };
}
const stallNote = (st) => `JS thread stalled up to ${fmtTime(st.median)} per call (median; p95 ${fmtTime(st.p95)})`;
const times = (a, b) => `${(a / b).toFixed(2)}×`;

async function benchRecovery(sizeName, label, startFile, doc, targets) {
  const huge = SIZE_BYTES[sizeName] >= 10 * 1024 * 1024;
  const rec = {};
  targets.recovery[sizeName] = rec;

  // -- createBackup vs a plain copy of the same file -------------------------------
  await settle();
  log(`${sizeName}: createBackup vs file copy`);
  const bDir = freshDir(`${sizeName}-backup`, startFile);
  const refDir = path.join(TMP, `${sizeName}-copyref`);
  fs.mkdirSync(refDir, { recursive: true });
  // default backup options (maxBackups 10, a backup at open); the one at open is awaited,
  // then the directory is filled to 10 so every timed createBackup also prunes one
  const bStore = new Store({ cwd: bDir, name: 'config', durability: 'deferred' });
  const MAX_BACKUPS = 10;
  await waitForBackups(bStore, 1);
  while ((await bStore.listBackups()).length < MAX_BACKUPS) await bStore.createBackup('bench-fill');
  let copyN = 0;
  const freshCopyPath = () => {
    const dst = path.join(refDir, `copy-${copyN++ % 4}.json`);
    fs.rmSync(dst, { force: true }); // a new file every time, as a backup is
    return dst;
  };
  const srcBytes = fs.statSync(bStore.path).size;
  let orderN = 0;
  const backupStats = await timeRounds(async () => {
    const out = {};
    const steps = [
      async () => {
        const r = await timeWithStall(() => bStore.createBackup('bench'));
        out.backup = r.elapsed;
        out.backupStall = r.stall;
      },
      async () => {
        const dst = freshCopyPath();
        const t0 = now();
        fs.copyFileSync(bStore.path, dst);
        out.copy = ns(t0, now());
      },
      async () => {
        const dst = freshCopyPath();
        const t0 = now();
        fs.copyFileSync(bStore.path, dst);
        const fd = fs.openSync(dst, 'r+');
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        out.copyFsync = ns(t0, now());
      },
    ];
    const k = orderN++ % steps.length; // rotate the order: no step always runs right after another's fsync
    for (let i = 0; i < steps.length; i++) await steps[(k + i) % steps.length]();
    return out;
  }, huge ? { budgetMs: 2500, minSamples: 12, maxSamples: 40 } : { budgetMs: 1500, minSamples: 15, maxSamples: 60 });
  const kept = await bStore.listBackups();
  if (kept.length !== MAX_BACKUPS || kept.some((b) => !b.metadata || b.metadata.size !== srcBytes)) {
    throw new Error(`createBackup: expected ${MAX_BACKUPS} verified backups of ${srcBytes} bytes, found ${kept.length}`);
  }
  bStore.close();
  const { backup: bk, copy: cp, copyFsync: cpf } = backupStats;
  row('`createBackup()` (verified backup + prune)', label, fmtStat(bk), '—', '—', `tad only; default backup options, ${MAX_BACKUPS} kept before and after (each call prunes one); ${times(bk.median, cp.median)} the plain copy, ${times(bk.median, cpf.median)} copy + fsync; ${stallNote(backupStats.backupStall)}`);
  row('reference: `fs.copyFileSync` of the store file', label, fmtStat(cp), '—', '—', `same ${fmtBytes(srcBytes)} file, same run, interleaved with the createBackup calls (new destination file each time)`);
  row('reference: `fs.copyFileSync` + open + `fsyncSync`', label, fmtStat(cpf), '—', '—', 'as above, then the copy fsync\'d');
  rec.backup = { backup: bk.median, copy: cp.median, copyFsync: cpf.median };
  fs.rmSync(bDir, { recursive: true, force: true });
  fs.rmSync(refDir, { recursive: true, force: true });

  // -- restoreBackup, alternating between two different contents -------------------
  await settle();
  log(`${sizeName}: restoreBackup`);
  const rDir = freshDir(`${sizeName}-restore`, startFile);
  const rStore = new Store({ cwd: rDir, name: 'config', durability: 'deferred' }); // default backup options
  await waitForBackups(rStore, 1);
  rStore.set('settings.benchRestore', 'A');
  const fileA = await rStore.createBackup('bench-A');
  rStore.set({ 'settings.benchRestore': 'B', 'user.name': 'Grace Hopper', 'settings.fontSize': 15 });
  const fileB = await rStore.createBackup('bench-B');
  const listed = await rStore.listBackups();
  const hashOf = (p) => listed.find((b) => b.path === p).metadata.hash;
  const contents = [
    { mark: 'A', hash: hashOf(fileA) },
    { mark: 'B', hash: hashOf(fileB) },
  ];
  let turn = 0;
  let restores = 0;
  const restoreStats = await timeRounds(async () => {
    const want = contents[turn++ % 2];
    // a restore backs the current state up first, so with maxBackups 10 the two
    // backups made above are soon pruned: take the newest backup holding `want`
    const b = (await rStore.listBackups()).find((x) => x.metadata && x.metadata.hash === want.hash);
    if (!b) throw new Error(`restoreBackup: no backup with content ${want.mark} left`);
    const t0 = now();
    const r = await timeWithStall(() => rStore.restoreBackup(b.file));
    await rStore.flush();
    const t2 = now();
    if (rStore.get('settings.benchRestore') !== want.mark) throw new Error('restoreBackup did not change the store');
    restores++;
    return { restore: r.elapsed, stall: r.stall, flushed: ns(t0, t2) };
  }, huge ? { budgetMs: 3000, minSamples: 10, maxSamples: 30 } : { budgetMs: 1500, minSamples: 12, maxSamples: 40 });
  const rInfo = rStore.getStoreInfo();
  rStore.close();
  row('`restoreBackup(file)`, resolves', label, fmtStat(restoreStats.restore), '—', '—', `tad only; alternating between two backups with different content; includes the automatic "before-restore" backup; ${stallNote(restoreStats.stall)}`);
  row('`restoreBackup(file)`, until `await flush()` resolves', label, fmtStat(restoreStats.flushed), '—', '—', `journal ${mb(rInfo.journalBytes)} after ${restores + 1} restores (${rInfo.journalBytes > 4 * srcBytes ? 'whole-document changes are kept in the journal' : 'trimmed'})`);
  rec.restore = { restore: restoreStats.restore.median, flushed: restoreStats.flushed.median, journalBytes: rInfo.journalBytes, restores: restores + 1 };
  fs.rmSync(rDir, { recursive: true, force: true });

  // -- rollback of 100 changes ---------------------------------------------------------
  await settle();
  log(`${sizeName}: rollbackToSeq (100 changes)`);
  const hDir = freshDir(`${sizeName}-rollback`, startFile);
  const hStore = openTad(hDir);
  let rbRound = 0;
  // 100 sets of small keys under `parent`, flushed; then the timed rollback
  const rollback100 = async (parent, base) => {
    const seqBefore = hStore.getStoreInfo().seq;
    for (let j = 0; j < 100; j++) hStore.set(`${parent}.rollback${j}`, base + j);
    await hStore.flush();
    const t0 = now();
    const r = await timeWithStall(() => hStore.rollbackToSeq(seqBefore));
    await hStore.flush();
    const t2 = now();
    if (r.result.changesReverted !== 100 || hStore.has(`${parent}.rollback0`)) throw new Error(`rollbackToSeq did not revert the 100 sets: ${JSON.stringify(r.result)}`);
    return { rollback: r.elapsed, stall: r.stall, flushed: ns(t0, t2) };
  };
  const rbStats = await timeRounds(async () => {
    const base = ++rbRound * 1000;
    const { rollback, stall, flushed } = await rollback100('settings', base);
    const small = await rollback100('user', base);
    // one document write at this size: a single set, then flush (journal fsync + document checkpoint)
    hStore.set(SET_KEY, counter++);
    const t3 = now();
    await hStore.flush();
    const t4 = now();
    return { rollback, stall, flushed, write: ns(t3, t4), checkpoint: hStore.getHealthReport().lastCheckpointMs * 1e6, small: small.rollback, smallStall: small.stall };
  }, huge ? { budgetMs: 2500, minSamples: 10, maxSamples: 30 } : { budgetMs: 1500, minSamples: 12, maxSamples: 40 });
  hStore.close();
  fs.rmSync(hDir, { recursive: true, force: true });
  const topKB = (k) => fmtBytes(JSON.stringify(doc[k]).length);
  row('`rollbackToSeq()` over 100 sets (small keys under `settings`), resolves', label, fmtStat(rbStats.rollback), '—', '—', `tad only; automatic backups off; the 100 sets flushed (untimed) first; \`settings\` is ${topKB('settings')} of compact JSON; ${stallNote(rbStats.stall)}`);
  row('rollback of 100, until `await flush()` resolves', label, fmtStat(rbStats.flushed), '—', '—', 'the rollback change made durable and written to the store file');
  row('`rollbackToSeq()` over 100 sets under `user` (a small top-level key), resolves', label, fmtStat(rbStats.small), '—', '—', `\`user\` is ${topKB('user')}; same store and rounds; ${stallNote(rbStats.smallStall)}`);
  row('one document write: `set` + `await flush()`', label, fmtStat(rbStats.write), '—', '—', `getHealthReport().lastCheckpointMs: ${fmtStat(rbStats.checkpoint)}`);
  rec.rollback = { rollback: rbStats.rollback.median, flushed: rbStats.flushed.median, write: rbStats.write.median, checkpoint: rbStats.checkpoint.median, small: rbStats.small.median };

  // -- sets inside wide nodes: calling thread and writer throughput ------------------
  await settle();
  log(`${sizeName}: sets inside wide nodes`);
  const wDir = freshDir(`${sizeName}-wide`, startFile);
  const wStore = openTad(wDir);
  const { arr, obj } = widestNodes(doc);
  const mid = Math.floor(arr.n / 2);
  const el = arr.node[mid];
  const strKey = el && typeof el === 'object' && !Array.isArray(el) ? Object.keys(el).find((k) => typeof el[k] === 'string' && !k.includes('.')) : undefined;
  const arrKey = strKey ? `${arr.path}.${mid}.${strKey}` : `${arr.path}.${mid}`;
  const objKey = `${obj.path}.benchWide`;
  const cases = [
    { what: `key inside a ${arr.n}-element array \`set('${arrKey}', s)\``, key: arrKey, id: 'array' },
    { what: `key inside a ${obj.n}-key object \`set('${objKey}', s)\``, key: objKey, id: 'object' },
    { what: `reference: \`set('${SET_KEY}', s)\``, key: SET_KEY, id: 'narrow' },
  ];
  rec.wide = {};
  for (const c of cases) {
    await settle();
    const calling = await timeOp((i) => wStore.set(c.key, `x${i}`), { budgetMs: 1000, targetBatchMs: 1, maxSamples: 300, after: () => wStore.flush() });
    await wStore.flush();
    await settle();
    const thousand = await timeRounds(async () => {
      const t0 = now();
      for (let j = 0; j < 1000; j++) wStore.set(c.key, `x${counter++}`);
      const t1 = now();
      await wStore.flush();
      return { calling: ns(t0, t1), flushed: ns(t0, now()) };
    }, huge ? { budgetMs: 2000, minSamples: 3, maxSamples: 20 } : { budgetMs: 1500, minSamples: 5, maxSamples: 30 }); // the wide object costs seconds per round at 10 MB
    if (wStore.get(c.key) !== `x${counter - 1}`) throw new Error(`set ${c.key} lost a value`);
    const f = thousand.flushed;
    const fmtN = (st) => (st.n >= 5 ? fmtStat(st) : `${fmtStat(st, false)} (n=${st.n})`);
    row(`set deferred, ${c.what}, calling thread`, label, fmtStat(calling), '—', '—', 'tad only, history on (always); flush() awaited untimed after each batch');
    row(`1000 such sets, until \`await flush()\` resolves`, label, fmtN(f), '—', '—', `writer throughput ≈ ${Math.round(1000 / (f.median / 1e9))} sets/s (${fmtTime(f.median / 1000)} per set, Merkle hashing + journal on the writer thread); calling thread ${fmtStat(thousand.calling, false)} for the 1000`);
    rec.wide[c.id] = { what: c.what, calling: calling.median, callingP95: calling.p95, thousand: f.median };
  }
  wStore.close();
  fs.rmSync(wDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Several processes on one store (the shared log)
// ---------------------------------------------------------------------------

/** Runs `n` writer processes of `lib` at once, each setting `count` distinct keys. */
function writers(lib, dir, n, count, durability = 'deferred', historyMax = 100, base = 0) {
  const mod = lib === 'tad' ? TAD_MODULE : CONF_MODULE;
  const script = lib === 'tad'
    ? `const Store = require(${JSON.stringify(mod)}); const s = new Store({ cwd: process.argv[1], durability: ${JSON.stringify(durability)}, backups: false, history: { maxEntries: ${historyMax} } });
       const go = () => { for (let i = 0; i < ${count}; i++) s.set('w' + process.argv[2] + '.k' + i, i + Number(process.argv[3])); s.close(); process.exit(0); };`
    : `const Conf = require(${JSON.stringify(mod)}); const s = new Conf({ cwd: process.argv[1], configName: 'config' });
       const go = () => { for (let i = 0; i < ${count}; i++) s.set('w' + process.argv[2] + '.k' + i, i + Number(process.argv[3])); process.exit(0); };`;
  const wrapped = `${script} process.stdout.write('ready\\n'); process.stdin.once('data', go);`;
  const { spawn } = require('node:child_process');
  const kids = [];
  for (let id = 0; id < n; id++) kids.push(spawn(process.execPath, ['-e', wrapped, dir, String(id), String(base)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  return Promise.all(kids.map((k) => new Promise((r) => k.stdout.once('data', r)))).then(() => {
    const t0 = now();
    for (const k of kids) k.stdin.end('go\n');
    return Promise.all(kids.map((k) => new Promise((r) => k.once('exit', r)))).then(() => ns(t0, now()));
  });
}

function keptWrites(dir, n) {
  const data = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  let kept = 0;
  for (let id = 0; id < n; id++) kept += Object.keys(data[`w${id}`] || {}).length;
  return kept;
}

async function benchShared(targets) {
  log('shared log: lock cost, catch-up, several processes');
  const dir = path.join(TMP, 'shared');
  fs.mkdirSync(dir, { recursive: true });
  // the lock's cost: a deferred set never takes it on the calling thread; a sync
  // set takes it once per write (with the catch-up check) — alone, and while
  // another process writes the same store
  const alone = openTad(dir, 'sync');
  alone.set('settings', { fontSize: 0 });
  const syncAlone = await timeOp(() => alone.set(SET_KEY, counter++), { budgetMs: 1500 * Q, batch: 1, maxSamples: 200 });
  const deferred = openTad(path.join(TMP, 'shared-deferred'));
  deferred.set('settings', { fontSize: 0 });
  const setDeferred = await timeOp(() => deferred.set(SET_KEY, counter++), { budgetMs: 1500 * Q, after: () => deferred.flushSync() });
  deferred.close();
  const busy = writers('tad', dir, 1, 5000, 'sync');
  const syncBusy = await timeOp(() => alone.set(SET_KEY, counter++), { budgetMs: 1000 * Q, batch: 1, maxSamples: 100 });
  await busy;
  row('set deferred, calling thread (shared-log build)', '1 KB', fmtStat(setDeferred), '—', '—', 'the calling thread takes no lock; the writer takes the OS lock once per group commit');
  row('set sync, alone (OS lock + catch-up check + append + fdatasync)', '1 KB', fmtStat(syncAlone), '—', '—', `target: ≤ 2× fsync'd append`);
  row('set sync while another process makes sync sets on the same store', '1 KB', fmtStat(syncBusy), '—', '—', 'each write waits for the lock and first applies the other process\'s changes');
  targets.shared = { syncAlone: syncAlone.median, setDeferred: setDeferred.median };
  // catching up with 1,000 changes another process made
  alone.close();
  const timeCatchUp = async (historyMax) => {
    const cDir = path.join(TMP, `catchup-${historyMax}`);
    fs.mkdirSync(cDir);
    const me = new Store({ cwd: cDir, durability: 'sync', backups: NO_AUTO_BACKUPS, history: { maxEntries: historyMax } });
    me.set('mine', 1);
    const out = [];
    for (let round = 0; round < Math.max(3, Math.round(8 * Q)); round++) {
      await writers('tad', cDir, 1, 1000, 'deferred', historyMax, round * 1000);
      const t0 = now();
      me.reload();
      out.push(ns(t0, now()));
    }
    if (Object.keys(me.get('w0') || {}).length !== 1000) throw new Error('catch-up missed changes');
    me.close();
    return summarize(out);
  };
  const replay = await timeCatchUp(100000);
  const reload = await timeCatchUp(100);
  row('catch up with 1,000 changes another process made, from the journal (`reload()`)', '1 KB', fmtStat(replay), '—', '—', 'read the journal tail, check each entry\'s hashBefore/hashAfter, apply, rebase, change list (the next write does the same on the writer thread)');
  row('same, the other process trimmed them away (history.maxEntries 100)', '1 KB', fmtStat(reload), '—', '—', 'the journal was replaced: reload from the document file its checkpoint names');
  targets.shared.catchUp = replay.median;
  // several processes × 1,000 writes: time and lost updates
  for (const n of [2, 4]) {
    const tDir = path.join(TMP, `shared-${n}-tad`);
    const cDir = path.join(TMP, `shared-${n}-conf`);
    fs.mkdirSync(tDir);
    fs.mkdirSync(cDir);
    const tTime = await writers('tad', tDir, n, 1000);
    const cTime = await writers('conf', cDir, n, 1000);
    const tKept = keptWrites(tDir, n);
    const cKept = keptWrites(cDir, n);
    row(`${n} processes × 1,000 sets to distinct keys: updates kept`, '—', `${tKept} of ${n * 1000}`, `${cKept} of ${n * 1000}`, '—', 'final file; tad deferred, each process closes (flushes) at the end');
    row(`${n} processes × 1,000 sets: wall time until all exit`, '—', fmtTime(tTime), fmtTime(cTime), ratio(cTime, tTime), 'conf rewrites the whole file on every set');
    targets.shared[`lost${n}`] = n * 1000 - tKept;
  }
}

// ---------------------------------------------------------------------------
// Watching (watch: true)
// ---------------------------------------------------------------------------

async function benchWatch(targets) {
  log('watching: latency, get/set cost');
  const dir = path.join(TMP, 'watch');
  fs.mkdirSync(dir, { recursive: true });
  const s = new Store({ cwd: dir, watch: true, backups: NO_AUTO_BACKUPS });
  // the watcher never keeps the process alive by itself (as in an app, where
  // Electron's loop does): the bench keeps it alive while it waits for events
  const keepAlive = setInterval(() => {}, 1000);
  s.set('settings', { fontSize: 0, theme: 'dark' });
  await s.flush();
  // external editor save (temp file + rename over) -> change event
  let waiting = null;
  s.onDidChange('ext', (n) => { if (waiting && n === waiting.value) waiting.resolve(); });
  const editorLat = [];
  const rounds = Math.max(20, Math.round(60 * Q));
  for (let i = 0; i < rounds; i++) {
    const data = { ...JSON.parse(fs.readFileSync(s.path, 'utf8')), ext: i };
    const tmp = path.join(dir, `.config.json.swp${i}`);
    fs.writeFileSync(tmp, JSON.stringify(data, null, 2));
    const p = new Promise((resolve) => { waiting = { value: i, resolve }; });
    const t0 = now();
    fs.renameSync(tmp, s.path);
    await p;
    editorLat.push(ns(t0, now()));
    await new Promise((r) => setTimeout(r, 5));
  }
  // another process's set -> change event here
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, ['-e', `
    const Store = require(${JSON.stringify(TAD_MODULE)});
    const s = new Store({ cwd: ${JSON.stringify(dir)}, backups: false });
    process.stdin.on('data', d => { for (const l of String(d).split('\\n').filter(Boolean)) { s.set('remote', Number(l)); } });
    process.stdin.on('end', () => s.close());
    process.stdout.write('ready\\n');`], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  s.onDidChange('remote', (n) => { if (waiting && n === waiting.value) waiting.resolve(); });
  const remoteLat = [];
  for (let i = 0; i < rounds; i++) {
    const p = new Promise((resolve) => { waiting = { value: i, resolve }; });
    const t0 = now();
    child.stdin.write(`${i}\n`);
    await p;
    remoteLat.push(ns(t0, now()));
    await new Promise((r) => setTimeout(r, 5));
  }
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  const e = summarize(editorLat);
  const r = summarize(remoteLat);
  const get = await timeOp(() => s.get(SET_KEY), { budgetMs: 800 });
  const set = await timeOp(() => s.set(SET_KEY, counter++), { budgetMs: 1000, after: () => s.flushSync() });
  s.close();
  clearInterval(keepAlive);
  row('watch: editor save (temp + rename over) → change event', '1 KB', fmtStat(e), 'up to ~10 s', '—', 'conf@10 on Linux: fs.watchFile polling + 5 s debounce');
  row("watch: another process's `set` → change event here", '1 KB', fmtStat(r), 'up to ~10 s (once that process has rewritten the file)', '—', 'journal append seen by inotify, caught up on the watcher thread');
  row('small `get` with watching on', '1 KB', fmtStat(get), '—', '—', 'target ≤ 1 µs');
  row('set deferred with watching on (calling thread)', '1 KB', fmtStat(set), '—', '—', 'target ≤ 5 µs');
  targets.watch = { editor: e, remote: r, get: get.median, set: set.median };
}

// ---------------------------------------------------------------------------
// Secrets at rest: secretKeys, encryptionKey (vs conf@10 with encryptionKey)
// ---------------------------------------------------------------------------

async function benchSecrets(targets) {
  log('secrets: get / set of an encrypted value');
  const settings = { theme: 'dark', fontSize: 14, recent: Array.from({ length: 20 }, (_, i) => `/home/u/p${i}`) };
  const mk = (name) => {
    const dir = path.join(TMP, `secrets-${name}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  const secret = new Store({ cwd: mk('tad-secret'), secretKeys: ['ai.apiKey'], secretKey: require('node:crypto').randomBytes(32), backups: NO_AUTO_BACKUPS });
  const legacy = new Store({ cwd: mk('tad-legacy'), encryptionKey: 'bench-password', backups: NO_AUTO_BACKUPS });
  const conf = new Conf({ cwd: mk('conf'), encryptionKey: 'bench-password' });
  for (const s of [secret, legacy, conf]) { s.set('settings', settings); s.set('ai', { apiKey: 'sk-0', model: 'x' }); }
  await secret.flush();
  await legacy.flush();
  let sink = 0;
  const get = async (s, budget) => timeOp(() => { if (s.get('ai.apiKey')) sink++; }, { budgetMs: budget, targetBatchMs: 1, maxSamples: 300 });
  await settle();
  const sg = await get(secret, 1000);
  const lg = await get(legacy, 1000);
  await settle();
  const cg = await timeOp(() => { if (conf.get('ai.apiKey')) sink++; }, { budgetMs: 1500, batch: 1, maxSamples: 100, minSamples: 5 });
  await settle();
  const ss = await timeOp((i) => secret.set('ai.apiKey', `sk-${i}`), { budgetMs: 1500, targetBatchMs: 1, maxSamples: 300, after: () => secret.flush() });
  const ls = await timeOp((i) => legacy.set('ai.apiKey', `sk-${i}`), { budgetMs: 1500, targetBatchMs: 1, maxSamples: 300, after: () => legacy.flush() });
  await settle();
  const cs = await timeOp((i) => conf.set('ai.apiKey', `sk-${i}`), { budgetMs: 1500, batch: 1, maxSamples: 100, minSamples: 5 });
  const t0 = now();
  secret.set('ai.apiKey', 'sk-flush');
  await secret.flush();
  const sf = ns(t0, now());
  const t1 = now();
  legacy.set('ai.apiKey', 'sk-flush');
  await legacy.flush();
  const lf = ns(t1, now());
  const t2 = now();
  const rot = secret.rotateSecretKey(require('node:crypto').randomBytes(32));
  const rotNs = ns(t2, now());
  row('get of a secret `get(\'ai.apiKey\')` (secretKeys)', '2 KB', fmtStat(sg), fmtStat(cg), ratio(cg.median, sg.median), 'conf column: conf@10 with encryptionKey (decrypts the file on every get)');
  row('get, encryptionKey store', '2 KB', fmtStat(lg), fmtStat(cg), ratio(cg.median, lg.median), 'both electron-store 8 format');
  row('set deferred of a secret, calling thread (secretKeys)', '2 KB', fmtStat(ss), fmtStat(cs), ratio(cs.median, ss.median), 'sealing happens on the writer thread; conf column: conf@10 with encryptionKey');
  row('set deferred, encryptionKey store, calling thread', '2 KB', fmtStat(ls), fmtStat(cs), ratio(cs.median, ls.median), '');
  row('one secret set until `await flush()` (secretKeys / encryptionKey)', '2 KB', `${fmtTime(sf)} / ${fmtTime(lf)}`, '—', '—', 'journal line sealed (AES-GCM) + document written; encryptionKey adds a PBKDF2 (10,000 × SHA-512) per document write, as electron-store 8');
  row('`rotateSecretKey()` (journal, document, backups)', '2 KB', fmtTime(rotNs), '—', '—', `${rot.journalEntries} journal entries re-encrypted`);
  targets.secrets = { get: sg.median, set: ss.median };
  secret.close();
  legacy.close();
  if (sink < 0) console.log(sink);
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

function targetChecks(t, ref) {
  const out = [];
  const check = (ok, text) => out.push(`- ${ok ? 'PASS' : 'FAIL'}: ${text}`);
  for (const [s, v] of Object.entries(t.get)) check(v <= 1000, `small get ≤ 1 µs at ${s}: ${fmtTime(v)}`);
  for (const [s, v] of Object.entries(t.setDeferred)) check(v <= 5000, `deferred set ≤ 5 µs (calling thread) at ${s}: ${fmtTime(v)}`);
  if (t.secrets) {
    check(t.secrets.get <= 2000, `get of a secret ≤ 2 µs: ${fmtTime(t.secrets.get)}`);
    check(t.secrets.set <= 10000, `deferred set of a secret ≤ 10 µs (calling thread): ${fmtTime(t.secrets.set)}`);
  }
  for (const [s, v] of Object.entries(t.setSync)) check(v <= 2 * ref.fsync.median, `sync set ≤ 2× fsync'd append (${fmtTime(2 * ref.fsync.median)}) at ${s}: ${fmtTime(v)}`);
  if (t.open['10mb']) check(t.open['10mb'].tad <= t.open['10mb'].conf, `open at 10 MB ≤ conf's: tad ${fmtTime(t.open['10mb'].tad)} vs conf ${fmtTime(t.open['10mb'].conf)}`);
  for (const s of ['1mb', '10mb']) {
    if (t.whole[s]) check(t.whole[s].tad <= 1.2 * t.whole[s].conf, `whole-store read at ${s} ≤ 1.2× conf: tad ${fmtTime(t.whole[s].tad)} vs conf ${fmtTime(t.whole[s].conf)} (${(t.whole[s].tad / t.whole[s].conf).toFixed(2)}×)`);
  }
  if (t.mem['10mb']) {
    const m = t.mem['10mb'];
    check(m.tad <= m.conf, `peak memory at 10 MB ≤ conf's: maxRSS tad ${fmtKB(m.tad)} vs conf ${fmtKB(m.conf)} (delta over baseline: tad ${fmtKB(m.tadDelta)} vs conf ${fmtKB(m.confDelta)})`);
  }
  if (t.watch) {
    const w = t.watch;
    check(w.editor.median <= 50e6 && w.editor.p95 <= 150e6, `watch latency (editor save) median ≤ 50 ms, p95 ≤ 150 ms: ${fmtTime(w.editor.median)} / ${fmtTime(w.editor.p95)}`);
    check(w.remote.median <= 50e6 && w.remote.p95 <= 150e6, `watch latency (another process's set) median ≤ 50 ms, p95 ≤ 150 ms: ${fmtTime(w.remote.median)} / ${fmtTime(w.remote.p95)}`);
    check(w.get <= 1000, `get with watching on ≤ 1 µs: ${fmtTime(w.get)}`);
    check(w.set <= 5000, `deferred set with watching on ≤ 5 µs: ${fmtTime(w.set)}`);
  }
  if (t.shared) {
    check(t.shared.syncAlone <= 2 * ref.fsync.median, `sync set with the OS lock ≤ 2× fsync'd append (${fmtTime(2 * ref.fsync.median)}): ${fmtTime(t.shared.syncAlone)}`);
    check(t.shared.setDeferred <= 5000, `deferred set with the shared log ≤ 5 µs: ${fmtTime(t.shared.setDeferred)}`);
    for (const n of [2, 4]) if (t.shared[`lost${n}`] !== undefined) check(t.shared[`lost${n}`] === 0, `0 updates lost with ${n} processes × 1,000 writes: ${t.shared[`lost${n}`]} lost`);
  }
  const r10 = t.recovery['10mb'];
  if (r10) {
    const b = r10.backup;
    check(b.backup <= 2 * b.copy, `createBackup at 10 MB ≤ 2× a plain file copy (${fmtTime(2 * b.copy)}): ${fmtTime(b.backup)} = ${times(b.backup, b.copy)} \`fs.copyFileSync\` ${fmtTime(b.copy)}, ${times(b.backup, b.copyFsync)} copy + fsync ${fmtTime(b.copyFsync)}`);
    check(b.backup <= 2 * b.copyFsync, `same target against copy + fsync (like for like: a backup is fsync'd) (${fmtTime(2 * b.copyFsync)}): ${fmtTime(b.backup)} = ${times(b.backup, b.copyFsync)}`);
    const r = r10.rollback;
    check(r.rollback <= 50e6 + r.write, `rollback of 100 changes at 10 MB ≤ 50 ms + one document write (${fmtTime(r.write)} → ${fmtTime(50e6 + r.write)}): ${fmtTime(r.rollback)}`);
    check(r.flushed <= 50e6 + r.write, `same, end to end (rollback until \`await flush()\` resolves, i.e. including its own document write): ${fmtTime(r.flushed)}`);
  }
  for (const [s, r] of Object.entries(t.recovery)) {
    if (!r.wide) continue;
    const n = r.wide.narrow;
    for (const id of ['array', 'object']) {
      const w = r.wide[id];
      out.push(`- INFO (no target): at ${s}, set deferred ${w.what}: calling thread ${fmtTime(w.calling)} (p95 ${fmtTime(w.callingP95)}) vs ${fmtTime(n.calling)} for \`${SET_KEY}\`; writer ${fmtTime(w.thousand)} per 1000 sets (${fmtTime(w.thousand / 1000)} each) vs ${fmtTime(n.thousand)}`);
    }
    if (r.restore) out.push(`- INFO (no target): at ${s}, the journal held ${mb(r.restore.journalBytes)} after ${r.restore.restores} restores of a ${mb(t.docs.find((d) => d.sizeName === s).fileSize)} store`);
  }
  return out;
}

async function main() {
  const started = Date.now();
  const build = buildInfo();
  const loadStart = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`temp dir ${TMP}; sizes ${ARGS.sizes.join(',')}${ARGS.quick ? ' (quick)' : ''}${global.gc ? '' : ' (no --expose-gc: gc between phases skipped)'}`);
  const targets = { docs: [], open: {}, get: {}, setDeferred: {}, setSync: {}, whole: {}, mem: {}, recovery: {} };

  log('reference: fsync\'d 200-byte append');
  const ref = await fsyncReference();

  for (const s of ARGS.sizes) await benchSize(s, targets);
  if (!ARGS.onlyRecovery) await benchShared(targets);
  if (!ARGS.onlyRecovery) await benchWatch(targets);
  if (!ARGS.onlyRecovery) await benchSecrets(targets);

  row('reference: 200-byte append + fsync (same temp dir)', '—', fmtStat(ref.fsync), '—', '—', 'target: tad sync set ≤ 2× this median');
  row('reference: 200-byte append + fdatasync', '—', fmtStat(ref.fdatasync), '—', '—', 'what tad\'s journal uses (sync_data)');

  // -- report -----------------------------------------------------------------------
  const lines = [];
  lines.push('# tad-store vs conf@10.2.0 (electron-store 8) benchmark');
  lines.push('');
  const cpu = os.cpus();
  lines.push(`- ${new Date().toISOString()}, node ${process.version}, ${os.platform()} ${os.release()}, ${cpu.length}× ${cpu[0] ? cpu[0].model.trim() : '?'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, temp dir on ${os.tmpdir()}${ARGS.quick ? ', **--quick**' : ''}`);
  lines.push(`- ${build}; load average at start ${loadStart}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine makes fsync-bound rows noisy)`);
  lines.push(`- documents (tab-indented JSON, deterministic seeded generator; both libraries start from the same bytes): ${targets.docs.map((d) => `${d.sizeName} = ${fmtBytes(d.fileSize)}`).join(', ')}`);
  lines.push('- times are medians, with p95 in parentheses; per-op rows of fast ops time batches of N ops, so their p95 is over batch means; ratio = conf / tad (>1: tad-store faster or smaller)');
  lines.push('- conf\'s `set` is synchronous: it re-reads and re-parses the file, then writes it with atomically 1.7 (temp file, **fsync of the temp file**, rename, no directory fsync). conf\'s `get` and `store` also re-read and re-parse the whole file on every call.');
  lines.push('- tad deferred: `set` returns after the in-memory change is queued; the writer thread fsyncs the journal and checkpoints the file in the background. tad sync: `set` returns after the journal fdatasync.');
  lines.push('- tad stores run with automatic backups off (`backups: { onStart: false, interval: 0 }`, also in the memory children), except the createBackup/restoreBackup rows, which use the default backup options (maxBackups 10; the backup at open is awaited before timing). Those rows and the rollback / wide-node rows are tad-only (conf has no backups or history); their references are a copy of the same store file and tad\'s own document write, measured in the same run.');
  lines.push(`- load average (1 min) when each size started: ${targets.docs.map((d) => `${d.sizeName} ${d.load.toFixed(2)}`).join(', ')}`);
  lines.push('');
  lines.push('| metric | size | tad-store | conf@10 | conf/tad | notes |');
  lines.push('|---|---|---|---|---|---|');
  for (const r of rows) lines.push(`| ${r.metric} | ${r.size} | ${r.tad} | ${r.conf} | ${r.ratio} | ${r.note} |`);
  lines.push('');
  lines.push('## Targets');
  lines.push('');
  lines.push(...targetChecks(targets, ref));
  lines.push('');
  lines.push(`Total run time ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  const md = `${lines.join('\n')}\n`;
  process.stdout.write(md);
  fs.writeFileSync(path.join(__dirname, 'results.md'), md);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(cleanup);
