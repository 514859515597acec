'use strict';

/**
 * Secrets at rest (`secretKeys` + `secretKey`), electron-store 8's
 * `encryptionKey`, key rotation, and file modes.
 *
 * The canary scans read every byte of every file under the store's
 * directories (document, journal, lock, backups and their metadata, migration
 * snapshots, quarantined copies, and — after a kill -9 — temp files caught
 * half-written) and look for the canary secret, the key, and the Merkle hashes
 * the history records (which cover the secret: finding one on disk would let
 * anyone confirm a guessed secret).
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const { Store, fixture, rng, NO_MODES, fileMode } = require('./helpers.js');
const { registerStoreIpc } = require('../ipc');
const Conf = require('conf');

const CHILD = path.join(__dirname, 'fixtures', 'secret-child.js');
const SEED = Number(process.env.SECRET_SEED || 20261202);

function allFiles(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) allFiles(p, out);
    else out.push(p);
  }
  return out;
}

/** Every file under `dir` that contains one of `needles` (strings or Buffers). */
function scan(dir, needles) {
  const hits = [];
  const files = allFiles(dir);
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    for (const n of needles) {
      if (bytes.includes(typeof n === 'string' ? Buffer.from(n) : n)) hits.push(`${path.relative(dir, f)} holds ${typeof n === 'string' ? JSON.stringify(n) : 'the key bytes'}`);
    }
  }
  return { hits, files };
}

function assertClean(dir, needles, what) {
  const { hits, files } = scan(dir, needles);
  assert.deepEqual(hits, [], `${what}: the canary leaked (${files.length} files scanned)`);
  return files.length;
}

/** `{ relative path: sha256 }` of every file under `dir`. */
function digest(dir) {
  const out = {};
  for (const f of allFiles(dir)) out[path.relative(dir, f)] = crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  return out;
}

const KEY = crypto.randomBytes(32);
const KEY2 = crypto.randomBytes(32);

function secretStore(fx, cwd, extra = {}) {
  return fx.open({ cwd, secretKeys: ['ai.apiKey', 'tokens'], secretKey: KEY, backups: { onStart: false, interval: 0 }, ...extra });
}

/** The Merkle hashes the history records (they cover the secrets). */
async function historyHashes(store) {
  const out = new Set();
  for (const e of (await store.getHistorySummary()).entries) {
    for (const v of Object.values(e)) if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) out.add(v);
  }
  assert.ok(out.size > 0, 'the history records hashes');
  return [...out];
}

test('a canary set through every API is in no file the store writes', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const canary = `CANARY-${crypto.randomBytes(6).toString('hex')}`;
  const c = (what) => `${canary}-${what}`;
  // defaults and a migration write secrets too
  let s = secretStore(fx, cwd, { defaults: { ai: { apiKey: c('defaults'), model: 'gpt' } }, projectVersion: '0.9.0' });
  assert.equal(s.get('ai.apiKey'), c('defaults'));
  await s.flush();
  s.close();
  s = secretStore(fx, cwd, {
    projectVersion: '1.0.0',
    migrations: { '1.0.0': (st) => st.set('tokens', { gh: c('migration') }) },
  });
  assert.equal(s.get('tokens.gh'), c('migration'));
  assert.ok(fs.readdirSync(path.join(cwd, 'storeHistory', 'migrations')).length > 0, 'the migration left a snapshot');
  const needles = [canary, KEY, KEY.toString('hex'), KEY.toString('base64')];
  s.set('ai.apiKey', c('set'));
  s.set({ ai: { apiKey: c('set-object'), model: 'x' } });
  s.setMultiple({ 'tokens.gitlab': c('setMultiple'), theme: 'dark' });
  const before = Date.now();
  await s.flush();
  const backup = await s.createBackup('canary');
  await new Promise(r => setTimeout(r, 5));
  s.store = { ...s.store, ai: { apiKey: c('store=') } };
  s.set('ai', { apiKey: c('parent-set'), nested: { deep: 1 } });
  // through the renderer bridge
  const ipcMain = { handlers: new Map(), handle(ch, fn) { this.handlers.set(ch, fn); }, removeHandler(ch) { this.handlers.delete(ch); } };
  const unregister = registerStoreIpc(ipcMain, s, { windows: () => [] });
  const sender = { id: 1, send() {}, isDestroyed: () => false, once() {}, on() {} };
  await ipcMain.handlers.get('store-set')({ sender, senderFrame: { url: 'app://main/' } }, 'tokens.ipc', c('ipc'));
  assert.equal(s.get('tokens.ipc'), c('ipc'));
  unregister();
  await s.flush();
  const hashes = await historyHashes(s);
  let n = assertClean(cwd, [...needles, ...hashes], 'after set/setMultiple/store=/IPC');
  // restore and rollback bring older secrets back
  await s.restoreBackup(backup);
  assert.equal(s.get('ai.apiKey'), c('set-object'));
  await s.rollbackToTimestamp(before - 1);
  await s.flush({ file: true });
  n += assertClean(cwd, [...needles, ...(await historyHashes(s))], 'after restore/rollback');
  s.close();
  // a refused external edit holding a secret in clear is kept aside sealed
  fs.writeFileSync(path.join(cwd, 'config.json'), `{"ai": {"apiKey": "${c('hand-edit')}"`);
  const s2 = secretStore(fx, cwd, { clearInvalidConfig: true });
  assert.ok(s2.get('ai.apiKey').startsWith(canary), 'the store rebuilt from its history');
  await s2.flush({ file: true });
  assert.ok(fs.readdirSync(cwd).some(f => f.includes('.corrupt-')), 'the damaged file was kept aside');
  assertClean(cwd, needles, 'after a damaged file was quarantined');
  // and everything reads back
  const text = fs.readFileSync(path.join(cwd, 'config.json'), 'utf8');
  assert.match(text, /"\$tad-secret:v1:/);
  assert.match(text, /"model"|"nested"/, 'the rest of the document stays readable JSON');
  s2.close();
  assert.ok(n > 10, `scanned ${n} files`);
});

