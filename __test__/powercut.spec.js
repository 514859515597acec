'use strict';

/**
 * Power-cut durability (SPEC 4.2-4.4, 5; issue 17): each workload runs on a
 * FUSE pass-through file system that records every file-system request it
 * makes (__test__/powercut/recorder.c, libfuse3); from the recording, the
 * crash states a power cut can leave are built ALICE-style under three
 * persistence models (__test__/powercut/model.js: `perdir` — POSIX, each
 * directory persists on its own; `ext4` — data=ordered; `dropcache` — every
 * unsynced change dropped), written to fresh directories and opened by a child
 * process with the real addon. Each must open, hold the state after a prefix
 * of the operations begun, and hold every acknowledged one: a 'sync' set
 * that returned, everything before a resolved flush(), a resolved
 * createBackup()'s backup (listed, hash verified, restores its state), the
 * migration snapshot of a migrated document, the new key after a resolved
 * rotateSecretKey(), the bytes of a damaged file (kept aside), and no secret
 * in clear in any byte.
 *
 * conf@10 runs the new-store workload too; its losses are reported, not
 * asserted.
 *
 * POWERCUT_SEED=<n> replays a run's sampling; POWERCUT_MAX_CUTS (default 2000)
 * and POWERCUT_PER_CUT (default 64) bound the work; POWERCUT_KEEP=1 keeps
 * failing states on disk; POWERCUT_REQUIRED=1 fails instead of skipping where
 * FUSE is unavailable (CI sets it on Linux).
 */

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const harness = require('./powercut/harness.js');
const { Recording, rng } = require('./powercut/model.js');

const SEED = Number(process.env.POWERCUT_SEED) || Date.now() % 1_000_000;
const MAX_CUTS = Number(process.env.POWERCUT_MAX_CUTS) || 2000;
const PER_CUT = Number(process.env.POWERCUT_PER_CUT) || 64;
const KEEP = process.env.POWERCUT_KEEP === '1';

const avail = harness.availability();
if (!avail.ok && process.env.POWERCUT_REQUIRED === '1') {
  test('power-cut recording is available', () => {
    assert.fail(`POWERCUT_REQUIRED=1 but the FUSE recorder cannot run: ${avail.reason}`);
  });
}
const skip = avail.ok ? false : `power-cut tests skipped: ${avail.reason}`;

let recorder = null;
let pool = null;
const started = Date.now();

function setup() {
  if (!recorder) recorder = harness.buildRecorder();
  if (!pool) pool = new harness.OpenPool(2);
}

function describe(t, workload, recorded, figures) {
  t.diagnostic(`${workload}: ${recorded.ops.length} requests recorded (${recorded.ops.filter(o => o.op === 'mark').length} marks) in ${recorded.recordMs} ms; seed ${SEED} (POWERCUT_SEED=${SEED} to replay)`);
  for (const [model, f] of Object.entries(figures)) {
    t.diagnostic(
      `  ${model}: ${f.cuts}/${f.totalCuts} cut points${f.sampled ? ' (sampled)' : ''}, ${f.checks} crash states checked (${f.unique} distinct opened), ` +
        `${f.failedChecks} failing states at ${f.failedCuts} cut points`,
    );
    if (f.recoveries && !recorded.out.conf) {
      const r = f.recoveries;
      t.diagnostic(`    opens that replayed the journal over an older file: ${r.replayed}, set a damaged file aside: ${r.quarantined}, reported journal damage: ${r.journalDamage}`);
    }
    for (const [kind, count] of Object.entries(f.kinds)) t.diagnostic(`    ${count} × ${kind}`);
    for (const e of f.examples) t.diagnostic(`    e.g. ${e}`);
  }
}

function failures(figures) {
  return Object.entries(figures)
    .filter(([, f]) => f.failedChecks > 0)
    .map(([model, f]) => `${model}: ${f.failedChecks} failing crash states at ${f.failedCuts} cut points\n    ${[...Object.entries(f.kinds).map(([k, n]) => `${n} × ${k}`), ...f.examples].join('\n    ')}`);
}

// -- the model on hand-made recordings (no FUSE needed) --------------------------

const W = (id, data, off = 0) => ({ op: 'write', id, off, data: Buffer.from(data) });
/** Each state's tree as { path: content | '<dir>' }. */
const flat = states => states.map(s => Object.fromEntries([...s.tree].map(([p, e]) => [p, e.type === 'dir' ? '<dir>' : e.data.toString()])));
const has = (states, want) => flat(states).some(t => JSON.stringify(t) === JSON.stringify(want));

