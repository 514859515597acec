'use strict';

// Migrations: electron-store's `{ version|range: fn }` and the seed's
// `[{ version, name, up }]`, conf's range rules with semver ordering, the
// transactional run (snapshot first, byte-identical rollback), the schema
// checked after migrating, newer-version files, and the migration snapshots.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const { Store, fixture, plain, writeFile, captureWarnings } = require('./helpers.js');

const TAB = data => JSON.stringify(data, null, '\t');
const VERSION_KEY = '__internal__.migrations.version';
const at = version => ({ __internal__: { migrations: { version } } });

/** A dir holding `config.json` with `data` (tab-formatted, like the stores write). */
function seeded(fx, data) {
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', TAB(data));
  return { dir, file, bytes: fs.readFileSync(file) };
}

const isMigrationError = check => error => {
  assert.equal(error.code, 'E_MIGRATION', `code: ${error.code} ${error.message}`);
  assert.ok(error instanceof Error);
  if (check) check(error);
  return true;
};

/**
 * Runs `source` as an app's main module in a fresh directory (with `pkg` as its
 * package.json, or none), with HOME and XDG_CONFIG_HOME inside it; returns the
 * JSON the script printed last.
 */
function runApp(fx, pkg, source, env = {}) {
  const dir = fx.dir();
  if (pkg) fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  const script = path.join(dir, 'app.js');
  fs.writeFileSync(script, source);
  const out = execFileSync(process.execPath, [script], {
    cwd: dir,
    env: { ...process.env, HOME: dir, USERPROFILE: dir, APPDATA: path.join(dir, 'AppData', 'Roaming'), XDG_CONFIG_HOME: path.join(dir, 'xdg'), ...env },
    encoding: 'utf8',
  });
  const lines = out.trim().split('\n');
  return { ...JSON.parse(lines[lines.length - 1]), dir };
}

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

test('projectVersion defaults to the version in the package.json nearest to the module that required tad-store (conf)', t => {
  const fx = fixture(t);
  const own = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  const ran = [];
  // (helpers.js required tad-store first: the nearest package.json is this repository's)
  const s = fx.open({ migrations: { '0.0.1': () => ran.push('0.0.1'), '999.0.0': () => ran.push('999.0.0') } });
  assert.deepEqual(ran, ['0.0.1']);
  assert.equal(s.get(VERSION_KEY), own.version);
  // no migrations: nothing is inferred or recorded
  assert.equal(fx.open().get(VERSION_KEY), undefined);
  assert.throws(() => fx.open({ projectVersion: 'not semver', migrations: {} }), TypeError);
});

test('migrations without projectVersion and without a package.json throw E_MIGRATION "Project version could not be inferred..."', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { a: 1 });
  const out = runApp(fx, null, `
    const Store = require(${JSON.stringify(path.join(__dirname, '..'))});
    try {
      new Store({ cwd: ${JSON.stringify(dir)}, migrations: { '1.0.0': s => s.set('x', 1) } });
      console.log(JSON.stringify({ opened: true }));
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, message: error.message }));
    }
  `);
  assert.equal(out.code, 'E_MIGRATION');
  assert.match(out.message, /^Project version could not be inferred\. Please specify the `projectVersion` option\./);
  assert.deepEqual(fs.readFileSync(file), bytes);
});

test('bad migration definitions are TypeErrors', t => {
  const fx = fixture(t);
  const base = { projectVersion: '1.0.0' };
  assert.throws(() => fx.open({ ...base, migrations: { 'not-a-version': () => {} } }), TypeError);
  assert.throws(() => fx.open({ ...base, migrations: { '1.0.0': 'nope' } }), TypeError);
  assert.throws(() => fx.open({ ...base, migrations: [{ version: '1.0.0' }] }), TypeError);
  assert.throws(() => fx.open({ ...base, migrations: [{ up: () => {} }] }), TypeError);
  assert.throws(() => fx.open({ ...base, migrations: 5 }), TypeError);
  assert.throws(() => fx.open({ ...base, migrations: {}, beforeEachMigration: 'x' }), TypeError);
});