test('kill -9 at random moments: no file, temp files included, ever holds the canary', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const canary = `CANARY-${crypto.randomBytes(6).toString('hex')}`;
  const rand = rng(SEED);
  let tempsSeen = 0;
  const rounds = Number(process.env.SECRET_ROUNDS || 10);
  for (let round = 0; round < rounds; round++) {
    const child = spawn(process.execPath, [CHILD, cwd, 'write', canary, KEY.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acks = 0;
    child.stdout.on('data', d => { acks += String(d).split('\n').filter(l => l.startsWith('ack')).length; });
    // odd rounds: killed the moment a temp file (a document, backup or
    // metadata write in progress) appears; even rounds: at a random moment
    let delay = 30 + rand.int(600);
    if (round % 2 === 1) {
      const t0 = Date.now();
      await new Promise(r => {
        const poll = setInterval(() => {
          let hit = false;
          try { hit = allFiles(cwd).some(f => /\.tmp$/.test(f)); } catch {}
          if (hit || Date.now() - t0 > 5000) { clearInterval(poll); r(); }
        }, 1);
      });
      delay = Date.now() - t0;
    } else {
      await new Promise(r => setTimeout(r, delay));
    }
    child.kill('SIGKILL');
    await new Promise(r => child.once('exit', r));
    // scanned before anything reopens (temp files are still there)
    const temps = allFiles(cwd).filter(f => /\.tmp|~|\.tad-tmp/.test(path.basename(f)));
    tempsSeen += temps.length;
    assertClean(cwd, [canary, KEY], `round ${round} (killed after ${delay} ms, ${acks} acks, ${temps.length} temp files)`);
    const s = secretStore(fx, cwd);
    if (acks > 0) assert.ok(String(s.get('ai.apiKey') ?? s.get('tokens.gh')).startsWith(canary));
    s.close();
  }
  t.diagnostic(`temp files caught mid-write: ${tempsSeen}`);
  assert.ok(tempsSeen > 0, 'some kill caught a write in progress');
});

test('a wrong, missing or malformed key is E_SECRET_KEY and changes no byte', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const s = secretStore(fx, cwd);
  s.set('ai.apiKey', 'sk-live');
  s.set('theme', 'dark');
  await s.createBackup('x');
  s.close();
  const before = digest(cwd);
  const attempts = [
    { secretKey: KEY2 },
    { secretKey: () => KEY2 },
    { secretKey: undefined },
    { secretKey: 'a string key' },
    { secretKey: Buffer.alloc(8) },
    { secretKey: () => { throw new Error('safeStorage unavailable'); } },
    { secretKey: async () => KEY },
  ];
  for (const a of attempts) {
    assert.throws(() => new Store({ cwd, secretKeys: ['ai.apiKey', 'tokens'], backups: false, ...a }), (e) => e.code === 'E_SECRET_KEY', JSON.stringify(Object.keys(a)));
  }
  // without any key the store is refused too (its journal is sealed): never
  // opened as damaged, never "repaired"
  assert.throws(() => new Store({ cwd, backups: false }), { code: 'E_SECRET_KEY' });
  assert.deepEqual(digest(cwd), before, 'the failed opens and the plain read wrote nothing');
  // a key as a function (e.g. from safeStorage) works
  const ok = new Store({ cwd, secretKeys: ['ai.apiKey', 'tokens'], secretKey: () => KEY, backups: false });
  assert.equal(ok.get('ai.apiKey'), 'sk-live');
  // a second instance in this process with another key is refused
  assert.throws(() => new Store({ cwd, secretKeys: ['ai.apiKey', 'tokens'], secretKey: KEY2, backups: false }), { code: 'E_SECRET_KEY' });
  ok.close();
  // a key removed from secretKeys: its value still reads (and is written in
  // clear from then on, as the app asked); a key added is encrypted at once
  const moved = new Store({ cwd, secretKeys: ['theme'], secretKey: KEY, backups: false });
  assert.equal(moved.get('ai.apiKey'), 'sk-live');
  assert.equal(moved.get('theme'), 'dark');
  moved.close();
  assert.ok(!fs.readFileSync(path.join(cwd, 'config.json'), 'utf8').includes('dark'));
  assert.throws(() => new Store({ cwd: fx.dir(), secretKeys: 'ai.apiKey', secretKey: KEY }), TypeError);
  assert.throws(() => new Store({ cwd: fx.dir(), secretKeys: ['x'], secretKey: KEY, encryptionKey: 'k' }), { code: 'E_UNSUPPORTED' });
});

