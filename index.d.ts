/**
 * tad-store: electron-store 8's API on a native (Rust, Node-API) core that keeps
 * the document in memory, writes it crash-safely in the background, and never
 * wipes a damaged file.
 *
 * CommonJS typings (`export =`, as electron-store 8 types itself):
 * `import Store = require('tad-store')`, `const Store = require('tad-store')`,
 * or `import Store from 'tad-store'` with `esModuleInterop` (and under node16's
 * ESM, through `index.d.mts`). Every other type is a member of the `Store`
 * namespace: `Store.Options<T>`, `Store.Schema<T>`, `Store.StoreError`...
 */

/// <reference types="node" />

import { EventEmitter } from 'node:events';

declare namespace Store {
  // -- JSON Schema (draft-07), self-contained: no runtime or type dependency --

  /** The seven type names of JSON Schema draft-07's `type` keyword. */
  type JSONSchemaTypeName = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

  /** A value a schema can name (`default`, `const`, `enum`, `examples`): anything JSON can hold. */
  type JSONSchemaValue = string | number | boolean | null | object;

  /** The formats draft-07 defines; other names are allowed (an unknown format is ignored by the validator). */
  type JSONSchemaFormat =
    | 'date-time' | 'date' | 'time' | 'email' | 'idn-email' | 'hostname' | 'idn-hostname'
    | 'ipv4' | 'ipv6' | 'uri' | 'uri-reference' | 'iri' | 'iri-reference' | 'uri-template'
    | 'json-pointer' | 'relative-json-pointer' | 'regex';

  /**
   * A JSON Schema (draft-07, the dialect conf's Ajv uses by default): `true`
   * (anything), `false` (nothing), or an object of keywords. Unknown keywords
   * are a type error, so a misspelled `minLenght` is caught by the compiler.
   */
  type JSONSchema = boolean | JSONSchemaObject;

  /** The keywords of a JSON Schema (draft-07) object. */
  interface JSONSchemaObject {
    // core and meta-data
    $id?: string;
    $schema?: string;
    $ref?: string;
    $comment?: string;
    title?: string;
    description?: string;
    /**
     * The value used for a missing property, as conf's Ajv (`useDefaults`)
     * assigns it on every write: only inside an object that exists (nothing is
     * created under an absent parent), again after `delete`/`reset`/`clear`/
     * `store =`, with the defaults inside it filled too. Never under `anyOf`,
     * `oneOf`, `not`, `if`, `contains` or `propertyNames` (the constructor
     * refuses such a schema, as conf does).
     */
    default?: JSONSchemaValue;
    readOnly?: boolean;
    writeOnly?: boolean;
    examples?: readonly JSONSchemaValue[];
    definitions?: { [name: string]: JSONSchema };

    // any instance
    type?: JSONSchemaTypeName | readonly JSONSchemaTypeName[];
    enum?: readonly JSONSchemaValue[];
    const?: JSONSchemaValue;

    // numbers
    multipleOf?: number;
    maximum?: number;
    exclusiveMaximum?: number;
    minimum?: number;
    exclusiveMinimum?: number;

    // strings
    maxLength?: number;
    minLength?: number;
    pattern?: string;
    format?: JSONSchemaFormat | (string & {});
    contentMediaType?: string;
    contentEncoding?: string;

    // arrays
    items?: JSONSchema | readonly JSONSchema[];
    additionalItems?: JSONSchema;
    maxItems?: number;
    minItems?: number;
    uniqueItems?: boolean;
    contains?: JSONSchema;

    // objects
    maxProperties?: number;
    minProperties?: number;
    required?: readonly string[];
    properties?: { [property: string]: JSONSchema };
    patternProperties?: { [pattern: string]: JSONSchema };
    additionalProperties?: JSONSchema;
    dependencies?: { [property: string]: JSONSchema | readonly string[] };
    propertyNames?: JSONSchema;

    // conditionals and combinations
    if?: JSONSchema;
    then?: JSONSchema;
    else?: JSONSchema;
    allOf?: readonly JSONSchema[];
    anyOf?: readonly JSONSchema[];
    oneOf?: readonly JSONSchema[];
    not?: JSONSchema;
  }

  /** The schema of one top-level key. */
  type ValueSchema = JSONSchema;

