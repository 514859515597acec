'use strict';

/**
 * The constructor's first step: the public options (electron-store 8 /
 * conf 10.2's, plus tad-store's) checked and resolved — the directory, the
 * file, the history and backup directories, the codec's keys, custom
 * `serialize` — into what the rest of the Store uses.
 */

const path = require('node:path');
const fs = require('node:fs');

const { storeError } = require('./errors.js');
const FILE_NAMES = require('./names.js');
const { electronApp, electronDefaults } = require('./electron.js');
const { normalizeBackups } = require('./backups.js');
const { checkOption: checkOnNewerVersion } = require('./version-guard.js');

// Outside Electron: conf's project name, version and config directory.

/** conf's `getPackageData()`: the nearest package.json above `parentDir` (as pkg-up finds it), parsed; `{}` if none. */
function packageData(parentDir) {
  let dir = path.resolve(parentDir);
  for (;;) {
    const file = path.join(dir, 'package.json');
    let isFile = false;
    try {
      isFile = fs.statSync(file).isFile();
    } catch {}
    if (isFile) {
      const text = fs.readFileSync(file, 'utf8');
      let data;
      try {
        data = JSON.parse(text);
      } catch (error) {
        throw storeError(
          'E_INVALID_ARGUMENT',
          `${file} is not valid JSON (${error.message}); it was read to infer the project's name or version: pass \`cwd\` or \`projectName\`, and \`projectVersion\``,
          { cause: error },
        );
      }
      return data !== null && typeof data === 'object' ? data : {};
    }
    const up = path.dirname(dir);
    if (up === dir) return {};
    dir = up;
  }
}

/** env-paths 2's `config` directory for `name` and `suffix`: conf's default `cwd`. */
function envPathsConfig(name, suffix) {
  if (typeof name !== 'string') throw new TypeError(`Expected \`projectName\` to be a string, got ${typeof name}`);
  if (suffix) name += `-${suffix}`;
  const home = require('node:os').homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Preferences', name);
  if (process.platform === 'win32') return path.join(process.env.APPDATA || path.join(home, 'AppData', 'Roaming'), name, 'Config');
  return path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), name);
}

const UNSUPPORTED_OPTIONS = {};