test('history, rollback, backups and restore work exactly with secrets', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const s = secretStore(fx, cwd);
  const states = [];
  for (let i = 0; i < 20; i++) {
    s.set('ai.apiKey', `key-${i}`);
    if (i % 3 === 0) s.set('tokens', { n: i, list: [i, `t${i}`] });
    states.push({ seq: s.getStoreInfo().seq, store: s.store });
  }
  await s.flush();
  const b = await s.createBackup('mid');
  for (const target of [states[3], states[11], states[0]]) {
    await s.rollbackToSeq(target.seq);
    assert.deepEqual(s.store, target.store);
  }
  await s.restoreBackup(b);
  assert.deepEqual(s.store, states[19].store);
  await s.flush();
  s.close();
  const r = secretStore(fx, cwd);
  assert.deepEqual(r.store, states[19].store);
  assert.ok(r.getHealthReport().healthy !== false);
  r.close();
});

test('rotateSecretKey re-encrypts everything; the old key no longer opens it', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const canary = `CANARY-${crypto.randomBytes(6).toString('hex')}`;
  const first = secretStore(fx, cwd, { projectVersion: '0.1.0' });
  first.set('seed', 1);
  first.close();
  const s = secretStore(fx, cwd, { projectVersion: '1.0.0', migrations: { '1.0.0': st => st.set('tokens.m', `${canary}-m`) } });
  for (let i = 0; i < 10; i++) s.set('ai.apiKey', `${canary}-${i}`);
  await s.flush();
  const b1 = await s.createBackup('before rotation');
  s.set('ai.apiKey', `${canary}-last`);
  await s.flush();
  const seqBefore = s.getStoreInfo().seq;
  const historyBefore = (await s.getHistorySummary()).totalEntries;
  const report = s.rotateSecretKey(KEY2);
  assert.equal(report.document, true);
  assert.ok(report.journalEntries >= 11, JSON.stringify(report));
  assert.ok(report.backups.rotated >= 1 && report.snapshots >= 1, JSON.stringify(report));
  assert.deepEqual(report.backups.failed, []);
  assert.equal(s.get('ai.apiKey'), `${canary}-last`);
  s.set('theme', 'after');
  await s.flush({ file: true });
  s.close();
  assert.ok(!fs.existsSync(path.join(cwd, 'storeHistory', 'config.json.rekey')));
  assert.throws(() => new Store({ cwd, secretKeys: ['ai.apiKey', 'tokens'], secretKey: KEY, backups: false }), { code: 'E_SECRET_KEY' });
  const r = new Store({ cwd, secretKeys: ['ai.apiKey', 'tokens'], secretKey: KEY2, backups: { onStart: false, interval: 0 } });
  assert.equal(r.get('theme'), 'after');
  assert.equal((await r.getHistorySummary()).totalEntries, historyBefore + 1);
  await r.rollbackToSeq(seqBefore - 1);
  assert.equal(r.get('ai.apiKey'), `${canary}-9`);
  await r.restoreBackup(b1);
  assert.equal(r.get('ai.apiKey'), `${canary}-9`);
  assert.deepEqual((await r.listMigrationBackups()).length > 0, true);
  await r.flush();
  assertClean(cwd, [canary, KEY, KEY2], 'after rotation');
  r.close();
  // a plain store opened with a key for the first time is encrypted at once
  const cwd2 = fx.dir();
  const p = new Store({ cwd: cwd2, backups: { onStart: false, interval: 0 } });
  p.set('ai.apiKey', `${canary}-was-plain`);
  await p.createBackup('plain');
  p.set('ai.apiKey', `${canary}-was-plain-2`);
  p.close();
  assert.ok(scan(cwd2, [canary]).hits.length > 0, 'the plain store held it in clear');
  const e = secretStore(fx, cwd2);
  assert.equal(e.get('ai.apiKey'), `${canary}-was-plain-2`);
  e.close();
  assertClean(cwd2, [canary], 'a plain store after its first open with secretKeys');
});

