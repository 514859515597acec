'use strict';

/**
 * tad-store/safe-storage (issue 21, part 3): the `secretKeys` key kept sealed
 * by Electron's safeStorage, under a stand-in `electron` module
 * (fixtures/electron-standin.js) whose safeStorage really encrypts
 * (AES-256-GCM under a fixed "OS keyring" key) and can be made unavailable,
 * `basic_text`, `unknown`, throwing, asynchronous-only, or another machine's.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, fork } = require('node:child_process');

const electron = require('./fixtures/electron-standin.js').useStandIn();
const { Store, fixture, assertMode, rng } = require('./helpers.js');
const { safeStorageKey, safeStorageKeySync, rotateSafeStorageKey, rotateSafeStorageKeySync, safeStorageKeyPath } = require('../safe-storage');
const { keyIdOf } = require('../lib/safe-storage.js');
const { DEADLINE } = require('./renderer-harness.js');

const { standIn } = electron;
const CHILD = path.join(__dirname, 'fixtures', 'safe-storage-child.js');
const SEED = Number(process.env.SAFE_STORAGE_SEED || 20261207);

function setup(t, variant = {}) {
  const fx = fixture(t);
  const cwd = fx.dir();
  standIn.configure(variant);
  t.after(() => standIn.configure({}));
  const options = { cwd, secretKeys: ['ai.apiKey'], backups: false };
  return { fx, cwd, options, keyFile: path.join(cwd, 'config.json.key') };
}

const read = f => fs.readFileSync(f, 'utf8');
const bytesOf = (dir) => {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.lock')) out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
};

/** A store with a secret in it, opened and closed with `key`. */
function storeWithSecret(options, key, secret = 'sk-live-123') {
  const store = new Store({ ...options, secretKey: key });
  store.set('ai.apiKey', secret);
  store.set('plain', 1);
  store.close();
}

test('the first start makes a random 32-byte key, sealed beside the store (0600); later starts open the same key', async t => {
  const { cwd, options, keyFile } = setup(t);
  const key = await safeStorageKey(options);
  assert.ok(Buffer.isBuffer(key) && key.length === 32);
  assert.equal(safeStorageKeyPath(options), keyFile);
  assertMode(keyFile, 0o600);
  const record = JSON.parse(read(keyFile));
  assert.equal(record.format, 'tad-store/safe-storage-key');
  assert.equal(record.version, 1);
  assert.equal(record.protection, 'os');
  assert.equal(record.backend, 'gnome_libsecret');
  assert.equal(record.keyId, keyIdOf(key));
  assert.ok(!read(keyFile).includes(key.toString('base64')) && !fs.readFileSync(keyFile).includes(key), 'the key is not in the file in clear');
  assert.deepStrictEqual(fs.readdirSync(cwd), ['config.json.key'], 'no temp file left');
  assert.ok(standIn.calls().includes('encryptStringAsync'), 'the asynchronous API when there is one');
  // the store uses it; the next start opens the same key
  storeWithSecret(options, key);
  const again = await safeStorageKey(options);
  assert.ok(again.equals(key));
  const sync = safeStorageKeySync(options);
  assert.ok(sync.equals(key));
  const store = new Store({ ...options, secretKey: () => safeStorageKeySync(options) });
  assert.equal(store.get('ai.apiKey'), 'sk-live-123');
  store.close();
  // the store's sealed values carry the key's id, which the key file records
  assert.match(read(path.join(cwd, 'config.json')), new RegExp(`\\$tad-secret:v1:${record.keyId}:`));
  // outside the default names: another store name and extension, a key file given
  const other = await safeStorageKey({ cwd, name: 'prefs', fileExtension: 'cfg' });
  assert.ok(fs.existsSync(path.join(cwd, 'prefs.cfg.key')));
  assert.ok(!other.equals(key));
  await safeStorageKey({ cwd, name: 'third', keyFile: 'keys/main.key' });
  assert.ok(fs.existsSync(path.join(cwd, 'keys', 'main.key')));
  // a key file named elsewhere for a store that holds encrypted data: not a new key
  await assert.rejects(safeStorageKey({ cwd, keyFile: 'keys/other.key' }), err => err.code === 'E_SECRET_KEY' && err.reason === 'missing');
});