  /** electron-store's / conf's `schema` option: a JSON Schema per top-level key. */
  type Schema<T> = { [Property in keyof T]: ValueSchema };

  // -- options -----------------------------------------------------------------

  /** Options of the history journal. */
  interface HistoryOptions {
    /** Directory of the journal. Default `<cwd>/storeHistory`. */
    directory?: string;
    /** Change records kept after they are in the store file. Default 100. */
    maxEntries?: number;
  }

  /** Automatic and manual backups. */
  interface BackupOptions {
    /** Directory of backups. Default `<cwd>/backups`. */
    directory?: string;
    /** Backups kept (older ones are pruned once a new one is verified). Default 10. */
    maxBackups?: number;
    /** Scheduled backups every `interval` ms (skipped when nothing changed). Default 24 h; 0 turns them off. The timer never keeps the process alive. */
    interval?: number;
    /** A backup at open when the store is not empty and differs from the newest backup. Default true. */
    onStart?: boolean;
    /** Keys (dot paths) whose change triggers a backup, e.g. `['settings', 'workspaces', 'user', 'ai.apiKey']`. Default none. */
    criticalKeys?: string[];
    /** Changes to critical keys within this many ms make one backup. Default 2000. */
    coalesceMs?: number;
  }

  /** electron-store's migrations: `{ '<version or npm range>': store => {...} }`. */
  type Migrations<T extends Record<string, any>> = Record<string, (store: Store<T>) => void>;

  /** The seed's migrations: `[{ version, name, up }]` (`down` is accepted and not run). */
  interface MigrationStep<T extends Record<string, any>> {
    version: string;
    name?: string;
    up: (store: Store<T>) => void;
    down?: (store: Store<T>) => void;
  }

  interface BeforeEachMigrationContext {
    fromVersion: string;
    toVersion: string;
    finalVersion: string;
    versions: string[];
  }

  type BeforeEachMigrationCallback<T extends Record<string, any>> = (store: Store<T>, context: BeforeEachMigrationContext) => void;

  type Serialize<T> = (value: T) => string;
  type Deserialize<T> = (text: string) => T;

  /** The key the app supplies for `secretKeys` (e.g. decrypted with Electron's `safeStorage`). */
  type SecretKey = Buffer | Uint8Array;