test('kill -9 during rotateSecretKey: the store opens with either key, complete', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const canary = `CANARY-${crypto.randomBytes(6).toString('hex')}`;
  const keys = { A: KEY, B: KEY2 };
  const rand = rng(SEED + 1);
  let last = 'A';
  let unfinished = 0;
  const rounds = Number(process.env.SECRET_ROUNDS || 8);
  for (let round = 0; round < rounds; round++) {
    const other = last === 'A' ? 'B' : 'A';
    const child = spawn(process.execPath, [CHILD, cwd, 'rotate', canary, keys[last].toString('hex'), keys[other].toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', d => { out += d; });
    await new Promise(r => { const i = setInterval(() => { if (out.includes('ready')) { clearInterval(i); r(); } }, 2); });
    await new Promise(r => setTimeout(r, 5 + rand.int(150)));
    child.kill('SIGKILL');
    await new Promise(r => child.once('exit', r));
    const done = out.split('\n').filter(l => l.startsWith('rotated ')).map(l => l.slice(8));
    // the key of the last acknowledged rotation, or the one in progress
    const acked = done.length ? (done[done.length - 1] === 'B' ? other : last) : last;
    const next = acked === 'A' ? 'B' : 'A';
    const record = fs.existsSync(path.join(cwd, 'storeHistory', 'config.json.rekey'));
    if (record) unfinished++;
    assertClean(cwd, [canary, KEY, KEY2], `round ${round}`);
    // open with a random one of the two keys when a rotation was in flight
    const tryOrder = rand() < 0.5 ? [acked, next] : [next, acked];
    let opened = null;
    for (const k of tryOrder) {
      try {
        opened = new Store({ cwd, secretKeys: ['ai.apiKey', 'tokens'], secretKey: keys[k], backups: { onStart: false, interval: 0 } });
        last = k;
        break;
      } catch (e) {
        assert.equal(e.code, 'E_SECRET_KEY', e.message);
      }
    }
    assert.ok(opened, `round ${round}: neither key opened the store`);
    assert.equal(opened.get('ai.apiKey'), `${canary}-rotating`);
    assert.ok(!fs.existsSync(path.join(cwd, 'storeHistory', 'config.json.rekey')), 'the open finished the rotation');
    opened.close();
    // and after that open, only that key opens it
    const wrong = last === 'A' ? 'B' : 'A';
    assert.throws(() => new Store({ cwd, secretKeys: ['ai.apiKey', 'tokens'], secretKey: keys[wrong], backups: false }), { code: 'E_SECRET_KEY' });
  }
  t.diagnostic(`rotations caught unfinished: ${unfinished} of ${rounds}`);
});

test('encryptionKey: files conf@10 writes open in tad-store and the reverse; no clear text anywhere', async t => {
  const fx = fixture(t);
  const canary = `CANARY-${crypto.randomBytes(6).toString('hex')}`;
  for (const key of ['abc123', Buffer.from('bin\x00ary-key'), new Uint8Array([1, 2, 3, 250])]) {
    const cwd = fx.dir();
    const conf = new Conf({ cwd, encryptionKey: key });
    conf.set('foo', canary);
    conf.set('nested.deep', { list: [1, 'é', '🦄'] });
    const fromConf = conf.store;
    assert.ok(!fs.readFileSync(conf.path).includes(canary));
    const s = fx.open({ cwd, encryptionKey: key, backups: { onStart: false, interval: 0 } });
    assert.deepEqual(s.store, fromConf);
    s.set('bar', `${canary}-tad`);
    s.set('foo', `${canary}-2`);
    await s.createBackup('x');
    await s.flush({ file: true });
    const bytes = fs.readFileSync(s.path);
    assert.equal(bytes[16], 0x3a, 'iv:ciphertext layout');
    assertClean(cwd, [canary], 'encryptionKey store');
    const again = new Conf({ cwd, encryptionKey: key });
    assert.deepEqual(again.store, s.store, 'conf@10 reads what tad-store wrote');
    // a backup is in the same format: conf reads it too
    const [b] = await s.listBackups();
    const asConf = new Conf({ cwd: path.dirname(b.path), configName: path.basename(b.path, '.json'), encryptionKey: key });
    assert.equal(asConf.get('bar'), `${canary}-tad`);
    s.close();
  }
  // a wrong key: E_SECRET_KEY, nothing changed
  const cwd = fx.dir();
  new Conf({ cwd, encryptionKey: 'right' }).set('a', 1);
  const before = digest(cwd);
  assert.throws(() => new Store({ cwd, encryptionKey: 'wrong', backups: false }), { code: 'E_SECRET_KEY' });
  // (opening made its empty lock and journal files, nothing else)
  const after = digest(cwd);
  for (const f of Object.keys(after)) if (!(f in before)) assert.equal(fs.statSync(path.join(cwd, f)).size, 0, f);
  for (const f of Object.keys(before)) assert.equal(after[f], before[f], f);
  // upgrade: a plain file opens, and is encrypted from then on
  const up = fx.dir();
  const plain = new Store({ cwd: up, backups: false });
  plain.set('foo', canary);
  plain.close();
  const enc = fx.open({ cwd: up, encryptionKey: 'abc123', backups: false });
  assert.equal(enc.get('foo'), canary);
  await enc.flush();
  enc.close();
  assertClean(up, [canary], 'a plain store after its first open with encryptionKey');
  assert.equal(new Conf({ cwd: up, encryptionKey: 'abc123' }).get('foo'), canary);
  // rotating the password re-encrypts the file in electron-store's format
  const rk = new Store({ cwd: up, encryptionKey: 'abc123', backups: false });
  const rep = rk.rotateSecretKey('new password');
  assert.equal(rep.document, true);
  rk.close();
  assert.equal(new Conf({ cwd: up, encryptionKey: 'new password' }).get('foo'), canary);
  assert.throws(() => new Store({ cwd: up, encryptionKey: 'abc123', backups: false }), { code: 'E_SECRET_KEY' });
  const rotated = new Store({ cwd: up, encryptionKey: 'new password', backups: false });
  assert.equal(rotated.get('foo'), canary);
  rotated.close();
  assertClean(up, [canary], 'after rotating the encryptionKey');
});

test('store files are 0600 and store directories 0700 under umask 000, looser modes tightened', { skip: NO_MODES }, () => {
  const fx = { dirs: [] };
  const cwd = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'tad-mode-'));
  // a directory and files left loose by an earlier version or another tool
  fs.mkdirSync(path.join(cwd, 'storeHistory'), { mode: 0o777 });
  fs.chmodSync(path.join(cwd, 'storeHistory'), 0o777);
  fs.writeFileSync(path.join(cwd, 'config.json'), '{"a":1}', { mode: 0o666 });
  fs.chmodSync(path.join(cwd, 'config.json'), 0o666);
  const script = `
    process.umask(0);
    const Store = require(${JSON.stringify(path.join(__dirname, '..'))});
    (async () => {
      const s = new Store({ cwd: ${JSON.stringify(cwd)}, secretKeys: ['k'], secretKey: Buffer.alloc(32, 7), projectVersion: '1.0.0',
        migrations: { '1.0.0': st => st.set('k', 'v') } });
      for (let i = 0; i < 5; i++) s.set('n', i);
      await s.createBackup('x');
      s.close();
    })().catch(e => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const bad = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const mode = fileMode(p);
      if (e.isDirectory()) {
        if (mode !== 0o700) bad.push(`${path.relative(cwd, p)}/ is 0${mode.toString(8)}`);
        walk(p);
      } else if (mode !== 0o600) bad.push(`${path.relative(cwd, p)} is 0${mode.toString(8)}`);
    }
  };
  walk(cwd);
  const dirs = ['storeHistory', 'backups', path.join('storeHistory', 'migrations')];
  for (const d of dirs) assert.ok(fs.existsSync(path.join(cwd, d)), `${d} exists`);
  assert.deepEqual(bad, []);
  fs.rmSync(cwd, { recursive: true, force: true });
  void fx;
});