test('the default directory is Electron\'s userData; the synchronous API when there is no asynchronous one; none at all (Electron 46) is E_SAFE_STORAGE for the sync call', async t => {
  const { cwd } = setup(t, { async: false });
  standIn.setUserData(cwd);
  t.after(() => standIn.setUserData(null));
  const key = await safeStorageKey({ name: 'tad-config', secretKeys: ['ai.apiKey'] });
  assert.ok(fs.existsSync(path.join(cwd, 'tad-config.json.key')));
  assert.ok(standIn.calls().includes('encryptString') && !standIn.calls().includes('encryptStringAsync'));
  assert.equal(safeStorageKeyPath({ name: 'tad-config' }), path.join(cwd, 'tad-config.json.key'));
  standIn.configure({ sync: false });
  assert.throws(() => safeStorageKeySync({ name: 'tad-config' }), err => err.code === 'E_SAFE_STORAGE' && err.reason === 'unsupported');
  const viaAsync = await safeStorageKey({ name: 'tad-config' });
  assert.ok(viaAsync.equals(key), 'data the synchronous API sealed opens with the asynchronous one');
  // outside Electron without a cwd: a TypeError, not a guess
  standIn.setUserData(null);
  await assert.rejects(safeStorageKey({ name: 'x' }), TypeError);
  await assert.rejects(safeStorageKey({ cwd, safeStorage: 'nope' }), TypeError);
  await assert.rejects(safeStorageKey({ cwd, onInsecure: 'ignore' }), TypeError);
});

test('refused when safeStorage cannot protect the key: unavailable, basic_text, unknown (before ready), or throwing; nothing is written', async t => {
  const cases = [
    [{ available: false }, 'unavailable'],
    [{ backend: 'basic_text' }, 'basic_text'],
    [{ backend: 'unknown' }, 'not-ready'],
    [{ throws: 'isAsyncEncryptionAvailable' }, 'failed', 'async'],
    [{ throws: 'encryptStringAsync' }, 'failed', 'async'],
    [{ throws: 'isEncryptionAvailable' }, 'failed', 'sync'],
    [{ throws: 'encryptString' }, 'failed', 'sync'],
    [{ throws: 'getSelectedStorageBackend' }, 'failed'],
  ];
  for (const [variant, reason, only] of cases) {
    const { cwd, options } = setup(t, variant);
    if (only !== 'sync') await assert.rejects(safeStorageKey(options), err => err.code === 'E_SAFE_STORAGE' && err.reason === reason, JSON.stringify(variant));
    if (only !== 'async') assert.throws(() => safeStorageKeySync(options), err => err.code === 'E_SAFE_STORAGE' && err.reason === reason, `sync ${JSON.stringify(variant)}`);
    assert.deepStrictEqual(fs.readdirSync(cwd), [], `${JSON.stringify(variant)}: no file`);
  }
  // 'unknown' is refused even when insecure backends are only warned about
  const { options } = setup(t, { backend: 'unknown' });
  await assert.rejects(safeStorageKey({ ...options, onInsecure: 'warn', onWarning: () => {} }), err => err.reason === 'not-ready');
  // no getSelectedStorageBackend (macOS, Windows): the OS keystore
  const mac = setup(t, { backend: null });
  await safeStorageKey(mac.options);
  assert.equal(JSON.parse(read(mac.keyFile)).protection, 'os');
});

