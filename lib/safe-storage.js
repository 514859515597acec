'use strict';

/**
 * `tad-store/safe-storage`: a `secretKeys` key kept sealed by Electron's
 * `safeStorage`.
 *
 *   const { app, safeStorage } = require('electron');
 *   const { safeStorageKey } = require('tad-store/safe-storage');
 *   await app.whenReady();
 *   const options = { name: 'tad-config', secretKeys: ['ai.apiKey'] };
 *   const secretKey = await safeStorageKey(options);   // same cwd/name as the store
 *   const store = new Store({ ...options, secretKey });
 *   secretKey.fill(0);
 *
 * The first start makes a key of 32 random bytes and writes it, sealed with
 * `safeStorage.encryptString` (or `encryptStringAsync`), to
 * `<store file>.key` beside the store (`tad-config.json.key`): JSON holding
 * the sealed bytes and the key's id (the id the store writes into its
 * encrypted values), written to a temp file (mode 0600), fsync'd, linked in
 * place only if no other process made one first, and the directory fsync'd.
 * Later starts open it with `decryptString` (or `decryptStringAsync`, and seal
 * it again when that says `shouldReEncrypt`).
 *
 * It refuses (`E_SAFE_STORAGE`), or with `onInsecure: 'warn'` warns and goes
 * on, when `safeStorage` cannot protect the key: encryption is not available,
 * or on Linux the backend is `basic_text` (a password written in Chromium's
 * source, so the key would be as good as in clear). `'unknown'` (asked before
 * the app's `ready`) is always refused. A key file written without protection
 * (`'warn'`) is sealed again as soon as a better backend is there.
 *
 * It never makes a new key for a store that already holds encrypted data: a
 * missing, damaged or undecryptable key file, or one whose key is not the
 * store's, is `E_SECRET_KEY` with `reason`, `keyFile` and what to do.
 * `rotateSafeStorageKey(store, options)` rotates: the new key is written
 * sealed to `<key file>.next`, the store re-encrypts everything
 * (`store.rotateSecretKey`, atomic across a crash), then `.next` replaces the
 * key file; a start after a crash in between picks the key the store's files
 * were written with.
 */

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const FORMAT = 'tad-store/safe-storage-key';
const KEY_BYTES = 32;
const RANK = { none: 0, basic_text: 1, os: 2 };

function keyError(code, reason, message, fields) {
  const e = new Error(`tad-store: ${message}`);
  e.code = code;
  e.reason = reason;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) e[k] = v;
    }
  }
  return e;
}

function argError(message) {
  const e = new TypeError(message);
  e.code = 'E_INVALID_ARGUMENT';
  return e;
}

// -- where --------------------------------------------------------------------------

function loadElectron() {
  let electron;
  try {
    electron = require('electron');
  } catch (cause) {
    throw keyError('E_SAFE_STORAGE', 'unavailable', 'safeStorage is a module of Electron\'s main process, and require(\'electron\') failed here; pass { safeStorage }', { cause });
  }
  if (!electron || typeof electron !== 'object' || !electron.safeStorage) {
    throw keyError('E_SAFE_STORAGE', 'unavailable', 'safeStorage is a module of Electron\'s main process (require(\'electron\') has none here); pass { safeStorage }');
  }
  return electron;
}