  interface Options<T extends Record<string, any> = Record<string, unknown>> {
    /** File base name. Default `'config'`. */
    name?: string;
    /** conf's name for `name`. */
    configName?: string;
    /**
     * Directory of the store. Default: Electron's `app.getPath('userData')`
     * (in a worker thread, the main thread's); elsewhere conf's config
     * directory for `projectName`. Required (`E_OPTION`) in an Electron worker
     * whose main thread has not loaded tad-store, a utility process or a
     * renderer. A relative path is resolved against userData (or the process's
     * working directory outside Electron).
     */
    cwd?: string;
    /** conf's: the project whose config directory is the default `cwd` outside Electron. */
    projectName?: string;
    /** conf's: suffix of that directory's name (default `'nodejs'`; `''` for none). */
    projectSuffix?: string;
    /** File extension without the dot. Default `'json'`; `''` means none. */
    fileExtension?: string;
    /**
     * Top-level values merged under the file's keys when the store opens, as
     * conf does (written, these keys first). At open only: a key deleted later
     * stays deleted unless the schema gives it a default.
     */
    defaults?: Readonly<Partial<T>>;
    /**
     * A damaged store file: `false` (default) throws an error with code `E_CORRUPT`
     * and leaves the file untouched; `true` starts from `defaults`, keeping the
     * damaged file beside the store as `<file>.corrupt-<ms>`.
     */
    clearInvalidConfig?: boolean;
    /** Treat `a.b` keys as paths. Default `true`. */
    accessPropertiesByDotNotation?: boolean;
    /** Mode of the files the store creates. Default `0o600` (conf: 0o666). A looser existing file is tightened. */
    configFileMode?: number;
    /** Your app's version (Electron: `app.getVersion()`). */
    projectVersion?: string;
    /**
     * `'deferred'` (default): `set` returns at once and a background writer makes
     * the change durable immediately (changes queued during a write go in the next
     * one). `'sync'`: `set` returns once the change is durable (fsync'd).
     */
    durability?: 'deferred' | 'sync';
    /** The change journal. */
    history?: HistoryOptions;
    /** Backups; `false` turns the automatic ones off (createBackup() still works). */
    backups?: BackupOptions | false;
    /**
     * Watch the file and the journal: other programs' edits (applied as one
     * `external-change`, or reported as `'invalid-external-change'` when they do
     * not parse or fail the schema) and other processes' changes arrive as change
     * events within milliseconds. Own writes never echo. Stops on `close()`;
     * never keeps the process alive.
     */
    watch?: boolean;
    /** electron-store's: encrypts the store file (electron-store 8's on-disk format); the journal and backups too. */
    encryptionKey?: string | Buffer | NodeJS.TypedArray | DataView;
    /**
     * Dot paths whose values are encrypted at rest (AEAD) with `secretKey`
     * everywhere the store writes bytes: the file, the journal, backups and snapshots.
     */
    secretKeys?: readonly string[];
    /** The key for `secretKeys`, or a function that returns it. */
    secretKey?: SecretKey | (() => SecretKey);
    /** Turns the document into the file's text. `JSON.stringify` is honoured natively (compact JSON). */
    serialize?: Serialize<T>;
    /** Turns the file's text into the document. `JSON.parse` is honoured natively. */
    deserialize?: Deserialize<T>;
    /** Report operations of this instance slower than this many ms as `store.events` `'slowOperation'` (`{ operation, durationMs }`). */
    slowOperationMs?: number;
    /**
     * electron-store's schema: a JSON Schema (draft-07) per top-level key. Every
     * write is checked first (`E_SCHEMA`), and its `default`s are applied as
     * conf applies them (see `JSONSchemaObject.default`).
     */
    schema?: Schema<T>;
    /** A JSON Schema for the whole document (an object schema); its defaults apply after `schema`'s. */
    rootSchema?: JSONSchemaObject;
    /** Your own rules on top of the schema: return error messages. */
    validate?: (data: T) => string[];
    /**
     * A loaded document that fails validation: throw `E_SCHEMA` (default), or
     * `'sanitize'`: back it up, drop the invalid parts and refill the defaults
     * as if the file had been opened without them (`defaults` values first, then
     * schema defaults; a default the schema refuses is dropped).
     */
    onInvalidData?: 'throw' | 'sanitize';
    /** `{ '<version or npm range>': store => {...} }` or `[{ version, name, up }]`; run in semver order as one transaction. */
    migrations?: Migrations<T> | ReadonlyArray<MigrationStep<T>>;
    /**
     * A brand-new store (no file yet) runs every migration up to `projectVersion`,
     * as conf does (default `true`); `false` only records `projectVersion`.
     */
    migrateNewStore?: boolean;
    /** Called before each migration step. */
    beforeEachMigration?: BeforeEachMigrationCallback<T>;
    /**
     * The downgrade guard: what to do with a store last migrated by a higher
     * `projectVersion` than this app's (a user who went back to an older
     * version). `'allow'` (default, electron-store's behaviour): open it as it
     * is and run nothing. `'read-only'`: open it for reading — no defaults
     * merged, no migration, no schema check, no start backup — and refuse
     * every write with `E_READ_ONLY` naming both versions
     * (`restoreMigrationBackup()` stays allowed: it is the way back, and lifts
     * the guard when the restored state is not from a newer version).
     * `'throw'`: refuse to open with `E_NEWER_VERSION`. Either way nothing is
     * changed on disk. Without `projectVersion` (and outside Electron) the
     * package's version is used, as for migrations.
     */
    onNewerVersion?: 'allow' | 'read-only' | 'throw';
    /**
     * Defaults as a layer (default `false`: electron-store 8's behaviour, the
     * defaults written into the file). With `true`, `defaults` and the
     * schema's defaults are read through and never written: the file holds
     * only the user's values, and `get`, `has`, `size`, `store` show the
     * user's values deep-merged over the defaults (objects merged key by key,
     * user wins; arrays and scalars replace the default whole), with the
     * schema's defaults filled in. `reset(key)` and `delete(key)` remove the
     * user's value so the default shows; `clear()` leaves only the defaults;
     * a changed default in a new app version shows to users who never set the
     * key. The schema checks the merged view. Migrations read and write the
     * user's values only (inside a migration `get` returns the user's own
     * value, `undefined` where only a default is). `inspect(key)` tells where
     * a value comes from. Not with a custom `serialize`.
     */
    defaultsLayer?: boolean;
  }