test('onInsecure: \'warn\' goes on, says so, and seals the key better as soon as a real backend is there', async t => {
  const { options, keyFile } = setup(t, { backend: 'basic_text' });
  const warnings = [];
  const warn = { ...options, onInsecure: 'warn', onWarning: w => warnings.push(w) };
  const key = await safeStorageKey(warn);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].code, 'E_SAFE_STORAGE');
  assert.equal(warnings[0].reason, 'basic_text');
  assert.equal(JSON.parse(read(keyFile)).protection, 'basic_text');
  storeWithSecret(options, key);
  // a secret service appears: same key, sealed by it now
  standIn.configure({ backend: 'kwallet6' });
  const sealedBefore = read(keyFile);
  const again = await safeStorageKey(options);
  assert.ok(again.equals(key));
  const record = JSON.parse(read(keyFile));
  assert.equal(record.protection, 'os');
  assert.equal(record.backend, 'kwallet6');
  assert.notEqual(read(keyFile), sealedBefore);
  assertMode(keyFile, 0o600);
  // encryption unavailable + warn: the key is kept in clear (0600), with a warning through process.emitWarning
  const clear = setup(t, { available: false });
  const emitted = [];
  const onWarning = w => emitted.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const plainKey = safeStorageKeySync({ ...clear.options, onInsecure: 'warn' });
  await new Promise(resolve => setImmediate(resolve));
  assert.ok(emitted.some(w => w.code === 'TAD_STORE_INSECURE_KEY'), 'process.emitWarning');
  const plainRecord = JSON.parse(read(clear.keyFile));
  assert.equal(plainRecord.protection, 'none');
  assertMode(clear.keyFile, 0o600);
  storeWithSecret(clear.options, plainKey);
  // strict mode refuses even to read it back while encryption is unavailable
  assert.throws(() => safeStorageKeySync(clear.options), err => err.reason === 'unavailable');
  // encryption comes back: sealed at once
  standIn.configure({});
  assert.ok(safeStorageKeySync(clear.options).equals(plainKey));
  assert.equal(JSON.parse(read(clear.keyFile)).protection, 'os');
  // and if it goes away again, the sealed key cannot be opened: E_SAFE_STORAGE, not a new key
  standIn.configure({ available: false });
  assert.throws(() => safeStorageKeySync({ ...clear.options, onInsecure: 'warn', onWarning: () => {} }), err => err.code === 'E_SAFE_STORAGE' && err.reason === 'unavailable');
  assert.equal(JSON.parse(read(clear.keyFile)).protection, 'os');
});