// ---------------------------------------------------------------------------
// Planning and order
// ---------------------------------------------------------------------------

test('steps run in semver order (not object order), only those in (recorded, projectVersion]', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), log: [] });
  const ran = [];
  const step = v => s => {
    ran.push(v);
    s.set('log', [...s.get('log'), v]);
  };
  const s = fx.open({
    cwd: dir,
    projectVersion: '2.1.0',
    migrations: { '2.1.0': step('2.1.0'), '1.0.0': step('1.0.0'), '1.10.0': step('1.10.0'), '0.9.0': step('0.9.0'), '1.2.0': step('1.2.0'), '3.0.0': step('3.0.0') },
  });
  assert.deepEqual(ran, ['1.2.0', '1.10.0', '2.1.0']);
  assert.deepEqual(s.get('log'), ['1.2.0', '1.10.0', '2.1.0']);
  assert.equal(s.get(VERSION_KEY), '2.1.0');
});

test("ranges (>=1.2 <2, 1.0.x, ^1.2.0, ||) follow conf's rules: same steps run as in conf", t => {
  const cases = [
    ['1.0.0', '1.5.0'],
    ['1.0.5', '2.0.0'],
    ['0.0.1', '1.0.3'],
    ['1.3.0', '1.9.0'],
    ['1.5.0', '3.1.0'],
  ];
  const keys = ['1.0.x', '>=1.2 <2', '^1.2.0', '0.5.0 || 1.5.0', '1.1.0', '2.0.0', '>=3.0.0'];
  for (const [from, to] of cases) {
    const fx = fixture(t);
    const ranTad = [];
    const ranConf = [];
    const make = log => Object.fromEntries(keys.map(k => [k, () => log.push(k)]));
    const a = seeded(fx, { ...at(from), x: 1 });
    const b = seeded(fx, { ...at(from), x: 1 });
    const tad = fx.open({ cwd: a.dir, projectVersion: to, migrations: make(ranTad) });
    const conf = fx.conf({ cwd: b.dir, projectVersion: to, migrations: make(ranConf) });
    assert.deepEqual([...ranTad].sort(), [...ranConf].sort(), `${from} -> ${to}`);
    assert.equal(tad.get(VERSION_KEY), conf.get(VERSION_KEY), `${from} -> ${to}: recorded version`);
    assert.equal(tad.get(VERSION_KEY), to);
    tad.close();
  }
});

test('a range step runs where it is declared (as in conf); the exact versions due run in semver order', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, at('0.1.0'));
  const ran = [];
  fx.open({
    cwd: dir,
    projectVersion: '1.5.0',
    migrations: { '>=1.2 <2': () => ran.push('>=1.2 <2'), '1.1.0': () => ran.push('1.1.0'), '^1.0.0': () => ran.push('^1.0.0'), '0.5.0': () => ran.push('0.5.0') },
  });
  assert.deepEqual(ran, ['>=1.2 <2', '0.5.0', '^1.0.0', '1.1.0']);
  // ranges only: the same order as conf (a later range can overwrite an earlier one's value)
  const keys = ['>=1.0', '>2.0.0', '<3.0.0'];
  const make = log => Object.fromEntries(keys.map(k => [k, st => { log.push(k); st.set('last', k); }]));
  const tadRan = [];
  const confRan = [];
  const tad = fx.open({ projectVersion: '2.4.0', migrations: make(tadRan) });
  const conf = fx.conf({ projectVersion: '2.4.0', migrations: make(confRan) });
  assert.deepEqual(tadRan, confRan);
  assert.equal(tad.get('last'), conf.get('last'));
});

test('the array form [{ version, name, up }] works and names the step', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), n: 1 });
  const s = fx.open({
    cwd: dir,
    projectVersion: '3.0.0',
    migrations: [
      { version: '3.0.0', name: 'triple', up: st => st.set('n', st.get('n') * 3) },
      { version: '2.0.0', name: 'double', up: st => st.set('n', st.get('n') * 2) },
    ],
  });
  assert.equal(s.get('n'), 6, 'double then triple');
  assert.equal(s.get(VERSION_KEY), '3.0.0');
});

