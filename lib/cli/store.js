'use strict';

/**
 * How the support command reaches a store: its files from the path given, the
 * key from the options, a read-only inspector (`StoreInspector`, which reads
 * without writing, locking or repairing anything), and — only for the
 * commands that change the store (`rollback`, `restore`) — a `Store` opened
 * like any other writer (it takes the lock for each write).
 */

const fs = require('node:fs');
const path = require('node:path');
const { cliError } = require('./errors.js');

let binding;
function native() {
  if (!binding) binding = require('../loader.js');
  return binding;
}

/** The options every store command takes (node:util parseArgs format). */
const STORE_OPTIONS = {
  'history-dir': { type: 'string' },
  'backup-dir': { type: 'string' },
  'key-file': { type: 'string' },
  'key-encoding': { type: 'string' },
  'encryption-key-file': { type: 'string' },
};

/** The store's files for the document path `file`. */
function storePaths(file, values) {
  if (typeof file !== 'string' || file === '') throw cliError('E_USAGE', 'Missing the store file (e.g. ~/.config/MyApp/config.json)');
  const doc = path.resolve(file);
  let st;
  try {
    st = fs.statSync(doc);
  } catch {}
  if (st && st.isDirectory()) {
    throw cliError('E_USAGE', `${doc} is a directory: give the store file itself (e.g. ${path.join(doc, 'config.json')})`);
  }
  const dir = path.dirname(doc);
  const names = native().fileNames();
  return {
    doc,
    dir,
    historyDir: values['history-dir'] ? path.resolve(values['history-dir']) : path.join(dir, names.historyDir),
    backupDir: values['backup-dir'] ? path.resolve(values['backup-dir']) : path.join(dir, names.backupDir),
  };
}

function readKeyFile(file, encoding, what) {
  let bytes;
  try {
    bytes = fs.readFileSync(path.resolve(file));
  } catch (error) {
    throw cliError('E_USAGE', `Cannot read the ${what} file ${file}: ${error.message}`);
  }
  switch (encoding || 'raw') {
    case 'raw':
      return bytes;
    case 'hex': {
      const text = bytes.toString('utf8').trim();
      if (!/^([0-9a-fA-F]{2})+$/.test(text)) throw cliError('E_USAGE', `The ${what} file ${file} does not hold hex digits (--key-encoding hex)`);
      return Buffer.from(text, 'hex');
    }
    case 'base64': {
      const text = bytes.toString('utf8').trim();
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw cliError('E_USAGE', `The ${what} file ${file} does not hold base64 (--key-encoding base64)`);
      return Buffer.from(text, 'base64');
    }
    default:
      throw cliError('E_USAGE', `Unknown --key-encoding ${JSON.stringify(encoding)} (raw, hex or base64)`);
  }
}

/** `{ secretKey?, encryptionKey? }` from the options. */
function keysOf(values) {
  const out = {};
  if (values['key-file'] !== undefined) out.secretKey = readKeyFile(values['key-file'], values['key-encoding'], 'key');
  if (values['encryption-key-file'] !== undefined) {
    out.encryptionKey = readKeyFile(values['encryption-key-file'], values['key-encoding'], 'encryption key');
  }
  if (values['key-encoding'] !== undefined && !out.secretKey && !out.encryptionKey) {
    throw cliError('E_USAGE', '--key-encoding without --key-file or --encryption-key-file');
  }
  return out;
}

/**
 * A read-only look at the store: `{ inspector, summary }`. A store with
 * neither a document file nor a journal is `E_STORE_NOT_FOUND`.
 */
function inspect(paths, keys) {
  const { StoreInspector } = native();
  const inspector = new StoreInspector({
    path: paths.doc,
    historyDir: paths.historyDir,
    backupDir: paths.backupDir,
    secretKey: keys.secretKey,
    encryptionKey: keys.encryptionKey,
  });
  const summary = JSON.parse(inspector.summary());
  const keyGiven = Boolean(keys.secretKey || keys.encryptionKey);
  if (!keyGiven && summary.document.error && summary.document.error.code === 'E_CORRUPT' && looksEncrypted(paths.doc)) {
    // not damage: electron-store's encryptionKey format, read without the key
    summary.document.error = {
      code: 'E_SECRET_KEY',
      message: `The store file ${paths.doc} is encrypted (electron-store's encryptionKey): give the key with --encryption-key-file`,
    };
  }
  if (!summary.document.file.exists && !summary.journal.file.exists) {
    const near = fs.existsSync(paths.dir) ? '' : ` (the directory ${paths.dir} does not exist either)`;
    throw cliError('E_STORE_NOT_FOUND', `No store at ${paths.doc}: no such file and no journal at ${summary.journal.path}${near}`);
  }
  return { inspector, summary };
}

/**
 * Whether the file is in electron-store's `encryptionKey` format (a 16-byte
 * IV, ':', then the ciphertext), which is not JSON.
 */
function looksEncrypted(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(17);
    return fs.readSync(fd, buf, 0, 17, 0) === 17 && buf[16] === 0x3a && buf[0] !== 0x7b;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A dot path (as `secretKeys` takes it) of path segments. */
function dotPath(segments) {
  return segments.map(s => s.replace(/\\/g, '\\\\').replace(/\./g, '\\.')).join('.');
}

/** Whether the document file is compact JSON (`serialize: JSON.stringify`). */
function isCompact(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(2);
    const n = fs.readSync(fd, buf, 0, 2, 0);
    return n === 2 && buf[0] === 0x7b && buf[1] !== 0x0a && buf[1] !== 0x7d;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Opens the store for writing, as the app would, without anything the app
 * configured that the command cannot know and that would change the store by
 * itself: no start backup, no timers, no watcher, no defaults, no schema, no
 * migrations. History and backups are never trimmed (the app trims them on its own).
 * Secret paths: every encrypted value in the document, plus `--secret-keys`.
 */
function openWriter(paths, keys, summary, extraSecretKeys, backupCount) {
  const Store = require('../../index.js');
  const base = path.basename(paths.doc);
  const ext = path.extname(base);
  const options = {
    cwd: paths.dir,
    name: ext ? base.slice(0, -ext.length) : base,
    fileExtension: ext ? ext.slice(1) : '',
    // the app's own `maxEntries` is not known: keep everything (the app trims on its next write)
    history: { directory: paths.historyDir, maxEntries: 2 ** 30 },
    backups: { directory: paths.backupDir, onStart: false, interval: 0, maxBackups: Math.max(10, backupCount + 2) },
    durability: 'sync',
    watch: false,
  };
  if (summary.document.file.exists && !keys.encryptionKey && isCompact(paths.doc)) {
    options.serialize = JSON.stringify;
    options.deserialize = JSON.parse;
  }
  if (keys.secretKey) {
    const secretKeys = [...new Set([...summary.document.sealed.map(dotPath), ...extraSecretKeys])];
    if (secretKeys.length === 0) {
      throw cliError('E_SECRET_KEY', 'A key was given but the store file holds no encrypted value to tell which keys are secret: name them with --secret-keys (e.g. --secret-keys ai.apiKey)');
    }
    options.secretKeys = secretKeys;
    options.secretKey = keys.secretKey;
  } else if (extraSecretKeys.length > 0) {
    throw cliError('E_USAGE', '--secret-keys needs the key (--key-file)');
  }
  if (keys.encryptionKey) options.encryptionKey = keys.encryptionKey;
  return new Store(options);
}

module.exports = { STORE_OPTIONS, storePaths, keysOf, inspect, openWriter, dotPath, native };