  /** What `inspect(key)` returns. */
  interface Inspection<V = unknown> {
    /** What the app sees (`get(key)`). */
    value: V | undefined;
    /** What the app would see if the user had no value at `key` (the defaults'). */
    defaultValue: V | undefined;
    /** The user's own value at `key` as stored (for an object over a default object, possibly only part of `value`). */
    userValue: V | undefined;
    /** `'user'`: the user's values hold something at `key`; `'default'`: only the defaults; `'none'`: nothing. */
    source: 'user' | 'default' | 'none';
  }

  // -- callbacks ----------------------------------------------------------------

  /** `onDidChange`'s callback. */
  type OnDidChangeCallback<T> = (newValue?: T, oldValue?: T) => void;
  /** `onDidAnyChange`'s callback. */
  type OnDidAnyChangeCallback<T> = (newValue?: Readonly<T>, oldValue?: Readonly<T>) => void;
  /**
   * One changed key of a change, as `onChange` (and renderers) see it. `path`
   * (`onChange('*')` only): the key's segments, which tell a top-level key
   * named `'a.b'` (a bulk change's keys are top-level names) from the path `a` → `b`.
   */
  type ChangeListener<V = unknown> = (newValue: V | undefined, oldValue: V | undefined, key: string, path?: readonly string[]) => void;
  /** Returned by every subscription: call it to unsubscribe. */
  type Unsubscribe = () => void;

  // -- results ------------------------------------------------------------------

  /** `listBackups()`, `listMigrationBackups()` */
  interface BackupInfo {
    file: string;
    path: string;
    /**
     * `listMigrationBackups()` only: the version the store was at before the
     * migration run the snapshot was taken for (the state a downgraded app
     * can go back to), or null for a snapshot taken otherwise.
     */
    fromVersion?: string | null;
    /** `listMigrationBackups()` only: the version that run migrated to, or null. */
    toVersion?: string | null;
    /** `null` when the `.meta.json` is missing or unreadable (such a backup cannot be restored). */
    metadata: {
      originalFile: string;
      /** ISO 8601 */
      backupTime: string;
      reason: string;
      /** SHA-256 (hex) of the backup file's bytes. */
      hash: string;
      size: number;
      /** The last change (history seq) the backup holds. */
      seq: number;
      /** Merkle hash of the document, as in the history entries. */
      documentHash: string;
    } | null;
  }

  /** One entry of `getHistorySummary()`. */
  interface HistoryEntry {
    seq: number;
    /** ISO 8601 */
    timestamp: string;
    /** ms since 1970 */
    time: number;
    /** `set`, `delete`, `setMultiple`, `clear`, `store`, `defaults`, `restore`, `rollback`, `reload`, `external-edit`, `recover`, ... */
    operation: string;
    keys: string[];
    /** Merkle hashes (SHA-256, hex) of the document before and after. */
    hashBefore: string | null;
    hashAfter: string | null;
    /** False for an edit made by another program while the store was closed: history cannot be rolled back past it. */
    reversible: boolean;
  }

  interface HistorySummary {
    totalEntries: number;
    entries: HistoryEntry[];
    metadata: {
      totalEntries: number;
      lastOperation: { type: string; timestamp: string } | null;
      lastModified: string | null;
    };
  }

  interface RollbackResult {
    success: true;
    /** The time (ISO) or change number rolled back to. */
    rolledBackTo: string | number;
    changesReverted: number;
    /** The change the store is now exactly after. */
    seq: number;
  }

  /** `rotateSecretKey()`: what was re-encrypted with the new key. */
  interface RotationReport {
    /** The store file was rewritten. */
    document: boolean;
    /** Journal entries re-encrypted. */
    journalEntries: number;
    /** Migration snapshots re-encrypted. */
    snapshots: number;
    backups: {
      rotated: number;
      /** Backups that could not be re-encrypted (they keep the old key). */
      failed: Array<{ path: string; code: string; message: string }>;
    };
  }