test('a new store (no file) runs every migration up to projectVersion from 0.0.0, as conf does', t => {
  const fx = fixture(t);
  const steps = log => ({
    '0.5.0': st => { log.push('0.5.0'); st.set('seeded', [...(st.get('seeded') || []), '0.5.0']); },
    '1.0.0': st => { log.push('1.0.0'); st.set('seeded', [...(st.get('seeded') || []), '1.0.0']); },
    '3.0.0': () => { log.push('3.0.0'); },
    '>=1.5': st => { log.push('>=1.5'); st.set('range', true); },
  });
  const ran = [];
  const confRan = [];
  const s = fx.open({ projectVersion: '2.0.0', migrations: steps(ran) });
  const conf = fx.conf({ projectVersion: '2.0.0', migrations: steps(confRan) });
  assert.deepEqual(ran, ['0.5.0', '1.0.0', '>=1.5']);
  assert.deepEqual(ran, confRan);
  assert.deepEqual(plain(s), { ...plain(conf) });
  assert.equal(s.get(VERSION_KEY), '2.0.0');
  s.flushSync({ file: true });
  const file = JSON.parse(fs.readFileSync(s.path, 'utf8'));
  assert.deepEqual(file.seeded, ['0.5.0', '1.0.0']);
  assert.equal(file.__internal__.migrations.version, '2.0.0');
});

test("`migrateNewStore: false`: a new store only records projectVersion (the seed's behaviour); an existing one migrates", t => {
  const fx = fixture(t);
  const ran = [];
  const migrations = { '1.0.0': st => { ran.push('1.0.0'); st.set('x', 1); }, '2.0.0': st => { ran.push('2.0.0'); st.set('y', 2); } };
  const s = fx.open({ projectVersion: '1.0.0', migrateNewStore: false, migrations });
  assert.deepEqual(ran, []);
  assert.equal(s.get('x'), undefined);
  assert.equal(s.get(VERSION_KEY), '1.0.0');
  s.close();
  const again = fx.open({ cwd: path.dirname(s.path), projectVersion: '2.0.0', migrateNewStore: false, migrations });
  assert.deepEqual(ran, ['2.0.0']);
  assert.equal(again.get('y'), 2);
  assert.throws(() => fx.open({ projectVersion: '1.0.0', migrateNewStore: 'no', migrations }), TypeError);
});

test('a second instance in the same process runs its own migrations (new store, and a newer projectVersion)', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const ran = [];
  const a = fx.open({ cwd: dir, projectVersion: '1.0.0', migrations: { '1.0.0': st => { ran.push('a 1.0.0'); st.set('a', 1); } } });
  // the file may not be written yet: the shared state decides, not the file
  const b = fx.open({ cwd: dir, projectVersion: '2.0.0', migrations: { '1.0.0': () => ran.push('b 1.0.0'), '2.0.0': st => { ran.push('b 2.0.0'); st.set('b', 2); } } });
  assert.deepEqual(ran, ['a 1.0.0', 'b 2.0.0']);
  assert.equal(a.get('b'), 2, 'one shared document');
  assert.equal(b.get(VERSION_KEY), '2.0.0');
  // a second instance on a new store that nobody has written to yet
  const dir2 = fx.dir();
  const plainFirst = fx.open({ cwd: dir2 });
  const migrated = fx.open({ cwd: dir2, projectVersion: '1.0.0', migrations: { '0.1.0': st => st.set('seed', true) } });
  assert.equal(migrated.get('seed'), true);
  assert.equal(plainFirst.get('seed'), true);
});

test('an existing file without a recorded version migrates from 0.0.0', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { a: 1 });
  const ran = [];
  const s = fx.open({ cwd: dir, projectVersion: '1.0.0', migrations: { '0.1.0': () => ran.push('0.1.0'), '1.0.0': () => ran.push('1.0.0') } });
  assert.deepEqual(ran, ['0.1.0', '1.0.0']);
  assert.equal(s.get(VERSION_KEY), '1.0.0');
  assert.equal(s.get('a'), 1);
});