test('model: a new directory vanishes with its fsynced file until its parent is fsynced (perdir, dropcache)', () => {
  const ops = [
    { op: 'mkdir', path: '/d', id: 2 },
    { op: 'create', path: '/d/f', id: 3 },
    W(3, 'data'),
    { op: 'fsync', id: 3, datasync: 0 },
    { op: 'fsyncdir', id: 2 },
  ];
  const rec = new Recording(ops);
  const end = rec.perdir(ops.length, rng(1), { cap: 1000 });
  assert.ok(has(end, {}), 'perdir: /d may be lost (the root was never fsynced)');
  assert.ok(has(end, { '/d': '<dir>', '/d/f': 'data' }));
  assert.deepEqual(flat([rec.dropcache(ops.length)]), [{}]);
  // ext4: the fsync of f commits the mkdir and the create with it
  for (const t of flat(rec.ext4(ops.length, rng(1), { cap: 1000 }))) assert.deepEqual(t, { '/d': '<dir>', '/d/f': 'data' });

  const fixed = new Recording([...ops, { op: 'fsyncdir', id: 1 }]);
  for (const t of flat(fixed.perdir(fixed.length, rng(1), { cap: 1000 }))) assert.deepEqual(t, { '/d': '<dir>', '/d/f': 'data' });
  assert.deepEqual(flat([fixed.dropcache(fixed.length)]), [{ '/d': '<dir>', '/d/f': 'data' }]);
});

test('model: perdir keeps unsynced changes per directory, in order, renames atomic; data torn or zero-filled', () => {
  const ops = [
    { op: 'create', path: '/old', id: 2 },
    W(2, 'old!'),
    { op: 'fsync', id: 2, datasync: 0 },
    { op: 'fsyncdir', id: 1 },
    { op: 'create', path: '/.tmp', id: 3 },
    W(3, 'newer'),
    { op: 'fsync', id: 3, datasync: 0 },
    { op: 'rename', from: '/.tmp', to: '/old', flags: 0 },
    { op: 'create', path: '/log', id: 4 },
    W(4, 'ab'),
    W(4, 'cd', 2),
  ];
  const rec = new Recording(ops);
  const states = rec.perdir(ops.length, rng(1), { cap: 1000 });
  const trees = flat(states);
  assert.ok(has(states, { '/old': 'old!' }), 'nothing unsynced');
  assert.ok(has(states, { '/.tmp': '', '/old': 'old!' }) || has(states, { '/.tmp': 'newer', '/old': 'old!' }), 'the temp file without the rename');
  assert.ok(has(states, { '/log': 'abcd', '/old': 'newer' }), 'everything');
  assert.ok(has(states, { '/log': 'ab', '/old': 'newer' }), 'a prefix of the writes');
  assert.ok(has(states, { '/log': 'abc', '/old': 'newer' }), 'torn last write');
  assert.ok(has(states, { '/log': 'ab\0\0', '/old': 'newer' }), 'sized, not written');
  assert.ok(has(states, { '/log': 'ab\0d', '/old': 'newer' }), 'only the second half written');
  assert.ok(has(states, { '/log': '\0\0cd', '/old': 'newer' }), 'the later write landed, the earlier did not');
  for (const t of trees) {
    // a rename is atomic, and the directory's changes persist in order
    assert.ok(t['/old'] === 'old!' || t['/old'] === 'newer', JSON.stringify(t));
    if (t['/log'] !== undefined) assert.equal(t['/old'], 'newer', `an entry made after the rename persisted without it: ${JSON.stringify(t)}`);
  }
  // exchange: both names swap at once
  const ex = new Recording([...ops.slice(0, 7), { op: 'rename', from: '/.tmp', to: '/old', flags: 2 }]);
  for (const t of flat(ex.perdir(ex.length, rng(1), { cap: 1000 }))) {
    assert.ok(JSON.stringify(t) === JSON.stringify({ '/.tmp': 'old!', '/old': 'newer' }) || t['/old'] === 'old!', JSON.stringify(t));
  }
});

test("model: ext4 loses a rename not yet committed (conf's write), keeps what a commit covers, drops unflushed appends", () => {
  const ops = [
    { op: 'create', path: '/f', id: 2 },
    W(2, 'v1'),
    { op: 'fsync', id: 2, datasync: 0 }, // commit: /f exists with v1
    { op: 'create', path: '/t', id: 3 },
    W(3, 'v2'),
    { op: 'fsync', id: 3, datasync: 0 }, // commit: /t with v2
    { op: 'rename', from: '/t', to: '/f', flags: 0 }, // not committed yet
    { op: 'create', path: '/j', id: 4 },
    W(4, 'appended'),
  ];
  const rec = new Recording(ops);
  const states = rec.ext4(ops.length, rng(1), { cap: 1000 });
  assert.ok(has(states, { '/f': 'v1', '/t': 'v2' }), 'the rename may be lost');
  assert.ok(has(states, { '/f': 'v2', '/j': 'appended' }));
  assert.ok(has(states, { '/f': 'v2', '/j': '' }), 'an unflushed append may be missing (delayed allocation)');
  for (const t of flat(states)) assert.ok(t['/f'] === 'v1' || t['/f'] === 'v2', 'never garbage');
  // an fsync of the appended file commits the rename with it
  const after = new Recording([...ops, { op: 'fsync', id: 4, datasync: 1 }]);
  for (const t of flat(after.ext4(after.length, rng(1), { cap: 1000 }))) assert.deepEqual(t, { '/f': 'v2', '/j': 'appended' });
});