  /** `validateData()`, `validateMigrationBackup()` */
  interface ValidationResult {
    valid: boolean;
    errors: string[];
  }

  /** `close()` */
  interface CloseOptions {
    /** Close even when the pending changes cannot be written (they are dropped). */
    force?: boolean;
  }

  /** One operation's timing in microseconds (`getPerformanceStats()`). */
  interface OperationStats {
    count: number;
    mean: number;
    p50: number;
    p95: number;
    max: number;
    /** `get` only: repeated reads of an unchanged key answered from the JS-side cache (counted, not timed). */
    cached?: number;
  }

  /** `flush()`/`flushSync()`: `file: true` waits for the JSON file to hold every change too. */
  interface FlushOptions {
    file?: boolean;
  }
  /** Per operation: `get`, `has`, `set`, `delete`, `setMultiple`, `replace`, `reload`, `flush` (those called at least once). */
  type PerformanceStats = Partial<Record<'get' | 'has' | 'set' | 'delete' | 'setMultiple' | 'replace' | 'reload' | 'flush', OperationStats>>;

  /** `getStoreInfo()` */
  interface StoreInfo {
    path: string;
    /** Number of top-level keys. */
    size: number;
    /** Bytes of the store file on disk. */
    fileSize: number;
    keys: string[];
    /** `__internal__.migrations.version`, else `projectVersion`, else null. */
    version: string | null;
    /** Subscriptions on this instance. */
    listeners: number;
    durability: 'deferred' | 'sync';
    /** Number of the last change. */
    seq: number;
    /** Last change that is durable in the journal. */
    durableSeq: number;
    /** Last change that is in the store file. */
    checkpointedSeq: number;
    /** Changes not yet durable. */
    pendingWrites: number;
    journalBytes: number;
    /** The background writer's last error while it retries (`null` once a write succeeds again). */
    writerError: { code: string; message: string } | null;
    /** The store directory or file is not writable: reads work, writes throw `E_READONLY`. */
    readOnly: boolean;
    /** What opening found: a quarantined file, journal changes replayed, an external edit. */
    recovery: RecoveryReport;
  }

  /** `getStoreInfo().recovery`, `getHealthReport().recovery` */
  interface RecoveryReport {
    /** Where a damaged store file was kept aside, if one was. */
    quarantined: string | null;
    /** Journal changes applied on top of the file at open. */
    replayed: number;
    /** The file matched no checkpoint: another program edited it while the store was closed. */
    externalEdit: boolean;
    /** The store file was missing while a journal existed (it was rebuilt). */
    missingFile: boolean;
    readOnly: boolean;
    /** Temp files of interrupted writes removed at open. */
    tempsRemoved: number;
    /** Damage found in the journal (the untrusted rest is kept aside as `.damaged-<ms>`). */
    journalDamage: string | null;
    /** How a damaged store file was rebuilt (from the history, or a backup and the changes after it). */
    recovered: string | null;
  }

  /** `getHealthReport()` */
  interface HealthReport {
    storeSize: number;
    keyCount: number;
    listenerCount: number;
    backupCount: number;
    lastBackup: string | null;
    historyEntries: number;
    durability: 'deferred' | 'sync';
    pendingWrites: number;
    lastCheckpointMs: number;
    writerError: { code: string; message: string } | null;
    /**
     * Why the journal could not be trimmed at the last document write (another
     * program held it, say); tried again at the next. `null` when it was.
     */
    journalTrimError: { code: string; message: string } | null;
    readOnly: boolean;
    /**
     * `watch: true` and the OS watcher works. `false` while a watcher that
     * stopped (reported as an `'error'` event with code `E_WATCH`) waits to
     * restart; changes are still picked up by its stat check meanwhile.
     */
    watching: boolean;
    recovery: RecoveryReport;
    performance: PerformanceStats;
    healthy: boolean;
  }

  // -- errors -------------------------------------------------------------------