test('beforeEachMigration(store, { fromVersion, toVersion, finalVersion, versions })', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, at('1.0.0'));
  const calls = [];
  fx.open({
    cwd: dir,
    projectVersion: '3.0.0',
    migrations: { '3.0.0': () => {}, '2.0.0': () => {} },
    beforeEachMigration: (store, ctx) => calls.push({ ...ctx, sameStore: store instanceof Store }),
  });
  assert.deepEqual(calls, [
    { fromVersion: '1.0.0', toVersion: '2.0.0', finalVersion: '3.0.0', versions: ['2.0.0', '3.0.0'], sameStore: true },
    { fromVersion: '2.0.0', toVersion: '3.0.0', finalVersion: '3.0.0', versions: ['2.0.0', '3.0.0'], sameStore: true },
  ]);
});

test('the migrated version is written where conf reads it', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), a: 1 });
  const s = new Store({ cwd: dir, projectVersion: '2.0.0', migrations: { '2.0.0': st => st.set('b', 2) } });
  s.close();
  const raw = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  assert.equal(raw.__internal__.migrations.version, '2.0.0');
  const confRan = [];
  const conf = fx.conf({ cwd: dir, projectVersion: '2.0.0', migrations: { '2.0.0': () => confRan.push('2.0.0') } });
  assert.equal(conf.get(VERSION_KEY), '2.0.0');
  assert.equal(conf.get('b'), 2);
  assert.deepEqual(confRan, [], 'conf sees the migration as done');
});

test('migrations are not re-run on the next start; a later version runs only the new steps', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), count: 0 });
  const ran = [];
  const migrations = {
    '2.0.0': st => { ran.push('2.0.0'); st.set('count', st.get('count') + 1); },
    '3.0.0': st => { ran.push('3.0.0'); st.set('count', st.get('count') + 10); },
  };
  new Store({ cwd: dir, projectVersion: '2.0.0', migrations }).close();
  new Store({ cwd: dir, projectVersion: '2.0.0', migrations }).close();
  assert.deepEqual(ran, ['2.0.0']);
  const s = fx.open({ cwd: dir, projectVersion: '3.0.0', migrations });
  assert.deepEqual(ran, ['2.0.0', '3.0.0']);
  assert.equal(s.get('count'), 11);
  s.close();
  new Store({ cwd: dir, projectVersion: '3.0.0', migrations }).close();
  assert.deepEqual(ran, ['2.0.0', '3.0.0']);
});

test('a version bump with no matching step just records the new version', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), a: 1 });
  const s = fx.open({ cwd: dir, projectVersion: '1.5.0', migrations: { '2.0.0': () => assert.fail('must not run') } });
  assert.equal(s.get(VERSION_KEY), '1.5.0');
  assert.equal(s.get('a'), 1);
});

// ---------------------------------------------------------------------------
// Transactional run
// ---------------------------------------------------------------------------

test("a snapshot is written before the steps: listMigrationBackups() has it with reason 'migration <from> -> <to>'", async t => {
  const fx = fixture(t);
  const original = { ...at('1.0.0'), a: 1 };
  const { dir } = seeded(fx, original);
  const s = fx.open({ cwd: dir, projectVersion: '2.0.0', migrations: { '2.0.0': st => st.set('a', 2) } });
  assert.equal(s.get('a'), 2);
  const list = await s.listMigrationBackups();
  assert.equal(list.length, 1);
  assert.equal(list[0].metadata.reason, 'migration 1.0.0 -> 2.0.0');
  assert.deepEqual(JSON.parse(fs.readFileSync(list[0].path, 'utf8')), original, 'the snapshot holds the pre-migration data');
  assert.equal(path.basename(list[0].path), list[0].file);
});

