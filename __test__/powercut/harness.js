'use strict';

/**
 * The power-cut harness: builds the FUSE recorder, records a workload through
 * it, builds the crash states each persistence model allows at each cut
 * point (model.js), writes each distinct state into a fresh directory, opens
 * it in child processes with the real addon (open-child.js) and checks what
 * it holds against what the workload had done and had acknowledged.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { isDeepStrictEqual } = require('node:util');

const { parseTrace, Recording, treeHash, rng, sample } = require('./model.js');

const HERE = __dirname;
const RECORDER_SRC = path.join(HERE, 'recorder.c');
const WORKLOAD_CHILD = path.join(HERE, 'workload-child.js');
const OPEN_CHILD = path.join(HERE, 'open-child.js');

/** Where states are written: a RAM disk when there is one (thousands of small files). */
const SCRATCH = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

/** Error codes a store may open with for a state no acknowledged change is in. */
const UNRECOVERABLE_CODES = new Set(['E_CORRUPT']);

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Whether the recorder can run here: `{ ok: true }` or `{ ok: false, reason }`
 * (Linux, /dev/fuse, a C compiler, libfuse3's headers, and a way to mount:
 * root or fusermount3).
 */
function availability() {
  if (process.platform !== 'linux') return { ok: false, reason: `FUSE recording runs on Linux only (this is ${process.platform})` };
  if (!fs.existsSync('/dev/fuse')) return { ok: false, reason: '/dev/fuse does not exist (a container without FUSE?)' };
  try {
    fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return { ok: false, reason: '/dev/fuse is not readable and writable by this user' };
  }
  if (!which('cc')) return { ok: false, reason: 'no C compiler (cc) to build the FUSE recorder' };
  if (!which('pkg-config') || spawnSync('pkg-config', ['--exists', 'fuse3']).status !== 0) {
    return { ok: false, reason: "libfuse3's headers are missing: apt-get install -y fuse3 libfuse3-dev" };
  }
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root && !which('fusermount3')) return { ok: false, reason: 'not root and no fusermount3 (apt-get install -y fuse3)' };
  return { ok: true };
}

/** Compiles recorder.c (cached by its source's hash). Returns the binary's path. */
function buildRecorder() {
  const src = fs.readFileSync(RECORDER_SRC);
  const hash = crypto.createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `tad-powercut-recorder-${hash}`);
  const bin = path.join(dir, 'recorder');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const flags = spawnSync('pkg-config', ['--cflags', '--libs', 'fuse3'], { encoding: 'utf8' });
  if (flags.status !== 0) throw new Error(`pkg-config fuse3 failed: ${flags.stderr}`);
  const tmp = `${bin}.${process.pid}`;
  const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, RECORDER_SRC, ...flags.stdout.trim().split(/\s+/)], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`compiling the FUSE recorder failed:\n${cc.stderr}`);
  fs.renameSync(tmp, bin);
  return bin;
}

/** Waits for a child's exit; rejects after `ms` (and kills it). */
function exited(child, ms, what) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${ms / 1000} s`));
    }, ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function collect(stream) {
  const chunks = [];
  stream.on('data', c => chunks.push(c));
  return () => Buffer.concat(chunks).toString('utf8');
}

function unmount(mnt) {
  for (const args of [['fusermount3', ['-u', mnt]], ['umount', [mnt]]]) {
    if (which(args[0]) && spawnSync(args[0], args[1]).status === 0) return true;
  }
  return false;
}

/**
 * Mounts the recorder on a fresh, empty directory, runs the workload child
 * on it, unmounts. Returns { ops, out, base, recordMs }.
 */
async function record(recorder, workload) {
  const started = Date.now();
  const base = fs.mkdtempSync(path.join(SCRATCH, `tad-powercut-${workload}-`));
  const backing = path.join(base, 'backing');
  const mnt = path.join(base, 'mnt');
  const log = path.join(base, 'trace.jsonl');
  const outFile = path.join(base, 'workload.json');
  fs.mkdirSync(backing);
  fs.mkdirSync(mnt);
  const daemon = spawn(recorder, [backing, mnt, log, '-f', '-s', '-o', 'fsname=tad-powercut'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const daemonErr = collect(daemon.stderr);
  let mounted = false;
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the FUSE recorder did not mount within 30 s: ${daemonErr()}`)), 30_000);
      let text = '';
      daemon.stdout.on('data', c => {
        text += c;
        if (text.includes('ready\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      daemon.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the FUSE recorder exited (${code ?? signal}) before mounting: ${daemonErr()}`));
      });
    });
    mounted = true;
    const child = spawn(process.execPath, [WORKLOAD_CHILD, mnt, workload, outFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const childErr = collect(child.stderr);
    const childOut = collect(child.stdout);
    const { code, signal } = await exited(child, 180_000, `workload ${workload}`);
    if (code !== 0) throw new Error(`workload ${workload} failed (${code ?? signal}):\n${childErr()}${childOut()}`);
  } finally {
    if (mounted && !unmount(mnt)) spawnSync('umount', ['-l', mnt]);
    if (daemon.exitCode === null && daemon.signalCode === null) {
      try {
        await exited(daemon, 30_000, 'the FUSE recorder');
      } catch (e) {
        spawnSync('umount', ['-l', mnt]);
        throw e;
      }
    }
  }
  if (daemon.exitCode !== 0) throw new Error(`the FUSE recorder exited with ${daemon.exitCode ?? daemon.signalCode}: ${daemonErr()}`);
  const ops = parseTrace(fs.readFileSync(log, 'utf8'));
  const out = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  fs.rmSync(backing, { recursive: true, force: true });
  return { ops, out, base, recordMs: Date.now() - started };
}