  /** The stable `code` of every error the store throws. */
  // <generated by scripts/error-codes.js from core/src/error.rs (Code): do not edit>
  type StoreErrorCode =
    | 'E_INVALID_ARGUMENT' | 'E_FORBIDDEN_KEY' | 'E_TOO_DEEP' | 'E_CORRUPT' | 'E_IO' | 'E_NOSPC'
    | 'E_READONLY' | 'E_LOCKED' | 'E_CLOSED' | 'E_JOURNAL' | 'E_UNSUPPORTED' | 'E_OPTION_CONFLICT'
    | 'E_HISTORY_TRUNCATED' | 'E_HISTORY_MISMATCH' | 'E_BACKUP_NOT_FOUND' | 'E_BACKUP_CORRUPT'
    | 'E_SCHEMA' | 'E_TRANSACTION' | 'E_NESTED' | 'E_NEWER_VERSION' | 'E_READ_ONLY' | 'E_SECRET_KEY'
    | 'E_WATCH' | 'E_INTERNAL' | 'E_OPTION' | 'E_MIGRATION' | 'E_SERIALIZE';
  // </generated>

  /**
   * Errors thrown by the store carry a stable `code` (set natively). Argument
   * errors are `TypeError`s (`E_INVALID_ARGUMENT`, `E_FORBIDDEN_KEY`); a value
   * or file nested deeper than the store's limit (8,192 levels, the document's
   * top-level object included) is a `RangeError` with `E_TOO_DEEP`. I/O errors
   * carry the OS error as `cause` (`cause.code` e.g. `'ENOSPC'`, `cause.errno`) and
   * the file as `path`; `E_MIGRATION` carries the thrown error as `cause` and the
   * step as `migration`.
   */
  /**
   * The `tx` a `transaction()` function reads and writes through (the store's
   * `get`, `set`, `delete`, `has`, seeing the transaction's own changes). It
   * throws `E_TRANSACTION` once the transaction has ended.
   */
  interface Transaction<T extends Record<string, any> = Record<string, unknown>> {
    get<Key extends keyof T>(key: Key): T[Key];
    get<Key extends keyof T>(key: Key, defaultValue: Required<T>[Key]): Required<T>[Key];
    get<Key extends string, Value = unknown>(key: Exclude<Key, keyof T>, defaultValue?: Value): Value;
    set<Key extends keyof T>(key: Key, value: T[Key]): void;
    set<Key extends string>(key: Exclude<Key, keyof T>, value: unknown): void;
    set(object: Partial<T>): void;
    delete<Key extends keyof T>(key: Key | (string & {})): void;
    has<Key extends keyof T>(key: Key | (string & {})): boolean;
  }

  /** A synchronous function's result: a Promise (any thenable) is refused with a `TypeError`. */
  type NotPromise<R> = R extends PromiseLike<any> ? never : R;

  interface StoreError extends Error {
    code: StoreErrorCode | (string & {});
    path?: string;
    migration?: string;
    /** `E_NEWER_VERSION`, `E_READ_ONLY`: the version that last migrated the store. */
    newerVersion?: string;
    /** `E_NEWER_VERSION`, `E_READ_ONLY`: this app's version. */
    projectVersion?: string;
    cause?: unknown;
  }
}

/**
 * electron-store 8 / conf 10.2's `Store`: a JSON document of top-level keys `T`,
 * in memory, written crash-safely to `path`.
 */
declare class Store<T extends Record<string, any> = Record<string, unknown>> implements Iterable<[keyof T, T[keyof T]]> {
  constructor(options?: Store.Options<T>);

  /** The class itself (`require('tad-store').Store`). */
  static readonly Store: typeof Store;
  /** The class itself (`require('tad-store').default`). */
  static readonly default: typeof Store;

  /** electron-store 8's: in Electron's main process, answers the renderer-side Store's data request. A no-op outside Electron. */
  static initRenderer(): void;

  /** Absolute path of the store file. */
  readonly path: string;
  /**
   * conf's emitter: `'change'` after every change (also another process's);
   * `'invalid-external-change'` (`{ code, reason, path, file }`) when another
   * program's edit was not applied (`watch: true`);
   * `'error'` when a deferred write fails (it is retried) or another process's
   * change makes a queued one fail the schema; `'writeRecovered'` when writing
   * works again; `'listenerError'` when a listener (or an automatic backup)
   * fails; `'recovered'` when a damaged file was rebuilt at open;
   * `'slowOperation'` with `slowOperationMs`.
   */
  readonly events: EventEmitter;
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /** Set when the store was last migrated by a newer app version (nothing was run; with `onNewerVersion: 'read-only'` the store is read-only). */
  readonly newerVersion?: string;