test('a throwing step: E_MIGRATION naming the step, file byte-identical, snapshot kept', async t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), a: 1, keep: { deep: [1] } });
  const boom = new Error('boom');
  assert.throws(() => new Store({
    cwd: dir,
    projectVersion: '3.0.0',
    migrations: {
      '2.0.0': st => { st.set('a', 2); st.set('added', true); st.delete('keep'); },
      '3.0.0': st => { st.set('a', 3); st.set({ x: 1, y: 2 }); st.setMultiple({ 'z.q': 1 }); st.clear(); throw boom; },
    },
  }), isMigrationError(error => {
    assert.equal(error.migration, '3.0.0');
    assert.equal(error.cause, boom);
    assert.match(error.message, /Migration "3\.0\.0" failed: boom/);
  }));
  assert.deepEqual(fs.readFileSync(file), bytes, 'store file byte-identical');
  const s = fx.open({ cwd: dir });
  assert.deepEqual(plain(s), { ...at('1.0.0'), a: 1, keep: { deep: [1] } });
  const list = await s.listMigrationBackups();
  assert.equal(list.length, 1, 'the snapshot is kept');
  assert.equal(list[0].metadata.reason, 'migration 1.0.0 -> 3.0.0');
});

test('a failing array-form step is named by its name in error.migration', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), a: 1 });
  assert.throws(() => new Store({
    cwd: dir,
    projectVersion: '2.0.0',
    migrations: [{ version: '2.0.0', name: 'rename-a', up: st => { st.set('b', st.get('a')); st.delete('a'); throw new TypeError('nope'); } }],
  }), isMigrationError(error => assert.equal(error.migration, 'rename-a')));
  assert.deepEqual(fs.readFileSync(file), bytes);
});

test('a throwing beforeEachMigration also rolls back', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), a: 1 });
  assert.throws(() => new Store({
    cwd: dir,
    projectVersion: '3.0.0',
    migrations: { '2.0.0': st => st.set('a', 2), '3.0.0': st => st.set('a', 3) },
    beforeEachMigration: (st, ctx) => {
      if (ctx.toVersion === '3.0.0') throw new Error('hook failed');
    },
  }), isMigrationError());
  assert.deepEqual(fs.readFileSync(file), bytes);
});

test('a migration returning a Promise is refused (E_MIGRATION) and rolled back', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), a: 1 });
  assert.throws(() => new Store({
    cwd: dir,
    projectVersion: '2.0.0',
    migrations: { '2.0.0': async st => { st.set('a', 99); } },
  }), isMigrationError(error => {
    assert.equal(error.migration, '2.0.0');
    assert.match(error.message, /Promise/);
  }));
  assert.deepEqual(fs.readFileSync(file), bytes);
  const s = fx.open({ cwd: dir });
  assert.equal(s.get('a'), 1);
});

test('after a failed migration the file opens again and the migration can be retried', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), a: 1 });
  let fail = true;
  const migrations = { '2.0.0': st => { st.set('a', 2); if (fail) throw new Error('first try'); } };
  assert.throws(() => new Store({ cwd: dir, projectVersion: '2.0.0', migrations }), isMigrationError());
  fail = false;
  const s = fx.open({ cwd: dir, projectVersion: '2.0.0', migrations });
  assert.equal(s.get('a'), 2);
  assert.equal(s.get(VERSION_KEY), '2.0.0');
});

// ---------------------------------------------------------------------------
// Schema after migrations
// ---------------------------------------------------------------------------

test('the schema is checked after migrating: a migration that fixes data works (conf fails)', t => {
  const fx = fixture(t);
  const schema = { port: { type: 'number' } };
  const migrations = { '2.0.0': st => st.set('port', Number(st.get('port'))) };
  const a = seeded(fx, { ...at('1.0.0'), port: '8080' });
  const b = seeded(fx, { ...at('1.0.0'), port: '8080' });
  const s = fx.open({ cwd: a.dir, schema, projectVersion: '2.0.0', migrations });
  assert.equal(s.get('port'), 8080);
  assert.equal(s.get(VERSION_KEY), '2.0.0');
  // electron-store/conf validate before migrating and refuse the same file
  assert.throws(() => fx.conf({ cwd: b.dir, schema, projectVersion: '2.0.0', migrations }), /Config schema violation: `port` must be number/);
});