/** What the marks before a cut require. */
function requirements(marks) {
  const req = { maxBegun: 0, minAcked: 0, backups: [], migrated: false, rotated: false, damaged: false, anyAck: false };
  for (const m of marks) {
    let x;
    if ((x = /^b(\d+)$/.exec(m))) req.maxBegun = Math.max(req.maxBegun, Number(x[1]));
    else if ((x = /^a(\d+)$/.exec(m))) req.minAcked = Math.max(req.minAcked, Number(x[1]));
    else if ((x = /^bk(\d+)$/.exec(m))) req.backups.push(Number(x[1]));
    else if (m === 'mig') req.migrated = true;
    else if (m === 'rot') req.rotated = true;
    else if (m === 'damaged') req.damaged = true;
  }
  req.anyAck = req.minAcked > 0 || req.backups.length > 0 || req.migrated || req.rotated || req.damaged;
  return req;
}

/** Cut points to check: all when at most `max`, else every one next to a mark plus a seeded sample. */
function cutPoints(recording, max, random) {
  const n = recording.length;
  const all = [];
  for (let c = 0; c <= n; c++) all.push(c);
  if (all.length <= max) return { cuts: all, sampled: false };
  const must = new Set([0, n]);
  for (const m of recording.marks) {
    must.add(m.at);
    must.add(m.at + 1);
  }
  const mustList = [...must].filter(c => c >= 0 && c <= n);
  const others = all.filter(c => !must.has(c));
  const extra = sample(others, Math.max(0, max - mustList.length), random);
  return { cuts: [...new Set([...mustList, ...extra])].sort((a, b) => a - b), sampled: true };
}

/** Facts about a state read from its bytes before anything opens it. */
function treeFacts(tree, out) {
  const facts = { canaryFound: null, damagedKept: null };
  if (out.canary) {
    const needle = Buffer.from(out.canary);
    for (const [p, e] of tree) if (e.type === 'file' && e.data.includes(needle)) facts.canaryFound = p;
  }
  if (out.damaged) {
    const bad = Buffer.from(out.damaged, 'base64');
    const dir = `/${out.cwd}/`;
    facts.damagedKept = false;
    for (const [p, e] of tree) {
      if (e.type !== 'file' || !p.startsWith(dir)) continue;
      const name = p.slice(dir.length);
      if ((name === `${out.name}.json` || name.startsWith(`${out.name}.json.corrupt-`)) && e.data.equals(bad)) facts.damagedKept = true;
    }
  }
  return facts;
}

function materialize(tree, dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [p, e] of tree) {
    const target = path.join(dir, p);
    if (e.type === 'dir') fs.mkdirSync(target, { recursive: true, mode: 0o700 });
    else if (e.type === 'file') fs.writeFileSync(target, e.data, { mode: 0o600 });
    else fs.symlinkSync(e.target, target);
  }
}

