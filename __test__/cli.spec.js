'use strict';
// The support command, `tad-store` (bin/tad-store.js), run as a real process
// against stores the library made: healthy, damaged (document, journal at a
// random offset, backups), encrypted, held open and written by another
// process, and locked by a process that does not let go. Read-only commands
// must leave every byte and mtime as it was.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { fixture, rng, Store } = require('./helpers.js');

const BIN = path.join(__dirname, '..', 'bin', 'tad-store.js');
const SEED = Number(process.env.CLI_SEED || Date.now() % 100000);
const PYTHON_FLOCK = process.platform !== 'win32' && spawnSync('python3', ['-c', 'import fcntl']).status === 0;

/** Runs the bin; `{ status, stdout, stderr, json }` (json: stdout parsed, when it parses). */
function cli(args, opts = {}) {
  const env = { ...process.env, ...opts.env };
  if (!opts.env || opts.env.TAD_STORE_PROGRESS === undefined) delete env.TAD_STORE_PROGRESS;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: opts.timeout || 120000, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {}
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** Async form (the test process stays free to serve a child meanwhile). */
function cliAsync(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tad-store ${args.join(' ')} did not finish within ${opts.timeout || 120000} ms: ${stderr}`));
    }, opts.timeout || 120000);
    child.on('error', reject);
    child.on('close', status => {
      clearTimeout(timer);
      let json;
      try {
        json = JSON.parse(stdout);
      } catch {}
      resolve({ status, stdout, stderr, json });
    });
  });
}

/** Every file under `dir` with its bytes and mtime. */
function tree(dir) {
  const out = {};
  const walk = d => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.statSync(p);
      if (e.isDirectory()) {
        out[`${p}/`] = st.mtimeMs;
        walk(p);
      } else {
        out[p] = { mtime: st.mtimeMs, bytes: fs.readFileSync(p).toString('base64') };
      }
    }
  };
  walk(dir);
  return out;
}

/** A store with history, a backup and a migration version; closed. */
async function makeStore(fx, opts = {}) {
  const dir = fx.dir();
  const s = new Store({
    cwd: dir,
    backups: false,
    projectVersion: '2.1.0',
    migrations: { '2.0.0': st => st.set('migrated', true) },
    ...opts,
  });
  const times = [];
  s.set('settings', { theme: 'dark', fontSize: 12 });
  times.push(Date.now());
  await delayTick();
  s.set('settings.theme', 'light');
  s.set('user', { name: 'Ada Lovelace' });
  times.push(Date.now());
  await delayTick();
  s.delete('user');
  await s.createBackup('manual');
  s.set('workspaces', ['/home/ada/project']);
  await s.flush({ file: true });
  const state = JSON.parse(JSON.stringify(s.store));
  s.close();
  return { dir, file: path.join(dir, 'config.json'), times, state };
}

/** Waits until the clock has moved on (history times are in ms). */
function delayTick() {
  const t = Date.now();
  return new Promise(resolve => {
    const check = () => (Date.now() > t + 2 ? resolve() : setTimeout(check, 3));
    check();
  });
}

function readStore(dir, opts = {}) {
  const s = new Store({ cwd: dir, backups: false, ...opts });
  const out = JSON.parse(JSON.stringify(s.store));
  s.close();
  return out;
}

// ---------------------------------------------------------------------------

test('--help for the command and every subcommand; no command is a usage error', () => {
  const main = cli(['--help']);
  assert.equal(main.status, 0, main.stderr);
  for (const c of ['inspect', 'history', 'verify', 'rollback', 'backups', 'restore', 'export', 'doctor']) {
    assert.match(main.stdout, new RegExp(`\\b${c}\\b`));
    const r = cli([c, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: tad-store ${c} `));
    assert.match(r.stdout, /--key-file/);
  }
  assert.match(cli(['help', 'verify']).stdout, /^Usage: tad-store verify/);
  const none = cli([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /Usage: tad-store <command>/);
});