test('a lost, damaged, undecryptable or foreign key file is E_SECRET_KEY with guidance, and never a new key for a store that holds encrypted data', async t => {
  const { cwd, options, keyFile } = setup(t);
  const key = await safeStorageKey(options);
  storeWithSecret(options, key);
  const good = read(keyFile);
  const before = bytesOf(cwd);
  const expectRefusal = async (reason, what) => {
    await assert.rejects(safeStorageKey(options), (err) => {
      assert.equal(err.code, 'E_SECRET_KEY', `${what}: ${err.message}`);
      assert.equal(err.reason, reason, what);
      assert.equal(err.keyFile, keyFile);
      assert.match(err.message, /Restore the key file from a backup/);
      return true;
    });
  };
  // lost
  fs.unlinkSync(keyFile);
  await expectRefusal('missing', 'a lost key file');
  assert.ok(!fs.existsSync(keyFile), 'no new key file was made');
  // damaged in every way
  const damages = [
    ['', 'damaged'],
    ['{"format":"tad-store/safe-storage-key"', 'damaged'],
    [good.replace('"version": 1', '"version": 2'), 'damaged'],
    [good.replace(/"keyId": "[0-9a-f]{8}"/, '"keyId": "00000000"'), 'damaged'],
    [good.replace(/"sealed": "([A-Za-z0-9+/]{10})/, (m, p) => `"sealed": "${p.split('').reverse().join('')}`), 'undecryptable'],
    [crypto.randomBytes(200).toString('latin1'), 'damaged'],
  ];
  for (const [text, reason] of damages) {
    fs.writeFileSync(keyFile, text);
    await expectRefusal(reason, `a damaged key file (${reason})`);
    assert.equal(read(keyFile), text, 'the damaged file is left as it is');
  }
  fs.writeFileSync(keyFile, good);
  // another machine's (or user's) keyring cannot open it
  standIn.configure({ osKey: standIn.otherKeyring() });
  await expectRefusal('undecryptable', 'another keyring');
  standIn.configure({});
  // a valid key file of another store
  const { cwd: otherDir, options: otherOptions } = setup(t);
  await safeStorageKey(otherOptions);
  fs.copyFileSync(path.join(otherDir, 'config.json.key'), keyFile);
  await expectRefusal('mismatch', 'another store\'s key file');
  fs.writeFileSync(keyFile, good);
  // nothing of the store was touched by any of it
  const after = bytesOf(cwd);
  delete before['config.json.key'];
  delete after['config.json.key'];
  assert.deepStrictEqual(after, before);
  assert.ok((await safeStorageKey(options)).equals(key), 'the restored key file works');
  // only backups hold encrypted data (the document and journal gone): still no new key
  const store = new Store({ ...options, backups: {}, secretKey: key });
  await store.createBackup('b');
  store.close();
  fs.unlinkSync(keyFile);
  fs.rmSync(path.join(cwd, 'config.json'));
  fs.rmSync(path.join(cwd, 'storeHistory'), { recursive: true });
  await assert.rejects(safeStorageKey(options), err => err.reason === 'missing' && err.found.some(f => f.includes('backups')));
  // a store that never held encrypted data: a key is made (and the store encrypts from then on)
  const { options: clearOptions, cwd: clearDir } = setup(t);
  const plain = new Store({ cwd: clearDir, backups: false });
  plain.set('ai.apiKey', 'was-in-clear');
  plain.close();
  const fresh = await safeStorageKey(clearOptions);
  const encrypted = new Store({ ...clearOptions, secretKey: fresh });
  assert.equal(encrypted.get('ai.apiKey'), 'was-in-clear');
  encrypted.close();
  assert.ok(!read(path.join(clearDir, 'config.json')).includes('was-in-clear'));
});

test('safeStorage asks to re-encrypt (its key rotated): the same key, sealed anew', async t => {
  const { options, keyFile } = setup(t);
  const key = await safeStorageKey(options);
  const first = read(keyFile);
  standIn.configure({ shouldReEncrypt: true });
  assert.ok((await safeStorageKey(options)).equals(key));
  assert.notEqual(read(keyFile), first);
  assert.equal(JSON.parse(read(keyFile)).keyId, keyIdOf(key));
});

test('several processes starting at once on a new store all get the one key', async t => {
  const { cwd, keyFile } = setup(t);
  const runs = [];
  for (let i = 0; i < 6; i++) {
    runs.push(new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [CHILD, 'key', cwd], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      c.stdout.on('data', d => { out += d; });
      c.stderr.on('data', d => { err += d; });
      const timer = setTimeout(() => { c.kill('SIGKILL'); reject(new Error('timed out')); }, DEADLINE);
      c.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out.trim());
        else reject(new Error(`child exited ${code}: ${err}`));
      });
    }));
  }
  const ids = await Promise.all(runs);
  assert.equal(new Set(ids).size, 1, `one key: ${ids.join(' ')}`);
  assert.equal(JSON.parse(read(keyFile)).keyId, ids[0]);
  assert.deepStrictEqual(fs.readdirSync(cwd), ['config.json.key'], 'no temp file left');
  // a temp file of a process that died mid-write is removed by the next start
  const stale = path.join(cwd, '.config.json.key.999999999.abcdef.keytmp');
  fs.writeFileSync(stale, 'half');
  await safeStorageKey({ cwd });
  assert.ok(!fs.existsSync(stale));
});

test('rotation: a new key sealed, the store re-encrypted, the key file replaced; an interruption at any step keeps the key the store uses', async t => {
  const { cwd, options, keyFile } = setup(t);
  const oldKey = await safeStorageKey(options);
  let store = new Store({ ...options, secretKey: oldKey });
  store.set('ai.apiKey', 'sk-1');
  const report = await rotateSafeStorageKey(store, options);
  assert.equal(report.keyFile, keyFile);
  assert.notEqual(report.keyId, keyIdOf(oldKey));
  assert.equal(typeof report.journalEntries, 'number');
  assert.equal(store.get('ai.apiKey'), 'sk-1');
  store.close();
  assert.ok(!fs.existsSync(`${keyFile}.next`));
  const newKey = await safeStorageKey(options);
  assert.equal(keyIdOf(newKey), report.keyId);
  assert.throws(() => new Store({ ...options, secretKey: oldKey }), err => err.code === 'E_SECRET_KEY', 'the old key no longer opens it');
  store = new Store({ ...options, secretKey: newKey });
  assert.equal(store.get('ai.apiKey'), 'sk-1');
  // the options must name this store
  await assert.rejects(rotateSafeStorageKey(store, { ...options, name: 'other' }), TypeError);
  // interrupted before the store was rotated (it threw): the key file keeps the old key
  const failing = { path: store.path, rotateSecretKey: () => { throw Object.assign(new Error('disk full'), { code: 'E_NOSPC' }); } };
  assert.throws(() => rotateSafeStorageKeySync(failing, options), err => err.code === 'E_NOSPC');
  assert.ok(fs.existsSync(`${keyFile}.next`), 'the sealed new key was written first');
  store.close();
  assert.ok((await safeStorageKey(options)).equals(newKey), 'the next start keeps the key the store uses');
  assert.ok(!fs.existsSync(`${keyFile}.next`));
  // interrupted after the store was rotated, before the key file was replaced
  store = new Store({ ...options, secretKey: newKey });
  let rotatedTo = null;
  const crashing = {
    path: store.path,
    rotateSecretKey: (k) => {
      const r = store.rotateSecretKey(k);
      rotatedTo = keyIdOf(k);
      throw Object.assign(new Error('killed'), { code: 'E_TEST_CRASH', r });
    },
  };
  assert.throws(() => rotateSafeStorageKeySync(crashing, options), err => err.code === 'E_TEST_CRASH');
  store.close();
  assert.equal(JSON.parse(read(keyFile)).keyId, keyIdOf(newKey), 'the key file still has the previous key');
  const picked = await safeStorageKey(options);
  assert.equal(keyIdOf(picked), rotatedTo, 'the next start takes the rotated key');
  assert.equal(JSON.parse(read(keyFile)).keyId, rotatedTo);
  store = new Store({ ...options, secretKey: picked });
  assert.equal(store.get('ai.apiKey'), 'sk-1');
  store.close();
  assert.deepStrictEqual(fs.readdirSync(cwd).filter(n => n.includes('.key')), ['config.json.key']);
});

test('kill -9 at random moments of a rotation: the next start always opens the store, with every acknowledged secret', async t => {
  const { cwd, options } = setup(t);
  const random = rng(SEED);
  const rounds = 12;
  for (let n = 0; n < rounds; n++) {
    const child = fork(CHILD, ['rotate', cwd, String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    // the whole rotation takes a few ms: the kill lands 0-4 ms after it starts
    const delayUs = Math.floor(random() * 4000);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('timed out')); }, DEADLINE);
      child.on('message', (m) => {
        if (m !== 'rotating') return;
        const end = process.hrtime.bigint() + BigInt(delayUs) * 1000n;
        while (process.hrtime.bigint() < end) {
          // wait without yielding: a timer's granularity is a whole millisecond
        }
        child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0 || signal === 'SIGKILL' || code === 1) resolve();
        else reject(new Error(`exit ${code ?? signal}`));
      });
    });
    const key = await safeStorageKey(options);
    const store = new Store({ ...options, secretKey: key });
    assert.equal(store.get('ai.apiKey'), `secret-${n}`, `round ${n} (killed ${delayUs} µs into the rotation)`);
    store.close();
    assert.ok(!fs.existsSync(path.join(cwd, 'config.json.key.next')));
  }
});