function resolveContext(options) {
  if (options === null || typeof options !== 'object') throw argError('Expected `options` to be an object (the store\'s options: cwd, name, fileExtension)');
  let safeStorage = options.safeStorage;
  let app = options.app;
  if (!safeStorage) {
    const electron = loadElectron();
    safeStorage = electron.safeStorage;
    if (app === undefined) app = electron.app;
  }
  if (safeStorage === null || typeof safeStorage !== 'object') throw argError('Expected `safeStorage` to be Electron\'s safeStorage');
  for (const [fn, alt] of [['isEncryptionAvailable', 'isAsyncEncryptionAvailable'], ['encryptString', 'encryptStringAsync'], ['decryptString', 'decryptStringAsync']]) {
    if (typeof safeStorage[fn] !== 'function' && typeof safeStorage[alt] !== 'function') {
      throw argError(`Expected \`safeStorage\` to be Electron's safeStorage (it has neither ${fn}() nor ${alt}())`);
    }
  }
  const mode = options.onInsecure === undefined ? 'throw' : options.onInsecure;
  if (mode !== 'throw' && mode !== 'warn') throw argError(`Expected \`onInsecure\` to be 'throw' or 'warn', got ${JSON.stringify(mode)}`);
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw argError('Expected `onWarning` to be a function');
  return { safeStorage, mode, onWarning: options.onWarning, files: locate(options, app) };
}

/** The store's files, as the Store computes them from the same options. */
function locate(options, app) {
  const name = options.name !== undefined ? options.name : typeof options.configName === 'string' ? options.configName : 'config';
  if (typeof name !== 'string' || name === '') throw argError('Expected `name` to be a non-empty string');
  const ext = options.fileExtension === undefined ? 'json' : options.fileExtension;
  if (typeof ext !== 'string') throw argError('Expected `fileExtension` to be a string');
  let userData;
  const userDataOf = () => {
    if (userData === undefined) {
      userData = null;
      if (app && typeof app.getPath === 'function') {
        try {
          userData = app.getPath('userData');
        } catch {
          userData = null;
        }
      }
    }
    return userData;
  };
  let cwd = options.cwd;
  if (cwd === undefined || cwd === null || cwd === '') {
    cwd = userDataOf();
    if (!cwd) throw argError('Expected `cwd` (the store\'s directory): outside Electron there is no userData to default to');
  } else if (typeof cwd !== 'string') {
    throw argError(`Expected \`cwd\` to be a string, got ${typeof cwd}`);
  } else if (!path.isAbsolute(cwd)) {
    cwd = path.resolve(userDataOf() || process.cwd(), cwd);
  }
  const file = ext ? `${name}.${ext}` : name;
  const doc = path.join(cwd, file);
  let keyFile = `${doc}.key`;
  if (options.keyFile !== undefined) {
    if (typeof options.keyFile !== 'string' || options.keyFile === '') throw argError('Expected `keyFile` to be a path');
    keyFile = path.resolve(cwd, options.keyFile);
  }
  const history = options.history && typeof options.history === 'object' ? options.history : {};
  const historyDir = history.directory ? path.resolve(cwd, history.directory) : path.join(cwd, 'storeHistory');
  const backups = options.backups && typeof options.backups === 'object' ? options.backups : {};
  const backupDir = backups.directory ? path.resolve(cwd, backups.directory) : path.join(cwd, 'backups');
  return { cwd, doc, keyFile, nextFile: `${keyFile}.next`, historyDir, backupDir };
}

// -- the key's id, as the store writes it ----------------------------------------------

const hmac = (key, message) => crypto.createHmac('sha256', key).update(message).digest();

/** The id a `secretKeys` store writes into its sealed values for `key` (`$tad-secret:v1:<id>:`, `~tad1:<id>:`). */
function keyIdOf(key) {
  const derived = hmac(key, 'tad-store secretKeys aes-256-gcm v1');
  try {
    return hmac(derived, 'tad-store key id v1').subarray(0, 4).toString('hex');
  } finally {
    derived.fill(0);
  }
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EISDIR') return null;
    throw keyError('E_IO', 'unreadable', `cannot read ${file}: ${error.message}`, { cause: error, path: file });
  }
}

function listDir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw keyError('E_IO', 'unreadable', `cannot list ${dir}: ${error.message}`, { cause: error, path: dir });
  }
}

const SEALED_IDS = /(?:\$tad-secret:v1:|~tad1:)([0-9a-f]{8}):/g;

/**
 * The key ids found in what the store wrote: the document and its journal
 * (and with `everywhere`, the backups, migration snapshots and quarantined
 * copies). `rekey`: a key rotation is pending (the store opens with either key).
 */