test('unknown command, unknown flag, missing and extra arguments: E_USAGE, exit 2, also as --json', t => {
  const dir = fixture(t).dir();
  const file = path.join(dir, 'config.json');
  for (const args of [['frobnicate', file], ['inspect', file, '--frob'], ['inspect'], ['inspect', file, 'extra'], ['rollback', file], ['rollback', file, '--to', 'yesterday-ish'], ['history', file, '--since', 'soon'], ['restore', file], ['inspect', dir]]) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^tad-store: E_USAGE: /, args.join(' '));
    const j = cli([...args, '--json']);
    assert.equal(j.status, 2);
    assert.equal(j.json.error.code, 'E_USAGE');
    assert.equal(j.json.error.exitCode, 2);
  }
});

test('a missing store: E_STORE_NOT_FOUND, exit 3, for every command, and nothing is created', t => {
  const dir = fixture(t).dir();
  const file = path.join(dir, 'nope.json');
  for (const args of [['inspect', file], ['history', file], ['verify', file], ['backups', file], ['export', file], ['doctor', file], ['rollback', file, '--to', '1'], ['restore', file, 'b.json']]) {
    const r = cli([...args, '--json']);
    assert.equal(r.status, 3, `${args[0]}: ${r.stderr}`);
    assert.equal(r.json.error.code, 'E_STORE_NOT_FOUND');
    assert.match(r.stderr, /E_STORE_NOT_FOUND: No store at /);
  }
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing was created');
});