  /** A fresh copy of the value at `key`. */
  get<Key extends keyof T>(key: Key): T[Key];
  /** A fresh copy of the value at `key`, or `defaultValue` when there is none. */
  get<Key extends keyof T>(key: Key, defaultValue: Required<T>[Key]): Required<T>[Key];
  /** A dot path (`'a.b.c'`) that is not a top-level key of `T`. */
  get<Key extends string, Value = unknown>(key: Exclude<Key, keyof T>, defaultValue?: Value): Value;

  /** Sets a value (JSON only: BigInt, circular values, functions, symbols, Map and Set throw a TypeError; nothing is written). */
  set<Key extends keyof T>(key: Key, value: T[Key]): void;
  /** Sets the value at a dot path (a top-level key of `T` takes a `T[Key]`, above). */
  set<Key extends string>(key: Exclude<Key, keyof T>, value: unknown): void;
  /** Sets several keys as one change. */
  set(object: Partial<T>): void;

  /** Whether `key` (a top-level key or a dot path) holds a value. */
  has<Key extends keyof T>(key: Key | string): boolean;
  /**
   * Deletes `key`. An array element becomes `null` (as electron-store writes it).
   * A schema default for it comes back at once (conf validates every write).
   */
  delete<Key extends keyof T>(key: Key): void;
  /** Sets the keys to their `defaults` (or truthy top-level schema default); keys without one are left alone. */
  reset<Key extends keyof T>(...keys: Key[]): void;
  /** Deletes everything but `defaults` and the schema's defaults (and the internal migration state), as one change. */
  clear(): void;

  /** The whole store (a fresh copy). Setting it replaces everything (one change). */
  store: T;
  /** Number of top-level keys. */
  readonly size: number;
  [Symbol.iterator](): IterableIterator<[keyof T, T[keyof T]]>;

  /** `callback(newValue, oldValue)` when the value at `key` really changes (deep comparison). */
  onDidChange<Key extends keyof T>(key: Key, callback: Store.OnDidChangeCallback<T[Key]>): Store.Unsubscribe;
  /** `callback(newStore, oldStore)` on any change. Costs a whole-store read per change. */
  onDidAnyChange(callback: Store.OnDidAnyChangeCallback<T>): Store.Unsubscribe;
  /** Opens the file with Electron's `shell.openPath`; rejects with `E_UNSUPPORTED` outside Electron. */
  openInEditor(): Promise<void>;

  /**
   * Sets `key` to `fn(current)` atomically across every process: the shared
   * journal is locked and caught up first, so `current` is the latest value
   * any process wrote, and no process writes between the read and the write
   * (4 processes × 1,000 `update('n', (n = 0) => n + 1)` give 4,000). `current`
   * is a fresh copy (mutating and returning it is fine), `undefined` when the
   * key is absent. One change, one history entry (`update`); returns the new
   * value as stored (a `Date` comes back as its ISO string).
   *
   * `fn` must be synchronous and return the new value: returning a Promise
   * (any thenable) or `undefined` is a `TypeError` and nothing changes (to
   * remove the key, use `transaction(tx => tx.delete(key))`). A throw from
   * `fn`, or a value `set` refuses (schema, type), changes nothing.
   * Inside another `update()` / `transaction()` on the same file in the same
   * thread: `E_NESTED`. Other processes' changes found on the way are
   * delivered to listeners after `fn` has run.
   */
  update<Key extends keyof T, R extends T[Key]>(key: Key, fn: (current: T[Key] | undefined) => Store.NotPromise<R>): R;
  update<Key extends string, R = unknown, Current = unknown>(key: Exclude<Key, keyof T>, fn: (current: Current | undefined) => Store.NotPromise<R>): R;
  /**
   * Runs `fn(tx)` as one atomic change on the latest state across every
   * process (as `update`): everything it changes through `tx` is written as
   * one history entry (`transaction`) — or, if it throws (or returns a
   * Promise: a `TypeError`), nothing is, and listeners hear nothing. Listeners
   * hear the net change once, after it commits. Nested: `E_NESTED`. Returns
   * what `fn` returns.
   */
  transaction<R>(fn: (tx: Store.Transaction<T>) => Store.NotPromise<R>): R;