function scanStore(files, everywhere) {
  let doc = files.doc;
  try {
    doc = fs.realpathSync(doc);
  } catch {
    // no document (yet)
  }
  const base = path.basename(doc);
  const targets = [doc, path.join(files.historyDir, `${base}.journal`)];
  if (everywhere) {
    for (const n of listDir(path.dirname(doc))) if (n.startsWith(`${base}.corrupt-`)) targets.push(path.join(path.dirname(doc), n));
    for (const n of listDir(files.backupDir)) if (n.startsWith('backup-')) targets.push(path.join(files.backupDir, n));
    const snapshots = path.join(files.historyDir, 'migrations');
    for (const n of listDir(snapshots)) targets.push(path.join(snapshots, n));
    for (const n of listDir(files.historyDir)) if (n.startsWith(`${base}.invalid-`) || n.startsWith(`${base}.damaged-`)) targets.push(path.join(files.historyDir, n));
  }
  const ids = new Set();
  const where = [];
  for (const file of targets) {
    const text = readText(file);
    if (text === null) continue;
    let found = false;
    for (const m of text.matchAll(SEALED_IDS)) {
      ids.add(m[1]);
      found = true;
    }
    if (found) where.push(file);
  }
  const rekeyFile = path.join(files.historyDir, `${base}.rekey`);
  const rekey = fs.existsSync(rekeyFile);
  if (rekey) where.push(rekeyFile);
  return { ids, rekey, where };
}

// -- files ----------------------------------------------------------------------------

const IS_WINDOWS = process.platform === 'win32';