/** Bytes of a key option: a string (UTF-8), Buffer, TypedArray or DataView. */
function keyBytes(value, name, allowString) {
  if (typeof value === 'string' && allowString) return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  // copies: the store zeroes its copy once the native side holds the key
  if (ArrayBuffer.isView(value)) return Buffer.from(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  if (value instanceof ArrayBuffer) return Buffer.from(Buffer.from(value));
  const want = allowString ? 'a string, Buffer, TypedArray or DataView' : 'a Buffer or Uint8Array (or a function returning one)';
  throw storeError('E_SECRET_KEY', `tad-store: \`${name}\` must be ${want}, got ${value === null ? 'null' : typeof value}`);
}

/**
 * `secretKeys` + `secretKey` (a Buffer, or a function returning one — e.g.
 * `() => safeStorage.decryptString(...)`), or electron-store 8's
 * `encryptionKey`. Returns what the native store takes.
 */
function cryptoOptions(options) {
  const out = {};
  const { secretKeys, encryptionKey } = options;
  let { secretKey } = options;
  if (secretKeys !== undefined && secretKeys !== null) {
    if (!Array.isArray(secretKeys) || secretKeys.some(k => typeof k !== 'string' || k === '')) {
      throw new TypeError("Expected `secretKeys` to be an array of non-empty key paths such as ['ai.apiKey']");
    }
    if (secretKeys.length > 0) out.secretKeys = [...new Set(secretKeys)];
  }
  if (typeof secretKey === 'function') {
    try {
      secretKey = secretKey();
    } catch (error) {
      throw storeError('E_SECRET_KEY', `tad-store: the \`secretKey\` function threw: ${error && error.message}`, { cause: error });
    }
    if (secretKey && typeof secretKey.then === 'function') {
      throw storeError(
        'E_SECRET_KEY',
        'tad-store: the `secretKey` function returned a Promise; it must return the key synchronously (read it before creating the Store)',
      );
    }
  }
  if (secretKey !== undefined && secretKey !== null) {
    if (!out.secretKeys) throw new TypeError('`secretKey` was given without `secretKeys` (the key paths to encrypt)');
    out.secretKey = keyBytes(secretKey, 'secretKey', false);
  }
  if (encryptionKey !== undefined && encryptionKey !== null && encryptionKey !== '') {
    out.encryptionKey = keyBytes(encryptionKey, 'encryptionKey', true);
  }
  return out;
}

/**
 * `serialize` / `deserialize`: `JSON.stringify` / `JSON.parse` as the seed
 * passes them are honoured natively (the file is then compact JSON, as
 * conf's `serialize: JSON.stringify` writes it). Other functions: the store
 * file is written through them (see `#exportSerialized`) while the store keeps
 * its own JSON document and journal under `storeHistory/`.
 * Returns `{ compact, custom: { serialize, deserialize } | null }`.
 */
function serializeOption(options) {
  const { serialize, deserialize } = options;
  const given = f => f !== undefined && f !== null;
  for (const [name, f] of [
    ['serialize', serialize],
    ['deserialize', deserialize],
  ]) {
    if (given(f) && typeof f !== 'function') throw new TypeError(`Expected \`${name}\` to be a function, got ${typeof f}`);
  }
  const customSerialize = given(serialize) && serialize !== JSON.stringify;
  const customDeserialize = given(deserialize) && deserialize !== JSON.parse;
  if (!customSerialize && !customDeserialize) return { compact: serialize === JSON.stringify, custom: null };
  const fallback = serialize === JSON.stringify ? v => JSON.stringify(v) : v => JSON.stringify(v, undefined, '\t');
  return {
    compact: false,
    custom: { serialize: customSerialize ? serialize : fallback, deserialize: customDeserialize ? deserialize : JSON.parse },
  };
}

function normalizeOptions(options, parentDir) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const [name, why] of Object.entries(UNSUPPORTED_OPTIONS)) {
    if (options[name] !== undefined && options[name] !== null) throw storeError('E_UNSUPPORTED', `tad-store: ${why}`);
  }
  const { compact, custom } = serializeOption(options);
  const crypt = cryptoOptions(options);
  if (custom && (crypt.secretKeys || crypt.encryptionKey)) {
    throw storeError(
      'E_UNSUPPORTED',
      "tad-store: custom `serialize` / `deserialize` functions write the file outside the store's encryption; they cannot be combined with `secretKeys` or `encryptionKey`",
    );
  }
  if (custom && options.watch) {
    throw storeError(
      'E_UNSUPPORTED',
      "tad-store: `watch` is not supported with custom `serialize` / `deserialize` functions (the watcher reads the store's own JSON)",
    );
  }
  const electron = electronApp();
  const opts = {
    name: 'config',
    fileExtension: 'json',
    projectSuffix: 'nodejs',
    clearInvalidConfig: false,
    accessPropertiesByDotNotation: true,
    configFileMode: 0o600,
    durability: 'deferred',
    defaults: undefined,
    ...options,
  };
  if (options.name === undefined && typeof options.configName === 'string') opts.name = options.configName;
  if (typeof opts.name !== 'string' || opts.name === '') {
    throw new TypeError(`Expected \`name\` to be a non-empty string, got ${typeof opts.name}`);
  }
  if (typeof opts.fileExtension !== 'string') {
    throw new TypeError(`Expected \`fileExtension\` to be a string, got ${typeof opts.fileExtension}`);
  }
  if (opts.defaults === null) opts.defaults = undefined;
  if (opts.defaults !== undefined && (typeof opts.defaults !== 'object' || Array.isArray(opts.defaults))) {
    throw new TypeError('Expected `defaults` to be an object');
  }
  if (!Number.isInteger(opts.configFileMode) || opts.configFileMode < 0 || opts.configFileMode > 0o777) {
    throw new TypeError('Expected `configFileMode` to be a file mode such as 0o600');
  }
  if (opts.slowOperationMs !== undefined && !(typeof opts.slowOperationMs === 'number' && opts.slowOperationMs >= 0 && Number.isFinite(opts.slowOperationMs))) {
    throw new TypeError('Expected `slowOperationMs` to be a number of milliseconds ≥ 0');
  }
  if (opts.watch !== undefined && typeof opts.watch !== 'boolean') {
    throw new TypeError(`Expected \`watch\` to be a boolean, got ${typeof opts.watch}`);
  }
  if (opts.durability !== 'deferred' && opts.durability !== 'sync') {
    throw new TypeError(`Expected \`durability\` to be 'deferred' or 'sync', got ${JSON.stringify(opts.durability)}`);
  }
  const fromElectron = electronDefaults(electron);
  const userData = fromElectron ? fromElectron.userData : undefined;
  // conf reads the package.json once per store, and only if it needs it
  let pkg;
  const getPackage = () => (pkg === undefined ? (pkg = packageData(parentDir)) : pkg);
  let cwd = opts.cwd;
  if (cwd === undefined || cwd === null || cwd === '') {
    if (userData) {
      cwd = userData;
    } else if (process.versions.electron) {
      // a worker thread (or utility process, or renderer) of an Electron app
      // whose main thread has not shared `userData`: never another file
      throw storeError(
        'E_OPTION',
        `tad-store: no \`cwd\` was given and Electron's \`userData\` directory is not known here (${require('node:worker_threads').isMainThread ? "Electron's `app` is not available in this process" : "a worker thread cannot ask Electron's `app`, and the main thread has not loaded tad-store"}): pass \`cwd\` (e.g. app.getPath('userData'), sent from the main process or thread)`,
      );
    } else {
      // conf: env-paths' config directory of `projectName` (or the package's name)
      const projectName = opts.projectName || getPackage().name;
      if (!projectName) throw storeError('E_INVALID_ARGUMENT', 'Project name could not be inferred. Please specify the `projectName` option.');
      cwd = envPathsConfig(projectName, opts.projectSuffix);
    }
  } else if (typeof cwd !== 'string') {
    throw new TypeError(`Expected \`cwd\` to be a string, got ${typeof cwd}`);
  } else if (!path.isAbsolute(cwd)) {
    cwd = path.resolve(userData || process.cwd(), cwd);
  }
  opts.cwd = cwd;
  opts.compact = compact;
  opts.custom = custom;
  // keys stay out of `opts` (which other code may log or copy)
  delete opts.secretKey;
  delete opts.encryptionKey;
  opts.crypto = crypt;
  if (!opts.projectVersion) {
    // electron-store: the app's version; conf: the package's, when there are migrations
    if (fromElectron) opts.projectVersion = fromElectron.appVersion;
    else if (opts.migrations !== undefined && opts.migrations !== null) opts.projectVersion = getPackage().version;
  }
  if (opts.migrateNewStore !== undefined && typeof opts.migrateNewStore !== 'boolean') {
    throw new TypeError(`Expected \`migrateNewStore\` to be a boolean, got ${typeof opts.migrateNewStore}`);
  }
  const history = opts.history || {};
  if (typeof history !== 'object') throw new TypeError('Expected `history` to be an object');
  opts.historyDir = history.directory ? path.resolve(cwd, history.directory) : path.join(cwd, FILE_NAMES.historyDir);
  opts.historyMax = history.maxEntries === undefined ? 100 : history.maxEntries;
  if (!Number.isInteger(opts.historyMax) || opts.historyMax < 0) {
    throw new TypeError('Expected `history.maxEntries` to be a non-negative integer');
  }
  opts.backup = normalizeBackups(opts.backups, cwd);
  if (opts.schema !== undefined && opts.schema !== null && (typeof opts.schema !== 'object' || Array.isArray(opts.schema))) {
    throw new TypeError('The `schema` option must be an object.');
  }
  if (opts.rootSchema !== undefined && opts.rootSchema !== null && (typeof opts.rootSchema !== 'object' || Array.isArray(opts.rootSchema))) {
    throw new TypeError('The `rootSchema` option must be an object (a JSON Schema).');
  }
  if (opts.validate !== undefined && typeof opts.validate !== 'function') throw new TypeError('Expected `validate` to be a function (data) => string[]');
  if (opts.beforeEachMigration !== undefined && typeof opts.beforeEachMigration !== 'function') {
    throw new TypeError('Expected `beforeEachMigration` to be a function');
  }
  opts.onInvalidData = opts.onInvalidData === undefined ? 'throw' : opts.onInvalidData;
  if (opts.onInvalidData !== 'throw' && opts.onInvalidData !== 'sanitize') {
    throw new TypeError(`Expected \`onInvalidData\` to be 'throw' or 'sanitize', got ${JSON.stringify(opts.onInvalidData)}`);
  }
  if (opts.migrations !== undefined && opts.migrations !== null) opts.steps = require('./migrations.js').normalize(opts.migrations);
  if (opts.defaultsLayer !== undefined && typeof opts.defaultsLayer !== 'boolean') {
    throw new TypeError(`Expected \`defaultsLayer\` to be a boolean, got ${opts.defaultsLayer === null ? 'null' : typeof opts.defaultsLayer}`);
  }
  opts.defaultsLayer = opts.defaultsLayer === true;
  if (opts.defaultsLayer && custom) {
    // the file is written through `serialize` from what the app sees: the defaults would land in it
    throw new TypeError('`defaultsLayer` cannot be combined with custom `serialize`/`deserialize` (the file would be written with the defaults in it)');
  }
  opts.onNewerVersion = checkOnNewerVersion(opts.onNewerVersion);
  // the guard compares versions: the package's, as for migrations, when none was given
  if (opts.onNewerVersion !== 'allow' && !opts.projectVersion) opts.projectVersion = getPackage().version;
  return opts;
}

module.exports = { normalizeOptions, keyBytes };