test('inspect: keys, sizes, version, last changes, recovery report (human and --json)', async t => {
  const fx = fixture(t);
  const { file, state } = await makeStore(fx);
  const r = cli(['inspect', file, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const d = r.json;
  assert.equal(d.version, '2.1.0');
  assert.deepEqual(d.document.keys.map(k => k.key), Object.keys(state));
  const settings = d.document.keys.find(k => k.key === 'settings');
  assert.equal(settings.bytes, JSON.stringify(state.settings).length);
  assert.equal(settings.type, 'object');
  assert.equal(d.document.size, fs.statSync(file).size);
  assert.equal(d.journal.changes, d.journal.lastSeq - d.journal.firstSeq + 1);
  assert.equal(d.state.state, 'seq');
  assert.equal(d.state.seq, d.journal.lastSeq, 'the closed store\'s file holds its last change');
  assert.deepEqual(d.lastChanges[0].keys, ['workspaces']);
  assert.equal(d.lastChanges[0].seq, d.journal.lastSeq);
  assert.equal(d.backups.count, 1);
  assert.deepEqual(d.recovery, []);
  assert.doesNotMatch(r.stdout, /Ada Lovelace|\/home\/ada\/project|"light"/, 'inspect shows no values');
  const h = cli(['inspect', file]);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^Store {4}.*config\.json$/m);
  assert.match(h.stdout, /^Version {2}2\.1\.0$/m);
  assert.match(h.stdout, /^ {2}settings +object +\d+ B$/m);
  assert.match(h.stdout, /Recovery: nothing to recover/);
});

test('history: entries with keys and diffs, --since, --limit, --json', async t => {
  const fx = fixture(t);
  const { file, times } = await makeStore(fx);
  const all = cli(['history', file, '--json']);
  assert.equal(all.status, 0, all.stderr);
  const ops = all.json.entries.map(e => [e.operation, e.keys]);
  assert.deepEqual(ops.slice(-5), [['set', ['settings']], ['set', ['settings.theme']], ['set', ['user']], ['delete', ['user']], ['set', ['workspaces']]]);
  const theme = all.json.entries.find(e => e.keys[0] === 'settings.theme');
  assert.deepEqual(theme.patch, [{ op: 'replace', path: '/settings/theme', value: 'light' }]);
  assert.deepEqual(theme.inverse, [{ op: 'replace', path: '/settings/theme', value: 'dark' }]);
  const since = cli(['history', file, '--since', new Date(times[1] + 1).toISOString(), '--json']);
  assert.deepEqual(since.json.entries.map(e => e.operation), ['delete', 'set']);
  assert.deepEqual(cli(['history', file, '--limit', '1', '--json']).json.entries.map(e => e.keys), [['workspaces']]);
  assert.deepEqual(cli(['history', file, '--since', '1h', '--json']).json.entries.length, all.json.entries.length);
  const human = cli(['history', file]);
  assert.equal(human.status, 0);
  assert.match(human.stdout, /^#\d+ {2}\S+Z {2}set {2}settings\.theme$/m);
  assert.match(human.stdout, /^ {4}~ \/settings\/theme: "dark" → "light"$/m);
  assert.match(human.stdout, /^ {4}- \/user \(was \{"name":"Ada Lovelace"\}\)$/m);
});

test('read-only commands change no byte and no mtime, create nothing and take no lock', async t => {
  const fx = fixture(t);
  const { dir, file } = await makeStore(fx);
  const before = tree(dir);
  for (const args of [['inspect', file], ['history', file], ['verify', file], ['backups', file], ['export', file], ['doctor', file], ['rollback', file, '--to', '1', '--dry-run'], ['inspect', file, '--json'], ['verify', file, '--json']]) {
    const r = cli(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(tree(dir), before, `${args.join(' ')} changed nothing`);
  }
  // nothing was repaired either: a damaged store stays exactly as damaged
  const journal = path.join(dir, 'storeHistory', 'config.json.journal');
  fs.appendFileSync(journal, 'garbage\n');
  fs.writeFileSync(file, '{"broken":');
  const damaged = tree(dir);
  for (const args of [['inspect', file], ['verify', file], ['history', file], ['doctor', file], ['backups', file]]) {
    cli(args);
    assert.deepEqual(tree(dir), damaged, `${args[0]} repaired nothing`);
  }
});

test('verify: a healthy store and its backups verify (exit 0); with --json every check is listed', async t => {
  const fx = fixture(t);
  const { file } = await makeStore(fx);
  const r = cli(['verify', file, '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.json.ok, true);
  const kinds = r.json.checks.map(c => c.kind);
  assert.ok(kinds.includes('chain') && kinds.includes('document') && kinds.includes('undo') && kinds.includes('backup'), kinds.join());
  const h = cli(['verify', file]);
  assert.match(h.stdout, /^OK: /);
});

test(`verify/inspect: a damaged document, a journal damaged at a random offset, a damaged backup (seed ${SEED})`, async t => {
  const random = rng(SEED);
  t.diagnostic(`CLI_SEED=${SEED}`);
  const fx = fixture(t);
  // the document
  {
    const { file } = await makeStore(fx);
    fs.writeFileSync(file, '{"settings": {"theme": "li');
    for (const c of ['verify', 'inspect']) {
      const r = cli([c, file, '--json']);
      assert.equal(r.status, 4, `${c}: ${r.stdout}${r.stderr}`);
    }
    const v = cli(['verify', file, '--json']).json;
    assert.equal(v.ok, false);
    assert.equal(v.checks.find(c => c.kind === 'document' && !c.ok).code, 'E_CORRUPT');
    const i = cli(['inspect', file]);
    assert.match(i.stdout, /\[E_CORRUPT\] The store file does not read/);
    assert.match(i.stderr, /^tad-store: E_CORRUPT: /m);
    assert.equal(cli(['export', file]).status, 4);
  }
  // the journal, at random offsets: a run of zeros (a sector lost in a power
  // cut) or of random bytes, anywhere before the last line's newline
  for (let round = 0; round < 4; round++) {
    const { dir, file } = await makeStore(fx);
    const journal = path.join(dir, 'storeHistory', 'config.json.journal');
    const bytes = fs.readFileSync(journal);
    const end = bytes.length - 1;
    const len = 8 + random.int(56);
    const at = random.int(end - 1);
    const zeros = random.int(2) === 0;
    for (let i = at; i < Math.min(at + len, end); i++) bytes[i] = zeros ? 0 : random.int(256);
    t.diagnostic(`journal: ${zeros ? 'zeros' : 'random bytes'} at ${at}..${Math.min(at + len, end)} of ${bytes.length}`);
    fs.writeFileSync(journal, bytes);
    const v = cli(['verify', file, '--json']);
    assert.notEqual(v.status, 0, 'a damaged journal does not verify');
    assert.equal(v.json.ok, false);
    assert.ok([1, 4].includes(v.status), `exit ${v.status}`);
    assert.ok(v.json.checks.some(c => !c.ok && ['E_JOURNAL', 'E_HISTORY_MISMATCH'].includes(c.code)), JSON.stringify(v.json.checks.filter(c => !c.ok)));
    const i = cli(['inspect', file, '--json']);
    assert.ok(i.json.recovery.some(x => x.code === 'E_JOURNAL' || x.code === 'E_HISTORY_MISMATCH'), JSON.stringify(i.json.recovery));
  }
  // a backup
  {
    const { dir, file } = await makeStore(fx);
    const backups = path.join(dir, 'backups');
    const b = fs.readdirSync(backups).find(f => f.endsWith('.json') && !f.endsWith('.meta.json'));
    const bytes = fs.readFileSync(path.join(backups, b));
    bytes[random.int(bytes.length)] ^= 0x01;
    fs.writeFileSync(path.join(backups, b), bytes);
    const v = cli(['verify', file, '--json']);
    assert.equal(v.status, 4, v.stdout);
    assert.deepEqual(v.json.checks.filter(c => !c.ok).map(c => [c.kind, c.subject, c.code]), [['backup', b, 'E_BACKUP_CORRUPT']]);
    const r = cli(['restore', file, b, '--json']);
    assert.equal(r.status, 4, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'E_BACKUP_CORRUPT');
  }
});

test('rollback: --dry-run shows the diff and changes nothing; --to seq and --to time restore the exact state', async t => {
  const fx = fixture(t);
  const { dir, file, times } = await makeStore(fx);
  const hist = cli(['history', file, '--json']).json.entries;
  const themeSeq = hist.find(e => e.keys[0] === 'settings.theme').seq;
  const before = tree(dir);
  const dry = cli(['rollback', file, '--to', String(themeSeq), '--dry-run', '--json']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.equal(dry.json.dryRun, true);
  assert.equal(dry.json.targetSeq, themeSeq);
  assert.equal(dry.json.reverted, hist[hist.length - 1].seq - themeSeq);
  assert.deepEqual(dry.json.patch.map(p => p.path).sort(), ['/workspaces']);
  assert.deepEqual(tree(dir), before, 'a dry run changes nothing');
  const dryHuman = cli(['rollback', file, '--to', String(themeSeq), '--dry-run']);
  assert.match(dryHuman.stdout, /would undo \d+ change\(s\)/);
  assert.match(dryHuman.stdout, /- \/workspaces/);

  const r = cli(['rollback', file, '--to', String(themeSeq), '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.json.success, true);
  assert.equal(r.json.seq, themeSeq);
  const after = readStore(dir);
  assert.deepEqual(after.settings, { theme: 'light', fontSize: 12 });
  assert.equal(after.workspaces, undefined);
  assert.equal(after.migrated, true);
  // by time: before the theme change
  const t2 = cli(['rollback', file, '--to', new Date(times[0]).toISOString()]);
  assert.equal(t2.status, 0, t2.stderr);
  assert.match(t2.stdout, /^Rolled back to /);
  assert.deepEqual(readStore(dir).settings, { theme: 'dark', fontSize: 12 });
  // the rollbacks are history entries and the store still verifies
  assert.deepEqual(cli(['history', file, '--limit', '2', '--json']).json.entries.map(e => e.operation), ['rollback', 'rollback']);
  assert.equal(cli(['verify', file]).status, 0);
  // before the kept history: E_HISTORY_TRUNCATED, exit 7, nothing changed
  // (the journal is trimmed to maxEntries once it holds twice as many, at least 32)
  const s = new Store({ cwd: dir, backups: false, history: { maxEntries: 2 } });
  for (let i = 0; i < 60; i++) s.set('n', i);
  await s.flush();
  s.close();
  const old = cli(['rollback', file, '--to', '1', '--json']);
  assert.equal(old.status, 7, old.stdout + old.stderr);
  assert.equal(old.json.error.code, 'E_HISTORY_TRUNCATED');
  assert.equal(cli(['rollback', file, '--to', '1', '--dry-run']).status, 7);
  assert.equal(readStore(dir).n, 59, 'nothing was rolled back');
});

test('backups and restore: list, restore by file name, unknown backup is exit 3', async t => {
  const fx = fixture(t);
  const { dir, file } = await makeStore(fx);
  const list = cli(['backups', file, '--json']);
  assert.equal(list.status, 0, list.stderr);
  assert.equal(list.json.backups.length, 1);
  const b = list.json.backups[0];
  assert.equal(b.kind, 'backup');
  assert.equal(b.reason, 'manual');
  assert.match(cli(['backups', file]).stdout, /^KIND +FILE +TIME +REASON +SEQ +SIZE\nbackup +backup-/);
  const r = cli(['restore', file, b.file, '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.json.restored, b.file);
  const state = readStore(dir);
  assert.equal(state.workspaces, undefined, 'the state of the backup (taken before workspaces was set)');
  assert.deepEqual(state.settings, { theme: 'light', fontSize: 12 });
  const after = cli(['backups', file, '--json']).json.backups;
  assert.ok(after.some(x => x.reason === 'before-restore'), 'the state before the restore was backed up');
  const missing = cli(['restore', file, 'backup-nope.json', '--json']);
  assert.equal(missing.status, 3);
  assert.equal(missing.json.error.code, 'E_BACKUP_NOT_FOUND');
  assert.equal(cli(['verify', file]).status, 0);
});

test('export: the document as JSON (the latest state); secrets stay sealed without the key, open with it; a wrong key is exit 5', async t => {
  const fx = fixture(t);
  const { file, state } = await makeStore(fx);
  const r = cli(['export', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), state);
  assert.equal(r.stdout.trimEnd(), fs.readFileSync(file, 'utf8'), 'the file\'s own format (tabs)');
  assert.deepEqual(JSON.parse(cli(['export', file, '--json']).stdout), state);

  const dir = fx.dir();
  const key = Buffer.alloc(32, 7);
  const keyFile = path.join(fx.dir(), 'key.bin');
  fs.writeFileSync(keyFile, key);
  const CANARY = 'sk-canary-4f1e9b2c7d';
  const s = new Store({ cwd: dir, backups: false, secretKeys: ['ai.apiKey'], secretKey: key });
  s.set('ai', { apiKey: CANARY, model: 'm1' });
  s.set('theme', 'dark');
  await s.createBackup('manual');
  await s.flush({ file: true });
  s.close();
  const sfile = path.join(dir, 'config.json');
  const sealed = cli(['export', sfile]);
  assert.equal(sealed.status, 0, sealed.stderr);
  assert.doesNotMatch(sealed.stdout, new RegExp(CANARY));
  assert.match(JSON.parse(sealed.stdout).ai.apiKey, /^\$tad-secret:v1:/);
  const ins = cli(['inspect', sfile, '--json']);
  assert.equal(ins.status, 0, 'inspect needs no key: ' + ins.stderr);
  assert.deepEqual(ins.json.document.encryptedKeys, ['ai.apiKey']);
  assert.ok(ins.json.recovery.some(r => r.what === 'encrypted-history'));
  assert.doesNotMatch(ins.stdout, new RegExp(CANARY));
  const open = cli(['export', sfile, '--key-file', keyFile]);
  assert.equal(open.status, 0, open.stderr);
  assert.deepEqual(JSON.parse(open.stdout), { ai: { apiKey: CANARY, model: 'm1' }, theme: 'dark' });
  const hex = path.join(fx.dir(), 'key.hex');
  fs.writeFileSync(hex, `${key.toString('hex')}\n`);
  assert.equal(JSON.parse(cli(['export', sfile, '--key-file', hex, '--key-encoding', 'hex']).stdout).ai.apiKey, CANARY);
  // history and verify need the key (the journal is sealed whole)
  const noKey = cli(['verify', sfile, '--json']);
  assert.equal(noKey.status, 5, noKey.stdout);
  assert.equal(cli(['history', sfile, '--json']).json.error.code, 'E_SECRET_KEY');
  assert.equal(cli(['verify', sfile, '--key-file', keyFile]).status, 0);
  const wrongFile = path.join(fx.dir(), 'wrong.bin');
  fs.writeFileSync(wrongFile, Buffer.alloc(32, 9));
  for (const c of ['export', 'history', 'verify', 'inspect']) {
    const w = cli([c, sfile, '--key-file', wrongFile, '--json']);
    assert.equal(w.status, 5, `${c}: ${w.stdout}${w.stderr}`);
    assert.doesNotMatch(w.stdout + w.stderr, new RegExp(CANARY));
  }
  const short = path.join(fx.dir(), 'short.bin');
  fs.writeFileSync(short, 'abc');
  assert.equal(cli(['export', sfile, '--key-file', short]).status, 5);
  // electron-store's encryptionKey: the whole file is encrypted
  const edir = fx.dir();
  const e = new Store({ cwd: edir, backups: false, encryptionKey: 'pw-1234' });
  e.set('token', CANARY);
  await e.flush({ file: true });
  e.close();
  const efile = path.join(edir, 'config.json');
  const pw = path.join(fx.dir(), 'pw.txt');
  fs.writeFileSync(pw, 'pw-1234');
  const encNoKey = cli(['export', efile, '--json']);
  assert.equal(encNoKey.status, 5, 'an encrypted file without its key is not reported as damaged');
  assert.equal(encNoKey.json.error.code, 'E_SECRET_KEY');
  assert.equal(cli(['verify', efile]).status, 5);
  assert.deepEqual(JSON.parse(cli(['export', efile, '--encryption-key-file', pw]).stdout), { token: CANARY });
  assert.equal(cli(['verify', efile, '--encryption-key-file', pw]).status, 0);
  // a rollback with the key keeps the secret sealed on disk
  const r2 = cli(['rollback', sfile, '--to', '1', '--key-file', keyFile]);
  assert.equal(r2.status, 0, r2.stderr);
  for (const f of Object.keys(tree(dir))) {
    if (!f.endsWith('/')) assert.ok(!fs.readFileSync(f).includes(CANARY), `${f} holds no secret in clear`);
  }
  assert.deepEqual(readStore(dir, { secretKeys: ['ai.apiKey'], secretKey: key }), { ai: { apiKey: CANARY, model: 'm1' } });
});

test('doctor: one report with health, sizes, timings, errors and platform, and no value or secret in it', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  const keyFile = path.join(fx.dir(), 'key.bin');
  fs.writeFileSync(keyFile, key);
  const SECRET = 'sk-live-SECRET-93ab1';
  const VALUES = ['Ada Lovelace', '/home/ada/private/thesis.tex', 'canary-value-77', '31415926535', 'old-value-gone'];
  const s = new Store({ cwd: dir, backups: false, secretKeys: ['ai.apiKey'], secretKey: key });
  s.set('user', { name: VALUES[0], recent: [VALUES[1]] });
  s.set('note', VALUES[4]);
  s.set('note', VALUES[2]);
  s.set('pi', 31415926535);
  s.set('size', 1024); // a number the report's own fields could equal: the report stays valid JSON
  s.set('ai.apiKey', SECRET);
  await s.createBackup('manual');
  await s.flush({ file: true });
  s.close();
  const file = path.join(dir, 'config.json');
  for (const extra of [[], ['--key-file', keyFile]]) {
    for (const json of [false, true]) {
      const r = cli(['doctor', file, ...extra, ...(json ? ['--json'] : [])]);
      assert.equal(r.status, 0, r.stderr);
      const all = r.stdout + r.stderr;
      for (const v of [...VALUES, SECRET, key.toString('utf8'), key.toString('hex'), key.toString('base64')]) {
        assert.ok(!all.includes(v), `the report holds ${v}: ${all}`);
      }
      assert.doesNotMatch(all, /\$tad-secret|~tad1:/, 'no sealed value either');
      assert.doesNotMatch(all, /\b[0-9a-f]{64}\b/, 'no hash of the content');
      if (json) {
        const d = r.json;
        assert.equal(d.platform.os, process.platform);
        assert.equal(d.tool.node, process.version);
        assert.equal(typeof d.timings.totalMs, 'number');
        assert.equal(d.store.document.keyCount, 5);
        assert.deepEqual(d.store.document.keys.map(k => k.key), ['user', 'note', 'pi', 'size', 'ai']);
        assert.equal(d.store.backups.count, 1);
        assert.equal(d.store.journal.changes, extra.length > 0 ? 6 : 0, 'the sealed journal is read with the key only');
        assert.equal(d.healthy, true);
        assert.equal(d.historyChecked, extra.length > 0, 'without the key the journal cannot be checked');
      } else {
        assert.match(r.stdout, /^# tad-store doctor report/);
        assert.match(r.stdout, /^platform: /m);
      }
    }
  }
  // a damaged store: still a report (exit 0), with the error codes and no values
  fs.writeFileSync(file, `{"user": {"name": "${VALUES[0]}"`);
  const d = cli(['doctor', file, '--json']);
  assert.equal(d.status, 0, d.stderr);
  assert.equal(d.json.healthy, false);
  assert.equal(d.json.store.document.error, 'E_CORRUPT');
  assert.ok(!d.stdout.includes(VALUES[0]));
});

test('verify draws a progress bar on stderr only when asked or on a terminal; --json stdout stays clean', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const s = new Store({ cwd: dir, backups: false, history: { maxEntries: 2000 } });
  for (let i = 0; i < 1500; i++) s.set(`k${i % 50}`, i);
  await s.flush({ file: true });
  s.close();
  const file = path.join(dir, 'config.json');
  const plain = cli(['verify', file, '--json']);
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stderr, '', 'no progress into a pipe');
  const forced = cli(['verify', file, '--json'], { env: { TAD_STORE_PROGRESS: 'always' } });
  assert.equal(forced.status, 0);
  assert.equal(forced.json.ok, true, 'stdout is only the JSON');
  assert.match(forced.stderr, /\rverifying \[#+-*\] +\d+% \d+\/1500/);
  assert.match(forced.stderr, /100% 1500\/1500/);
  // a real terminal (util-linux `script` gives the command a pty)
  const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (script.status === 0 && process.platform === 'linux') {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} verify ${JSON.stringify(file)} --json`;
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, TAD_STORE_PROGRESS: '' }, timeout: 120000 });
    assert.equal(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /"ok": true/);
  }
});

test('a new store whose file is not written yet (its changes durable in the journal) inspects and verifies clean; a file missing after a checkpoint does not', t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = path.join(dir, 'config.json');
  const journal = path.join(dir, 'storeHistory', 'config.json.journal');
  const s = new Store({ cwd: dir, backups: false });
  for (let i = 0; i < 5; i++) s.set(`k${i}`, { i });
  s.close();
  // what a new store leaves before its first checkpoint: the change lines only, no file
  const full = fs.readFileSync(journal, 'utf8');
  const changesOnly = full.split('\n').filter(l => l && !l.startsWith('{"checkpoint"')).map(l => `${l}\n`).join('');
  assert.notEqual(changesOnly, full, 'the closed store had a checkpoint line');
  fs.writeFileSync(journal, changesOnly);
  fs.rmSync(file);
  const i = cli(['inspect', file, '--json']);
  assert.equal(i.status, 0, i.stdout + i.stderr);
  assert.ok(JSON.stringify(i.json).includes('not-written-yet'), i.stdout);
  const v = cli(['verify', file, '--json']);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.equal(cli(['export', file, '--json']).json.k4.i, 4);
  // the journal names a file (a checkpoint) that is gone: damaged, as before
  fs.writeFileSync(journal, full);
  assert.equal(cli(['inspect', file, '--json']).status, 4);
  assert.notEqual(cli(['verify', file, '--json']).status, 0);
});

test('works on a store another process has open and keeps writing: reads, verify, export, history and a rollback', async t => {
  const fx = fixture(t);
  const dir = fx.dir();
  const file = path.join(dir, 'config.json');
  const child = spawn(process.execPath, ['-e', `
    const Store = require(${JSON.stringify(path.join(__dirname, '..'))});
    const s = new Store({ cwd: ${JSON.stringify(dir)}, backups: false, history: { maxEntries: 100000 } });
    s.set('base', 'x');
    s.flushSync();
    let i = 0;
    process.stdout.write('ready\\n');
    process.stdin.on('data', () => { s.close(); process.stdout.write('closed ' + i + '\\n'); process.exit(0); });
    // at most 20,000 rounds (40,001 changes): the rollback to change 1 below needs the whole history,
    // which history.maxEntries (100,000) keeps; a fast writer on a slow machine once outran it
    const tick = () => { if (i >= 20000) return; s.set('counter', ++i); s.set('k' + (i % 7), { i }); if (i % 10 === 0) s.flushSync(); setImmediate(tick); };
    tick();
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the writer did not start')), 60000);
    child.stdout.on('data', d => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const before = fs.readFileSync(path.join(dir, 'storeHistory', 'config.json.journal')).length;
  for (let round = 0; round < 3; round++) {
    const v = await cliAsync(['verify', file, '--json']);
    assert.equal(v.status, 0, `verify while another process writes: ${v.stdout}${v.stderr}`);
    const i = await cliAsync(['inspect', file, '--json']);
    assert.equal(i.status, 0, `inspect while another process writes: ${i.stdout}${i.stderr}`);
    assert.ok(i.json.journal.changes > 0);
    const e = await cliAsync(['export', file, '--json']);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(JSON.parse(e.stdout).base, 'x');
    const h = await cliAsync(['history', file, '--limit', '3', '--json']);
    assert.equal(h.status, 0, h.stderr);
  }
  // the writer kept going meanwhile (we never blocked it)
  assert.ok(fs.readFileSync(path.join(dir, 'storeHistory', 'config.json.journal')).length > before);
  // a rollback while it writes: the rollback is one more change among the writer's
  const r = await cliAsync(['rollback', file, '--to', '1', '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.json.success, true);
  child.stdin.write('stop\n');
  await new Promise(resolve => child.on('exit', resolve));
  const entries = cli(['history', file, '--json']).json.entries;
  assert.ok(entries.some(e => e.operation === 'rollback'), 'the rollback is in the shared history');
  const v = cli(['verify', file, '--json']);
  assert.equal(v.status, 0, `verify after the writer closed: ${v.stdout}${v.stderr}`);
});

test('a held lock that does not clear: rollback and restore fail with E_LOCKED, exit 6, and change nothing', { skip: !PYTHON_FLOCK && 'needs python3 with fcntl (the POSIX flock holder)' }, async t => {
  const fx = fixture(t);
  const { dir, file, state } = await makeStore(fx);
  const lockFile = path.join(dir, 'storeHistory', 'config.json.lock');
  const holder = spawn('python3', ['-c', `import fcntl, time
f = open(${JSON.stringify(lockFile)}, 'a')
fcntl.flock(f, fcntl.LOCK_EX)
print('locked', flush=True)
time.sleep(600)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => holder.kill('SIGKILL'));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the lock holder did not start')), 30000);
    holder.stdout.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  // the read-only commands do not need the lock
  assert.equal((await cliAsync(['verify', file])).status, 0);
  const r = await cliAsync(['rollback', file, '--to', '1', '--json']);
  assert.equal(r.status, 6, r.stdout + r.stderr);
  assert.equal(r.json.error.code, 'E_LOCKED');
  assert.match(r.stderr, /^tad-store: E_LOCKED: /m);
  const b = cli(['backups', file, '--json']).json.backups[0];
  const rs = await cliAsync(['restore', file, b.file, '--json']);
  assert.equal(rs.status, 6, rs.stdout + rs.stderr);
  holder.kill('SIGKILL');
  await new Promise(resolve => holder.on('exit', resolve));
  assert.deepEqual(readStore(dir), state, 'nothing changed');
});