function fsyncDir(dir) {
  if (IS_WINDOWS) return; // no directory handles to flush on Windows
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * Writes `text` to `file` atomically: a temp file beside it (mode 0600),
 * written and fsync'd, then renamed over `file` — or with `exclusive`, linked
 * to `file` only if it does not exist (returns false when it did) — and the
 * directory fsync'd.
 */
function writeAtomic(file, text, exclusive) {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.keytmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  let placed = false;
  try {
    try {
      if (!IS_WINDOWS) fs.fchmodSync(fd, 0o600); // whatever the umask
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (!exclusive) {
      fs.renameSync(tmp, file);
      placed = true;
    } else {
      try {
        fs.linkSync(tmp, file);
      } catch (error) {
        if (error.code === 'EEXIST') return false;
        if (!LINK_UNSUPPORTED.has(error.code)) throw error;
        // a file system without hard links: the small window is accepted there
        if (fs.existsSync(file)) return false;
        fs.renameSync(tmp, file);
        placed = true;
      }
    }
  } finally {
    if (!placed) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }
  fsyncDir(dir);
  return true;
}

/** Temp files of ours left by a process that died mid-write. */
function removeStaleTemps(file) {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  for (const n of listDir(dir)) {
    if (!n.startsWith(prefix) || !n.endsWith('.keytmp')) continue;
    const pid = Number(n.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (error) {
      alive = error.code === 'EPERM';
    }
    if (!alive) {
      try {
        fs.unlinkSync(path.join(dir, n));
      } catch {
        // another start removed it
      }
    }
  }
}

function tighten(file) {
  if (IS_WINDOWS) return;
  try {
    const st = fs.statSync(file);
    if ((st.mode & 0o077) !== 0) fs.chmodSync(file, st.mode & 0o700);
  } catch {
    // best effort: the key is sealed either way
  }
}

// -- safeStorage operations (one flow for the sync and the async API) ------------------

/*
 * The flow below is a generator that yields what it needs from safeStorage:
 * `{ op: 'available' }`, `{ op: 'encrypt', text }`, `{ op: 'decrypt', data }`.
 * `runSync` answers with the synchronous API, `runAsync` with the
 * asynchronous one (Electron 36+; the synchronous one goes away in Electron 46).
 */

function syncOps(ss) {
  if (typeof ss.isEncryptionAvailable !== 'function' || typeof ss.encryptString !== 'function' || typeof ss.decryptString !== 'function') {
    throw keyError('E_SAFE_STORAGE', 'unsupported', 'this safeStorage has no synchronous API (Electron 46 removed it): use `await safeStorageKey(options)`');
  }
  return {
    available: () => ss.isEncryptionAvailable() === true,
    encrypt: text => ss.encryptString(text),
    decrypt: data => ({ text: ss.decryptString(data), reseal: false }),
  };
}

function asyncOps(ss) {
  if (typeof ss.encryptStringAsync !== 'function' || typeof ss.decryptStringAsync !== 'function') {
    const sync = syncOps(ss);
    return { available: async () => sync.available(), encrypt: async text => sync.encrypt(text), decrypt: async data => sync.decrypt(data) };
  }
  return {
    available: async () => {
      if (typeof ss.isAsyncEncryptionAvailable === 'function') return (await ss.isAsyncEncryptionAvailable()) === true;
      return ss.isEncryptionAvailable() === true;
    },
    encrypt: text => ss.encryptStringAsync(text),
    decrypt: async (data) => {
      const r = await ss.decryptStringAsync(data);
      if (typeof r === 'string') return { text: r, reseal: false };
      return { text: r && r.result, reseal: Boolean(r && r.shouldReEncrypt) };
    },
  };
}

function runSync(gen, ops) {
  let step = gen.next();
  while (!step.done) {
    let answer;
    try {
      answer = ops[step.value.op](step.value.arg);
    } catch (error) {
      step = gen.throw(error);
      continue;
    }
    step = gen.next(answer);
  }
  return step.value;
}

async function runAsync(gen, ops) {
  let step = gen.next();
  while (!step.done) {
    let answer;
    try {
      answer = await ops[step.value.op](step.value.arg);
    } catch (error) {
      step = gen.throw(error);
      continue;
    }
    step = gen.next(answer);
  }
  return step.value;
}

const AVAILABLE = { op: 'available' };
const encryptOp = text => ({ op: 'encrypt', arg: text });
const decryptOp = data => ({ op: 'decrypt', arg: data });

/** What `safeStorage` can do here: `{ protection: 'os' | 'basic_text' | 'none', backend }`, refusing or warning as asked. */
function* checkProtection(ctx) {
  const { safeStorage } = ctx;
  let available;
  try {
    available = yield AVAILABLE;
  } catch (cause) {
    throw keyError('E_SAFE_STORAGE', 'failed', `safeStorage's isEncryptionAvailable() threw: ${cause && cause.message}`, { cause });
  }
  let backend = null;
  if (typeof safeStorage.getSelectedStorageBackend === 'function') {
    try {
      backend = safeStorage.getSelectedStorageBackend();
    } catch (cause) {
      throw keyError('E_SAFE_STORAGE', 'failed', `safeStorage's getSelectedStorageBackend() threw: ${cause && cause.message}`, { cause });
    }
  }
  if (backend === 'unknown') {
    throw keyError('E_SAFE_STORAGE', 'not-ready', 'safeStorage\'s backend is \'unknown\': it was asked before the app was ready. Call this after `await app.whenReady()`', { backend });
  }
  let insecure = null;
  if (!available) {
    insecure = keyError('E_SAFE_STORAGE', 'unavailable', 'safeStorage cannot encrypt here (isEncryptionAvailable() is false; on Linux: no secret service, or before the app is ready), so the store\'s key would be kept in clear', { backend });
  } else if (backend === 'basic_text') {
    insecure = keyError('E_SAFE_STORAGE', 'basic_text', 'safeStorage\'s Linux backend is \'basic_text\': it encrypts with a password written in Chromium\'s source, so the store\'s key would be as good as in clear. Install a secret service (GNOME Keyring, KWallet) or start with --password-store=gnome-libsecret / kwallet6', { backend });
  }
  if (insecure) {
    if (ctx.mode !== 'warn') throw insecure;
    insecure.message += ' (onInsecure: \'warn\': going on)';
    if (ctx.onWarning) ctx.onWarning(insecure);
    else process.emitWarning(insecure.message, { code: 'TAD_STORE_INSECURE_KEY' });
  }
  return { protection: !available ? 'none' : backend === 'basic_text' ? 'basic_text' : 'os', backend, available };
}

/** The key file's text for `key`, sealed as `protection` allows. */
function* sealRecord(key, protection, backend) {
  const record = { format: FORMAT, version: 1, protection, backend, keyId: keyIdOf(key), created: new Date().toISOString() };
  if (protection === 'none') {
    record.plain = key.toString('base64');
  } else {
    let sealed;
    try {
      sealed = yield encryptOp(key.toString('base64'));
    } catch (cause) {
      throw keyError('E_SAFE_STORAGE', 'failed', `safeStorage.encryptString() failed: ${cause && cause.message}`, { cause });
    }
    if (!(sealed instanceof Uint8Array) || sealed.length === 0) {
      throw keyError('E_SAFE_STORAGE', 'failed', 'safeStorage.encryptString() returned no bytes');
    }
    record.sealed = Buffer.from(sealed).toString('base64');
  }
  return `${JSON.stringify(record, null, 2)}\n`;
}

const GUIDANCE = 'Restore the key file from a backup of this directory (the store cannot be read without its key), or, if the key is lost for good, move the store\'s files aside: a new key cannot read the secrets sealed with the old one.';

/** Opens a key file: `{ key, record, reseal }`; E_SECRET_KEY when it cannot. */
function* openKeyFile(file, state) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw keyError('E_SECRET_KEY', cause.code === 'ENOENT' ? 'missing' : 'unreadable', `the key file ${file} cannot be read (${cause.code}). ${GUIDANCE}`, { cause, keyFile: file });
  }
  const damaged = why => keyError('E_SECRET_KEY', 'damaged', `the key file ${file} is damaged (${why}). ${GUIDANCE}`, { keyFile: file });
  let record;
  try {
    record = JSON.parse(text);
  } catch {
    throw damaged('not JSON');
  }
  if (record === null || typeof record !== 'object' || record.format !== FORMAT) throw damaged('not a tad-store key file');
  if (record.version !== 1) throw damaged(`format version ${JSON.stringify(record.version)}, this tad-store reads 1`);
  if (typeof record.keyId !== 'string' || !/^[0-9a-f]{8}$/.test(record.keyId)) throw damaged('no key id');
  if (!Object.prototype.hasOwnProperty.call(RANK, record.protection)) throw damaged('unknown protection');
  let b64;
  let reseal = false;
  if (record.protection === 'none') {
    if (typeof record.plain !== 'string') throw damaged('no key');
    b64 = record.plain;
  } else {
    if (typeof record.sealed !== 'string' || record.sealed === '') throw damaged('no sealed key');
    if (!state.available) {
      throw keyError('E_SAFE_STORAGE', 'unavailable', `the key in ${file} is sealed with safeStorage, which cannot decrypt here now (isEncryptionAvailable() is false)`, { keyFile: file });
    }
    let opened;
    try {
      opened = yield decryptOp(Buffer.from(record.sealed, 'base64'));
    } catch (cause) {
      throw keyError('E_SECRET_KEY', 'undecryptable', `safeStorage cannot decrypt the key file ${file} (${cause && cause.message}): it was sealed by another user or machine, or the OS keyring that holds safeStorage's key changed or was reset. ${GUIDANCE}`, { cause, keyFile: file });
    }
    if (typeof opened.text !== 'string') throw damaged('safeStorage returned no text');
    b64 = opened.text;
    reseal = opened.reseal;
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== b64) {
    key.fill(0);
    throw damaged('the key does not decode');
  }
  if (keyIdOf(key) !== record.keyId) {
    key.fill(0);
    throw damaged('the key does not match its id');
  }
  return { key, record, reseal };
}

function exists(file) {
  try {
    fs.lstatSync(file);
    return true;
  } catch (error) {
    if (error.code === 'ENOENT') return false;
    throw keyError('E_IO', 'unreadable', `cannot stat ${file}: ${error.message}`, { cause: error, path: file });
  }
}

/** A start after a rotation was interrupted: keeps the key the store's files use. */
function* settleRotation(ctx, state) {
  const { files } = ctx;
  let next = null;
  try {
    next = yield* openKeyFile(files.nextFile, state);
  } catch (error) {
    if (error.code !== 'E_SECRET_KEY') throw error;
  }
  let current = null;
  let currentError = null;
  if (exists(files.keyFile)) {
    try {
      current = yield* openKeyFile(files.keyFile, state);
    } catch (error) {
      if (error.code !== 'E_SECRET_KEY') throw error;
      currentError = error;
    }
  }
  const scan = scanStore(files, false);
  const uses = k => k !== null && scan.ids.has(k.record.keyId);
  if (next !== null && (scan.rekey || uses(next) || (current === null && scan.ids.size === 0))) {
    // the store was rotated (or is half-way: then the new key finishes it)
    if (current) current.key.fill(0);
    fs.renameSync(files.nextFile, files.keyFile);
    fsyncDir(path.dirname(files.keyFile));
    return next;
  }
  if (next !== null) next.key.fill(0);
  if (current !== null && (scan.ids.size === 0 || uses(current))) {
    // the rotation never reached the store
    fs.unlinkSync(files.nextFile);
    fsyncDir(path.dirname(files.nextFile));
    return current;
  }
  if (current !== null) current.key.fill(0);
  if (currentError) throw currentError;
  throw keyError('E_SECRET_KEY', 'mismatch', `neither ${files.keyFile} nor ${files.nextFile} holds the key the store at ${files.doc} was encrypted with (it uses key id ${[...scan.ids].join(', ')}). ${GUIDANCE}`, { keyFile: files.keyFile, storeIds: [...scan.ids] });
}

function* provide(ctx) {
  const { files } = ctx;
  const state = yield* checkProtection(ctx);
  removeStaleTemps(files.keyFile);
  let opened = null;
  if (exists(files.nextFile)) opened = yield* settleRotation(ctx, state);
  for (let attempt = 0; opened === null; attempt++) {
    if (exists(files.keyFile)) {
      opened = yield* openKeyFile(files.keyFile, state);
      break;
    }
    // no key file: make one, unless the store already holds encrypted data
    const scan = scanStore(files, true);
    if (scan.ids.size > 0 || scan.rekey) {
      throw keyError('E_SECRET_KEY', 'missing', `the key file ${files.keyFile} is missing, but the store at ${files.doc} holds data encrypted with a key (id ${[...scan.ids].join(', ') || 'in a pending rotation'}; in ${scan.where.join(', ')}); a new key could not read it, so none is made. ${GUIDANCE}`, { keyFile: files.keyFile, storeIds: [...scan.ids], found: scan.where });
    }
    const key = crypto.randomBytes(KEY_BYTES);
    const text = yield* sealRecord(key, state.protection, state.backend);
    if (writeAtomic(files.keyFile, text, true)) return key;
    // another process made one first: use it
    key.fill(0);
    if (attempt > 2) throw keyError('E_SECRET_KEY', 'unreadable', `the key file ${files.keyFile} keeps appearing and disappearing`, { keyFile: files.keyFile });
  }
  const { key, record } = opened;
  // the key must be the one the store's files were written with
  const scan = scanStore(files, false);
  if (scan.ids.size > 0 && !scan.ids.has(record.keyId) && !scan.rekey) {
    key.fill(0);
    throw keyError('E_SECRET_KEY', 'mismatch', `the key in ${files.keyFile} (id ${record.keyId}) is not the one the store at ${files.doc} was encrypted with (id ${[...scan.ids].join(', ')}): the key file was replaced or belongs to another store. ${GUIDANCE}`, { keyFile: files.keyFile, keyId: record.keyId, storeIds: [...scan.ids] });
  }
  tighten(files.keyFile);
  // seal again when safeStorage asks, or protects better than when it was sealed
  if (opened.reseal || RANK[state.protection] > RANK[record.protection]) {
    const text = yield* sealRecord(key, state.protection, state.backend);
    writeAtomic(files.keyFile, text, false);
  }
  return key;
}

/**
 * The `secretKeys` key for the store `options` names (its `cwd`, `name`,
 * `fileExtension`, `history.directory`, `backups.directory`), made and sealed
 * on the first start. Resolves to a 32-byte Buffer (zero it once the Store
 * has it). Uses safeStorage's asynchronous API when it has one.
 */
function safeStorageKey(options = {}) {
  return new Promise((resolve) => {
    const ctx = resolveContext(options);
    resolve(runAsync(provide(ctx), asyncOps(ctx.safeStorage)));
  });
}

/** `safeStorageKey` with safeStorage's synchronous API (for `secretKey: () => safeStorageKeySync(options)`). */
function safeStorageKeySync(options = {}) {
  const ctx = resolveContext(options);
  return runSync(provide(ctx), syncOps(ctx.safeStorage));
}

function* rotate(ctx, store) {
  const { files } = ctx;
  let storePath;
  try {
    storePath = fs.realpathSync(store.path);
  } catch {
    storePath = store.path;
  }
  let named;
  try {
    named = fs.realpathSync(files.doc);
  } catch {
    named = files.doc;
  }
  if (storePath !== named) throw argError(`Expected \`options\` to name the store's files (${store.path}), not ${files.doc}`);
  const state = yield* checkProtection(ctx);
  const key = crypto.randomBytes(KEY_BYTES);
  try {
    const text = yield* sealRecord(key, state.protection, state.backend);
    writeAtomic(files.nextFile, text, false);
    // atomic across a crash; a crash or an error from here on leaves `.next`,
    // and the next start keeps whichever key the store's files use
    const report = store.rotateSecretKey(key);
    fs.renameSync(files.nextFile, files.keyFile);
    fsyncDir(path.dirname(files.keyFile));
    return { ...report, keyFile: files.keyFile, keyId: keyIdOf(key) };
  } finally {
    key.fill(0);
  }
}

/**
 * Rotates the store's `secretKeys` key: a new random key, sealed, written to
 * `<key file>.next`; `store.rotateSecretKey(newKey)`; then `.next` replaces the
 * key file. Resolves to the store's rotation report plus `{ keyFile, keyId }`.
 */
function rotateSafeStorageKey(store, options = {}) {
  return new Promise((resolve) => {
    if (!store || typeof store.rotateSecretKey !== 'function') throw argError('Expected `store` to be a tad-store Store');
    const ctx = resolveContext(options);
    resolve(runAsync(rotate(ctx, store), asyncOps(ctx.safeStorage)));
  });
}

/** `rotateSafeStorageKey` with safeStorage's synchronous API. */
function rotateSafeStorageKeySync(store, options = {}) {
  if (!store || typeof store.rotateSecretKey !== 'function') throw argError('Expected `store` to be a tad-store Store');
  const ctx = resolveContext(options);
  return runSync(rotate(ctx, store), syncOps(ctx.safeStorage));
}

/** Where the key file of the store `options` names is (`<store file>.key`, or `options.keyFile`). */
function safeStorageKeyPath(options = {}) {
  if (options === null || typeof options !== 'object') throw argError('Expected `options` to be an object');
  let app = options.app;
  if (app === undefined && !options.cwd) {
    try {
      const electron = require('electron');
      if (electron && typeof electron === 'object') app = electron.app;
    } catch {
      // no Electron: cwd is needed
    }
  }
  return locate(options, app).keyFile;
}

module.exports = { safeStorageKey, safeStorageKeySync, rotateSafeStorageKey, rotateSafeStorageKeySync, safeStorageKeyPath, keyIdOf };