test('model: ext4 keeps data an fdatasync flushed before the cut, even when that fdatasync committed nothing', () => {
  const ops = [
    { op: 'create', path: '/j', id: 2 },
    W(2, 'line1'),
    { op: 'fsyncdir', id: 1 }, // commits the create and the size
    { op: 'fsync', id: 2, datasync: 1 }, // nothing left to commit; flushes the data
    { op: 'mark', name: 'a1' },
  ];
  const rec = new Recording(ops);
  for (const t of flat(rec.ext4(ops.length, rng(1), { cap: 1000 }))) assert.deepEqual(t, { '/j': 'line1' });
  // before that fdatasync, the append may still be missing
  assert.ok(has(rec.ext4(3, rng(1), { cap: 1000 }), { '/j': '' }));
});

test('harness: requirements read from the marks, and a state judged against them', () => {
  const req = harness.requirements(['b1', 'a1', 'b2', 'bk0', 'b3', 'mig']);
  assert.deepEqual({ ...req, backups: [...req.backups] }, { maxBegun: 3, minAcked: 1, backups: [0], migrated: true, rotated: false, damaged: false, anyAck: true });
  const out = { states: [{}, { a: 1 }, { a: 2 }, { a: 3 }], backups: [{ file: 'b.json', state: { a: 1 } }], migration: null, conf: false };
  const ok = { ok: true, doc: { a: 2 }, key: -1, backups: [{ file: 'b.json', verified: true }], snapshots: [], restored: { 'b.json': { ok: true, state: { a: 1 } } } };
  const facts = { canaryFound: null, damagedKept: null };
  assert.deepEqual(harness.evaluate(ok, req, facts, out), []);
  assert.match(harness.evaluate({ ...ok, doc: {} }, req, facts, out).join(), /lost acknowledged changes/);
  assert.match(harness.evaluate({ ...ok, doc: { a: 9 } }, req, facts, out).join(), /not the state after any prefix/);
  assert.match(harness.evaluate({ ...ok, backups: [] }, req, facts, out).join(), /acknowledged backup b.json is not listed/);
  assert.match(harness.evaluate({ ok: false, error: { code: 'E_CORRUPT', message: 'x' } }, req, facts, out).join(), /does not open/);
  assert.deepEqual(harness.evaluate({ ok: false, error: { code: 'E_CORRUPT', message: 'x' } }, harness.requirements(['b1']), facts, out), []);
});

const WORKLOADS = [
  ['new-store-sync', "a brand-new store's first 'sync' sets (cwd three new levels deep)"],
  ['new-store-deferred', "a brand-new store's first deferred sets and flush()es"],
  ['backups', 'createBackup() into a new backups/ directory'],
  ['migrations', 'a migration and its snapshot in a new storeHistory/migrations/'],
  ['trims', 'journal trims (history.maxEntries: 2, 80 sets)'],
  ['secrets', 'secretKeys: encrypted sets, a backup, rotateSecretKey()'],
  ['quarantine', 'a file damaged by another program, kept aside at reopen'],
  ['custom-serialize', 'custom serialize/deserialize: the file exported through them'],
];

for (const [workload, what] of WORKLOADS) {
  test(`power cut: ${what} — every crash state opens with every acknowledged change`, { skip }, async t => {
    setup();
    const recorded = await harness.record(recorder, workload);
    const figures = await harness.check(recorded, { models: ['perdir', 'ext4', 'dropcache'], seed: SEED, maxCuts: MAX_CUTS, perCut: PER_CUT, pool, keepFailures: KEEP });
    describe(t, workload, recorded, figures);
    for (const f of Object.values(figures)) assert.ok(f.checks > 0 && f.unique > 0, 'no crash state was checked');
    const bad = failures(figures);
    assert.deepEqual(bad, [], `${workload}: acknowledged changes lost or states broken (seed ${SEED}):\n${bad.join('\n')}`);
  });
}

test('power cut: conf@10 on the new-store workload (losses reported, not asserted)', { skip }, async t => {
  setup();
  const recorded = await harness.record(recorder, 'conf');
  const figures = await harness.check(recorded, { models: ['ext4', 'perdir', 'dropcache'], seed: SEED, maxCuts: MAX_CUTS, perCut: PER_CUT, pool, keepFailures: false });
  describe(t, 'conf@10', recorded, figures);
  for (const f of Object.values(figures)) assert.ok(f.checks > 0 && f.unique > 0, 'no crash state was checked');
  // the reference loses acknowledged sets: the comparison is the point, not a pass/fail
  const ext4 = figures.ext4;
  t.diagnostic(`conf@10 under ext4: acknowledged changes lost or file unreadable at ${ext4.failedCuts} of ${ext4.cuts} cut points`);
});

after(async () => {
  if (pool) await pool.close();
  if (!skip) console.log(`# power-cut suite: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