test('migration writes are not schema-checked step by step, only the result', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), n: 1 });
  const s = fx.open({
    cwd: dir,
    schema: { n: { type: 'number' } },
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => { st.set('n', 'temporary'); st.set('n', 5); } },
  });
  assert.equal(s.get('n'), 5);
  // outside migrations, writes are checked again
  assert.throws(() => s.set('n', 'x'), e => e.code === 'E_SCHEMA');
});

test('a migration that leaves data the schema rejects: E_SCHEMA and the file is byte-identical', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), n: 1 });
  assert.throws(() => new Store({
    cwd: dir,
    schema: { n: { type: 'number' } },
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => st.set('n', 'broken') },
  }), error => {
    assert.equal(error.code, 'E_SCHEMA');
    assert.equal(error.message, 'Config schema violation: `n` must be number');
    return true;
  });
  assert.deepEqual(fs.readFileSync(file), bytes);
});

// ---------------------------------------------------------------------------
// Newer versions
// ---------------------------------------------------------------------------

test('a file from a newer app version opens, runs nothing, changes nothing, sets newerVersion and warns', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('5.0.0'), a: 1 });
  const ran = [];
  const { result: s, warnings } = captureWarnings(() => new Store({
    cwd: dir,
    projectVersion: '2.0.0',
    migrations: { '1.0.0': () => ran.push('1.0.0'), '2.0.0': () => ran.push('2.0.0') },
  }));
  try {
    assert.deepEqual(ran, []);
    assert.equal(s.newerVersion, '5.0.0');
    assert.equal(s.get(VERSION_KEY), '5.0.0', 'the recorded version is not lowered');
    assert.deepEqual(warnings.map(w => w.code), ['TAD_STORE_NEWER_VERSION']);
    assert.match(warnings[0].message, /5\.0\.0/);
    s.flushSync({ file: true });
    assert.deepEqual(fs.readFileSync(file), bytes);
  } finally {
    s.close();
  }
  assert.deepEqual(fs.readFileSync(file), bytes);
});

test('a store at the current version has no newerVersion and emits no warning', t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('2.0.0'), a: 1 });
  const { result: s, warnings } = captureWarnings(() => new Store({ cwd: dir, projectVersion: '2.0.0', migrations: { '2.0.0': () => assert.fail('ran') } }));
  s.close();
  assert.equal(s.newerVersion, undefined);
  assert.deepEqual(warnings, []);
});

// ---------------------------------------------------------------------------
// Migration snapshots
// ---------------------------------------------------------------------------

async function migratedStore(fx, extra = {}) {
  const { dir } = seeded(fx, { ...at('1.0.0'), a: 1 });
  const s = fx.open({ cwd: dir, projectVersion: '2.0.0', migrations: { '2.0.0': st => { st.set('a', 2); st.set('b', true); } }, ...extra });
  const [snap] = await s.listMigrationBackups();
  return { s, dir, snap };
}

test('validateMigrationBackup(name) → { valid: true } for an intact snapshot, valid false when tampered', async t => {
  const fx = fixture(t);
  const { s, snap } = await migratedStore(fx);
  assert.deepEqual(await s.validateMigrationBackup(snap.file), { valid: true, errors: [] });
  const text = fs.readFileSync(snap.path, 'utf8');
  fs.writeFileSync(snap.path, text.replace('"a": 1', '"a": 7'));
  const tampered = await s.validateMigrationBackup(snap.file);
  assert.equal(tampered.valid, false);
  assert.equal(tampered.errors.length, 1);
  assert.match(tampered.errors[0], /does not match its recorded hash/);
  // and a tampered snapshot is not restored
  await assert.rejects(s.restoreMigrationBackup(snap.file), e => e.code === 'E_BACKUP_CORRUPT');
  assert.equal(s.get('a'), 2);
});

test('validateMigrationBackup() of a snapshot that is not JSON is invalid', async t => {
  const fx = fixture(t);
  const { s, snap } = await migratedStore(fx);
  fs.writeFileSync(snap.path, '{ not json');
  const result = await s.validateMigrationBackup(snap.file);
  assert.equal(result.valid, false);
});