/** Child processes that open states (open-child.js), restarted if one dies. */
class OpenPool {
  constructor(size) {
    this.size = size;
    this.children = [];
  }

  #spawn() {
    const child = spawn(process.execPath, [OPEN_CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    const entry = { child, inflight: [], stderr: collect(child.stderr), buf: '' };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', chunk => {
      entry.buf += chunk;
      let nl;
      while ((nl = entry.buf.indexOf('\n')) !== -1) {
        const line = entry.buf.slice(0, nl);
        entry.buf = entry.buf.slice(nl + 1);
        const result = JSON.parse(line);
        const i = entry.inflight.findIndex(j => j.job.id === result.id);
        if (i === -1) continue;
        const [j] = entry.inflight.splice(i, 1);
        j.resolve(result);
      }
    });
    child.on('exit', (code, signal) => {
      entry.dead = true;
      // the first job in flight is the one it died on; the others go elsewhere
      const [first, ...rest] = entry.inflight;
      entry.inflight = [];
      if (first) first.resolve({ id: first.job.id, ok: false, error: { code: 'CHILD_DIED', message: `the child opening this state exited (${code ?? signal}): ${entry.stderr().slice(-2000)}` } });
      for (const j of rest) this.#send(j);
    });
    return entry;
  }

  #send(j) {
    let live = this.children.filter(c => !c.dead);
    while (live.length < this.size) {
      this.children.push(this.#spawn());
      live = this.children.filter(c => !c.dead);
    }
    const entry = live.reduce((a, b) => (a.inflight.length <= b.inflight.length ? a : b));
    entry.inflight.push(j);
    entry.child.stdin.write(`${JSON.stringify(j.job)}\n`);
  }

  /** Opens one state; resolves with open-child's result. */
  open(job) {
    return new Promise(resolve => this.#send({ job, resolve }));
  }

  async close() {
    for (const c of this.children) {
      if (c.dead) continue;
      c.child.stdin.end();
      await exited(c.child, 60_000, 'a state-opening child');
    }
  }
}

/** Waits for all `promises`, failing loudly when they take longer than `ms`. */
function withDeadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The problems (strings) of one state at one cut; [] when it is right. */
function evaluate(result, req, facts, out) {
  const problems = [];
  if (facts.canaryFound) problems.push(`the secret's plain text is in ${facts.canaryFound}`);
  if (req.damaged && facts.damagedKept === false) problems.push('the damaged file is gone: neither the file nor a .corrupt- copy holds its bytes');
  if (!result.ok) {
    const e = result.error || {};
    if (out.conf || req.anyAck || !UNRECOVERABLE_CODES.has(e.code)) problems.push(`does not open: ${e.code || e.name}: ${e.message}`);
    return problems;
  }
  const matches = [];
  out.states.forEach((s, j) => {
    if (j <= req.maxBegun && isDeepStrictEqual(result.doc, s)) matches.push(j);
  });
  if (matches.length === 0) {
    problems.push(`the document is not the state after any prefix of the ${req.maxBegun} operations begun: ${JSON.stringify(result.doc).slice(0, 300)}`);
  } else if (Math.max(...matches) < req.minAcked) {
    problems.push(`lost acknowledged changes: the document is the state after op ${Math.max(...matches)}, op ${req.minAcked} was acknowledged`);
  }
  for (const b of result.backups) if (!b.verified) problems.push(`listed backup ${b.file} does not match its metadata's hash`);
  for (const j of req.backups) {
    const want = out.backups[j];
    const listed = result.backups.find(b => b.file === want.file);
    const restored = result.restored[want.file];
    if (!listed) problems.push(`acknowledged backup ${want.file} is not listed`);
    else if (!restored || !restored.ok) problems.push(`acknowledged backup ${want.file} does not restore: ${restored && restored.error && restored.error.code}`);
    else if (!isDeepStrictEqual(restored.state, want.state)) problems.push(`acknowledged backup ${want.file} restores another state`);
  }
  if (out.migration) {
    const internal = result.doc.__internal__;
    const migrated = internal && internal.migrations && internal.migrations.version === out.migration.version;
    for (const s of result.snapshots) if (s.valid !== true) problems.push(`migration snapshot ${s.file} does not validate: ${JSON.stringify(s.errors)}`);
    if (migrated && !result.snapshots.some(s => s.valid === true && isDeepStrictEqual(s.content, out.migration.before))) {
      problems.push('the migrated document survived without its migration snapshot');
    }
  }
  if (req.rotated && result.key !== 0) problems.push('rotateSecretKey() resolved, yet only the old key opens the store');
  return problems;
}