  /**
   * Where the value at `key` comes from (`defaultsLayer`): `{ value,
   * defaultValue, userValue, source }`. Without the layer the file holds the
   * defaults as the user's values: `userValue` is the value, `source` is
   * `'user'` (or `'none'`), `defaultValue` what the defaults would put there.
   */
  inspect<Key extends keyof T>(key: Key): Store.Inspection<T[Key]>;
  inspect<V = unknown>(key: string): Store.Inspection<V>;

  /** The whole store (same as `store`). */
  getAll(): T;
  /** Sets every key/value of `data` (keys are dot paths) as one atomic change. */
  setMultiple(data: Partial<T> | Record<string, unknown>): true;
  /**
   * `callback(newValue, oldValue, key)` when `key` changes; with `'*'`, once per
   * changed key of every change (a bulk change gives one call per changed top-level key).
   */
  onChange<Key extends keyof T>(key: Key, callback: Store.ChangeListener<T[Key]>): Store.Unsubscribe;
  onChange<V = unknown>(key: '*' | (string & {}), callback: Store.ChangeListener<V>): Store.Unsubscribe;
  /** Re-reads the file now and emits events for what changed; a damaged file throws `E_CORRUPT` and is not applied. */
  reload(): true;
  getStoreInfo(): Store.StoreInfo;
  /** Timing of this instance's operations, measured in the core with a fixed-size histogram (reads: 1 in 16 timed). */
  getPerformanceStats(): Store.PerformanceStats;
  resetPerformanceStats(): void;
  /**
   * Resolves when every change so far is durable (in the journal). The JSON file is
   * rewritten later (checkpoints, `close()`, the process's end); `{ file: true }` waits
   * for the JSON file to hold every change too.
   */
  flush(options?: Store.FlushOptions): Promise<void>;
  /** Blocks until every change so far is durable (`{ file: true }`: and in the JSON file). */
  flushSync(options?: Store.FlushOptions): void;
  /**
   * Flushes and releases the store; its methods then throw `E_CLOSED`. When the
   * pending changes cannot be written (disk full, I/O error) it throws that error
   * and the store stays open with them; `{ force: true }` closes anyway and drops
   * what could not be written.
   */
  close(options?: Store.CloseOptions): void;

  /** Takes a verified backup; resolves to its path. */
  createBackup(reason?: string): Promise<string>;
  /** The backups, newest first. */
  listBackups(): Promise<Store.BackupInfo[]>;
  /**
   * Restores a backup given by file name or by the `path` listBackups() returned
   * (anything else: `E_BACKUP_NOT_FOUND`). Verifies its hash (`E_BACKUP_CORRUPT`),
   * backs the current state up first, and fires change events.
   */
  restoreBackup(fileOrPath: string): Promise<true>;
  /** The kept change history (newest `history.maxEntries` entries). */
  getHistorySummary(): Promise<Store.HistorySummary>;
  /**
   * Makes the store exactly what it was at `time`: every later change undone,
   * newest first, verified against the recorded hash; the rollback is itself a
   * change. Older than the kept history: `E_HISTORY_TRUNCATED`, nothing changed.
   */
  rollbackToTimestamp(time: string | number | Date): Promise<Store.RollbackResult>;
  /** Makes the store what it was right after change `seq`. */
  rollbackToSeq(seq: number): Promise<Store.RollbackResult>;
  getHealthReport(): Store.HealthReport;

  /** Checks `data` against the schema and your `validate` option. */
  validateData(data: unknown): Store.ValidationResult;
  /** The migration snapshots, newest first. */
  listMigrationBackups(): Promise<Store.BackupInfo[]>;
  /** Restores a migration snapshot given by file name only. */
  restoreMigrationBackup(name: string): Promise<true>;
  /** Checks a migration snapshot (hash, parse, schema, your `validate`) given by file name only. */
  validateMigrationBackup(name: string): Promise<Store.ValidationResult>;

  /**
   * Re-encrypts the `secretKeys` values with `newKey` everywhere they are at rest
   * (the file, the journal, snapshots and backups); `E_SECRET_KEY` on a bad key.
   */
  rotateSecretKey(newKey: Store.SecretKey): Store.RotationReport;
}

export = Store;