test('validateMigrationBackup() checks the schema and the custom validate()', async t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), a: 'one' });
  const s = fx.open({
    cwd: dir,
    schema: { a: { type: 'number' } },
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => st.set('a', 1) },
  });
  const [snap] = await s.listMigrationBackups();
  const result = await s.validateMigrationBackup(snap.file);
  assert.equal(result.valid, false);
  assert.deepEqual(result.errors, ['`a` must be number']);
  await assert.rejects(s.restoreMigrationBackup(snap.file), e => e.code === 'E_SCHEMA');
  assert.equal(s.get('a'), 1);

  const { dir: dir2 } = seeded(fx, { ...at('1.0.0'), a: 13 });
  const s2 = fx.open({
    cwd: dir2,
    validate: d => (d.a === 13 ? ['13 is unlucky'] : []),
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => st.set('a', 14) },
  });
  const [snap2] = await s2.listMigrationBackups();
  assert.deepEqual(await s2.validateMigrationBackup(snap2.file), { valid: false, errors: ['13 is unlucky'] });
});

test('restoreMigrationBackup(name) restores the snapshot, with change events and a history entry', async t => {
  const fx = fixture(t);
  const { s, snap } = await migratedStore(fx);
  const events = [];
  s.onDidChange('a', (n, o) => events.push(['a', n, o]));
  s.onDidChange('b', (n, o) => events.push(['b', n, o]));
  assert.equal(await s.restoreMigrationBackup(snap.file), true);
  assert.deepEqual(plain(s), { ...at('1.0.0'), a: 1 });
  assert.deepEqual(events.sort(), [['a', 1, 2], ['b', undefined, true]]);
  s.flushSync({ file: true });
  assert.deepEqual(JSON.parse(fs.readFileSync(s.path, 'utf8')), { ...at('1.0.0'), a: 1 });
  const summary = await s.getHistorySummary();
  assert.equal(summary.entries.at(-1).operation, 'restore');
});

test('the migration backup functions take names only: paths reject E_BACKUP_NOT_FOUND, non-strings TypeError', async t => {
  const fx = fixture(t);
  const { s, snap, dir } = await migratedStore(fx);
  const outside = writeFile(fx.dir(), 'x.json', TAB({ evil: true }));
  const names = ['../x', '../config.json', '../../etc/passwd', outside, snap.path, '/etc/passwd', 'missing.json', `migrations/${snap.file}`, path.join(dir, 'config.json')];
  for (const name of names) {
    await assert.rejects(s.validateMigrationBackup(name), e => e.code === 'E_BACKUP_NOT_FOUND', `validate ${name}`);
    await assert.rejects(s.restoreMigrationBackup(name), e => e.code === 'E_BACKUP_NOT_FOUND', `restore ${name}`);
  }
  for (const bad of [undefined, null, 5, {}, [], '']) {
    await assert.rejects(async () => s.validateMigrationBackup(bad), TypeError, `validate ${String(bad)}`);
    await assert.rejects(async () => s.restoreMigrationBackup(bad), TypeError, `restore ${String(bad)}`);
  }
  assert.deepEqual(plain(s), { ...at('2.0.0'), a: 2, b: true });
});

test('listMigrationBackups() is empty when nothing was migrated, or only a new store (nothing to keep)', async t => {
  const fx = fixture(t);
  const s = fx.open({ projectVersion: '1.0.0', migrations: { '1.0.0': () => {} } });
  assert.deepEqual(await s.listMigrationBackups(), []);
  const plainStore = fx.open();
  assert.deepEqual(await plainStore.listMigrationBackups(), []);
});

// ---------------------------------------------------------------------------
// Rollback with defaults filled on open / non-canonical files
// ---------------------------------------------------------------------------

test('a failing migration leaves the file byte-identical even when `defaults` were filled on open', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), a: 1 });
  assert.throws(() => new Store({
    cwd: dir,
    defaults: { d: 1 },
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => { st.set('x', 1); throw new Error('boom'); } },
  }), isMigrationError());
  assert.equal(fs.readFileSync(file, 'utf8'), bytes.toString('utf8'));
});