/**
 * Runs the whole check of one recorded workload under `models`. Returns
 * figures per model: { cuts, totalCuts, sampled, checks, unique, failedChecks,
 * failedCuts, kinds, examples }.
 */
async function check(recorded, { models, seed, maxCuts, perCut, pool, keepFailures }) {
  const { ops, out, base } = recorded;
  const recording = new Recording(ops);
  const statesDir = path.join(base, 'states');
  const byHash = new Map(); // hash → { dir, facts, result: Promise }
  const figures = {};
  const restore = out.backups.map(b => b.file);
  let n = 0;
  for (const model of models) {
    const random = rng(seed ^ crypto.createHash('sha256').update(`${out.workload}/${model}`).digest().readUInt32LE(0));
    const { cuts, sampled } = cutPoints(recording, maxCuts, random);
    const pending = [];
    for (const c of cuts) {
      const states =
        model === 'perdir' ? recording.perdir(c, random, { cap: perCut }) : model === 'ext4' ? recording.ext4(c, random, { cap: Math.max(2, perCut >> 1) }) : [recording.dropcache(c)];
      const req = requirements(recording.marksBefore(c));
      for (const s of states) {
        const hash = treeHash(s.tree);
        let entry = byHash.get(hash);
        if (!entry) {
          const dir = path.join(statesDir, String(n++));
          materialize(s.tree, dir);
          entry = {
            dir,
            facts: treeFacts(s.tree, out),
            result: pool.open({ id: hash, cwd: path.join(dir, out.cwd), name: out.name, reopen: out.reopen, keys: out.keys, conf: out.conf, restore }),
          };
          byHash.set(hash, entry);
        }
        pending.push({ c, desc: s.desc, req, entry });
      }
    }
    const results = await withDeadline(Promise.all(pending.map(p => p.entry.result)), 30 * 60_000, `opening the ${model} states of ${out.workload}`);
    const fig = { cuts: cuts.length, totalCuts: recording.length + 1, sampled, checks: pending.length, unique: new Set(pending.map(p => p.entry.dir)).size, failedChecks: 0, failedCuts: 0, kinds: {}, examples: [] };
    const badCuts = new Set();
    pending.forEach((p, i) => {
      const problems = evaluate(results[i], p.req, p.entry.facts, out);
      if (problems.length === 0) return;
      p.entry.failed = true;
      fig.failedChecks++;
      badCuts.add(p.c);
      for (const pr of problems) {
        const kind = pr.replace(/[0-9a-f]{8,}|\d+/g, '#').slice(0, 90);
        fig.kinds[kind] = (fig.kinds[kind] || 0) + 1;
      }
      if (fig.examples.length < 4) {
        const last = ops.slice(Math.max(0, p.c - 3), p.c).map(o => `${o.op} ${o.path || o.to || o.name || `#${o.id}`}`);
        fig.examples.push(`cut ${p.c}/${recording.length} (after: ${last.join(' | ')}); ${p.desc}: ${problems.join('; ')}${keepFailures ? ` [state kept in ${p.entry.dir}]` : ''}`);
      }
    });
    fig.failedCuts = badCuts.size;
    // what the opens reported (not failures: a damaged file kept aside is the rule working)
    fig.recoveries = { quarantined: 0, journalDamage: 0, replayed: 0 };
    const seen = new Set();
    pending.forEach((p, i) => {
      const r = results[i];
      if (seen.has(p.entry.dir) || !r.ok || !r.recovery) return;
      seen.add(p.entry.dir);
      if (r.recovery.quarantined) fig.recoveries.quarantined++;
      if (r.recovery.journalDamage) fig.recoveries.journalDamage++;
      if (r.recovery.replayed > 0) fig.recoveries.replayed++;
    });
    figures[model] = fig;
  }
  if (!keepFailures) fs.rmSync(base, { recursive: true, force: true });
  else for (const e of byHash.values()) if (!e.failed) fs.rmSync(e.dir, { recursive: true, force: true });
  return figures;
}

module.exports = { availability, buildRecorder, record, check, OpenPool, requirements, evaluate, SCRATCH };