test('a failing migration leaves the file byte-identical even when schema defaults were filled on open', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), a: 1 });
  assert.throws(() => new Store({
    cwd: dir,
    schema: { d: { type: 'number', default: 1 } },
    projectVersion: '2.0.0',
    migrations: { '2.0.0': () => { throw new Error('boom'); } },
  }), isMigrationError());
  assert.equal(fs.readFileSync(file, 'utf8'), bytes.toString('utf8'));
});

test('a failing migration leaves a compact (non-tab) JSON file byte-identical', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = writeFile(dir, 'config.json', JSON.stringify({ ...at('1.0.0'), a: 1 }));
  const bytes = fs.readFileSync(file);
  assert.throws(() => new Store({
    cwd: dir,
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => { st.set('a', 2); throw new Error('boom'); } },
  }), isMigrationError());
  assert.equal(fs.readFileSync(file, 'utf8'), bytes.toString('utf8'));
});

test('a failing migration with defaults already present in the file is byte-identical', t => {
  const fx = fixture(t);
  const { dir, file, bytes } = seeded(fx, { ...at('1.0.0'), a: 1, d: 5 });
  assert.throws(() => new Store({
    cwd: dir,
    defaults: { d: 1 },
    schema: { a: { type: 'number', default: 0 } },
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => { st.set('d', 2); st.delete('a'); throw new Error('boom'); } },
  }), isMigrationError());
  assert.deepEqual(fs.readFileSync(file), bytes);
});

// ---------------------------------------------------------------------------
// More regressions and combinations
// ---------------------------------------------------------------------------

test('regression: conf lowers the recorded version of a newer file; tad-store keeps it', t => {
  const fx = fixture(t);
  const a = seeded(fx, { ...at('5.0.0'), a: 1 });
  const b = seeded(fx, { ...at('5.0.0'), a: 1 });
  const { result: s } = captureWarnings(() => new Store({ cwd: a.dir, projectVersion: '2.0.0', migrations: { '1.0.0': () => {} } }));
  s.close();
  const conf = fx.conf({ cwd: b.dir, projectVersion: '2.0.0', migrations: { '1.0.0': () => {} } });
  assert.equal(conf.get(VERSION_KEY), '2.0.0', 'conf downgrades');
  assert.deepEqual(fs.readFileSync(a.file), a.bytes, 'tad-store leaves the file as it was');
  assert.equal(JSON.parse(fs.readFileSync(a.file, 'utf8')).__internal__.migrations.version, '5.0.0');
});

test("a migration that leaves invalid data with onInvalidData 'sanitize' is repaired after migrating", async t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), n: 1, keep: 'k' });
  const s = fx.open({
    cwd: dir,
    schema: { n: { type: 'number', default: 4 } },
    onInvalidData: 'sanitize',
    projectVersion: '2.0.0',
    migrations: { '2.0.0': st => st.set('n', 'oops') },
  });
  assert.equal(s.get('n'), 4, 'invalid value dropped, default refilled');
  assert.equal(s.get('keep'), 'k');
  assert.equal(s.get(VERSION_KEY), '2.0.0');
  const summary = await s.getHistorySummary();
  assert.ok(summary.entries.some(e => e.operation === 'sanitize'));
});

test('migration snapshots survive a restart and can be restored from a later session', async t => {
  const fx = fixture(t);
  const { dir } = seeded(fx, { ...at('1.0.0'), a: 1 });
  new Store({ cwd: dir, projectVersion: '2.0.0', migrations: { '2.0.0': st => st.set('a', 2) } }).close();
  const s = fx.open({ cwd: dir, projectVersion: '2.0.0', migrations: { '2.0.0': st => st.set('a', 2) } });
  const list = await s.listMigrationBackups();
  assert.equal(list.length, 1, 'no new snapshot when nothing ran');
  assert.deepEqual(await s.validateMigrationBackup(list[0].file), { valid: true, errors: [] });
  await s.restoreMigrationBackup(list[0].file);
  assert.equal(s.get('a'), 1);
  assert.equal(s.get(VERSION_KEY), '1.0.0');
});
