/**
 * tad-store: electron-store 8's API on a native (Rust, Node-API) core that keeps
 * the document in memory, writes it crash-safely in the background, and never
 * wipes a damaged file.
 */

import { EventEmitter } from 'node:events';

/** Options of the history journal. */
export interface HistoryOptions {
  /** Directory of the journal. Default `<cwd>/storeHistory`. */
  directory?: string;
  /** Change records kept after they are in the store file. Default 100. */
  maxEntries?: number;
}

/** Automatic and manual backups. */
export interface BackupOptions {
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

/** `listBackups()` */
export interface BackupInfo {
  file: string;
  path: string;
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
export interface HistoryEntry {
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

export interface HistorySummary {
  totalEntries: number;
  entries: HistoryEntry[];
  metadata: {
    totalEntries: number;
    lastOperation: { type: string; timestamp: string } | null;
    lastModified: string | null;
  };
}

export interface RollbackResult {
  success: true;
  /** The time (ISO) or change number rolled back to. */
  rolledBackTo: string | number;
  changesReverted: number;
  /** The change the store is now exactly after. */
  seq: number;
}

/** One operation's timing in microseconds (`getPerformanceStats()`). */
export interface OperationStats {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  max: number;
  /** `get` only: repeated reads of an unchanged key answered from the JS-side cache (counted, not timed). */
  cached?: number;
}

/** Per operation: `get`, `has`, `set`, `delete`, `setMultiple`, `replace`, `reload`, `flush` (those called at least once). */
export type PerformanceStats = Partial<Record<'get' | 'has' | 'set' | 'delete' | 'setMultiple' | 'replace' | 'reload' | 'flush', OperationStats>>;

/** `getHealthReport()` */
export interface HealthReport {
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
  readOnly: boolean;
  /** `watch: true` and the watcher runs. */
  watching: boolean;
  recovery: StoreInfo['recovery'];
  performance: PerformanceStats;
  healthy: boolean;
}

export interface Options<T extends Record<string, any> = Record<string, unknown>> {
  /** File base name. Default `'config'`. */
  name?: string;
  /** conf's name for `name`. */
  configName?: string;
  /**
   * Directory of the store. Default: Electron's `app.getPath('userData')`;
   * required outside Electron. A relative path is resolved against userData
   * (or the process's working directory outside Electron).
   */
  cwd?: string;
  /** File extension without the dot. Default `'json'`; `''` means none. */
  fileExtension?: string;
  /** Top-level values used for keys the file lacks (written to the file at open). */
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
  /** Your app's version (Electron: `app.getVersion()`; else, when there are migrations, the nearest package.json's, as conf). */
  projectVersion?: string;
  /** Outside Electron without `cwd`: the store goes in env-paths' config directory of `<projectName>-<projectSuffix>` (conf). Default: the nearest package.json's name. */
  projectName?: string;
  /** See `projectName`. Default `'nodejs'`; `''` for none. */
  projectSuffix?: string;
  /** `false`: a new store only records `projectVersion` instead of running every migration from 0.0.0 as conf does. Default `true`. */
  migrateNewStore?: boolean;
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
  /** Only `JSON.stringify` (honoured natively: the file is compact JSON); other functions throw `E_UNSUPPORTED`. */
  serialize?: (value: T) => string;
  /** Only `JSON.parse`; other functions throw `E_UNSUPPORTED`. */
  deserialize?: (text: string) => T;
  /** Report operations of this instance slower than this many ms as `store.events` `'slowOperation'` (`{ operation, durationMs }`). */
  slowOperationMs?: number;
  /** electron-store's schema: a JSON Schema `properties` map. Every write is checked first (`E_SCHEMA`). */
  schema?: Record<string, object>;
  /** A JSON Schema for the whole document. */
  rootSchema?: object;
  /** Your own rules on top of the schema: return error messages. */
  validate?: (data: T) => string[];
  /** A loaded document that fails validation: throw `E_SCHEMA` (default) or repair it (after a backup). */
  onInvalidData?: 'throw' | 'sanitize';
  /** `{ '<version or npm range>': store => {...} }` or `[{ version, name, up }]`; run in semver order as one transaction. */
  migrations?: Record<string, (store: Store<T>) => void> | Array<{ version: string; name?: string; up: (store: Store<T>) => void; down?: (store: Store<T>) => void }>;
  /** Called before each migration step. */
  beforeEachMigration?: (store: Store<T>, context: { fromVersion: string; toVersion: string; finalVersion: string; versions: string[] }) => void;
}

/** One changed key of a change, as `onChange('*')` and renderers see it. */
export type ChangeListener<V = unknown> = (newValue: V | undefined, oldValue: V | undefined, key: string) => void;

/** Returned by every subscription: call it to unsubscribe. */
export type Unsubscribe = () => void;

/** `getStoreInfo()` */
export interface StoreInfo {
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
  recovery: {
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
  };
}

/** The stable `code` of every error the store throws. */
export type StoreErrorCode =
  | 'E_INVALID_ARGUMENT' | 'E_FORBIDDEN_KEY' | 'E_CLOSED' | 'E_CORRUPT' | 'E_IO' | 'E_NOSPC'
  | 'E_READONLY' | 'E_LOCKED' | 'E_JOURNAL' | 'E_UNSUPPORTED' | 'E_OPTION_CONFLICT'
  | 'E_HISTORY_TRUNCATED' | 'E_HISTORY_MISMATCH' | 'E_BACKUP_NOT_FOUND' | 'E_BACKUP_CORRUPT'
  | 'E_SCHEMA' | 'E_MIGRATION' | 'E_TRANSACTION' | 'E_INTERNAL';

/**
 * Errors thrown by the store carry a stable `code` (set natively). Argument
 * errors are `TypeError`s (`E_INVALID_ARGUMENT`, `E_FORBIDDEN_KEY`). I/O errors
 * carry the OS error as `cause` (`cause.code` e.g. `'ENOSPC'`, `cause.errno`) and
 * the file as `path`; `E_MIGRATION` carries the thrown error as `cause`.
 */
export interface StoreError extends Error {
  code: StoreErrorCode | string;
  path?: string;
  cause?: unknown;
}

declare class Store<T extends Record<string, any> = Record<string, unknown>> implements Iterable<[keyof T, T[keyof T]]> {
  constructor(options?: Options<T>);

  /** Absolute path of the store file. */
  readonly path: string;
  /**
   * conf's emitter: `'change'` after every change (also another process's);
   * `'invalid-external-change'` (`{ code, reason, path, file }`) when another
   * program's edit was not applied (`watch: true`);
   * `'error'` when a deferred write fails (it is retried) or another process's
   * change makes a queued one fail the schema; `'writeRecovered'` when writing
   * works again; `'listenerError'` when a listener (or an automatic backup)
   * fails; `'recovered'` when a damaged file was rebuilt at open.
   */
  readonly events: EventEmitter;
  /** Whether `close()` was called. */
  readonly closed: boolean;

  /** A fresh copy of the value at `key` (a dot path), or `defaultValue`. */
  get<K extends keyof T>(key: K): T[K];
  get<K extends keyof T>(key: K, defaultValue: Required<T>[K]): Required<T>[K];
  get<V = unknown>(key: string, defaultValue?: V): V;

  /** Sets a value (JSON only: BigInt, circular values, functions, symbols, Map and Set throw a TypeError; nothing is written). */
  set<K extends keyof T>(key: K, value: T[K]): void;
  set(key: string, value: unknown): void;
  /** Sets several keys (each a dot path) as one change. */
  set(object: Partial<T> | Record<string, unknown>): void;

  has(key: string): boolean;
  /** Deletes `key`. An array element becomes `null` (as electron-store writes it). */
  delete(key: string): void;
  /** Sets the keys to their `defaults`; keys without a default are left alone. */
  reset(...keys: string[]): void;
  /** Deletes everything but `defaults` (and the internal migration state). */
  clear(): void;

  /** The whole store (a fresh copy). Setting it replaces everything (one change). */
  store: T;
  /** Number of top-level keys. */
  readonly size: number;
  [Symbol.iterator](): IterableIterator<[keyof T, T[keyof T]]>;

  /** `callback(newValue, oldValue)` when the value at `key` really changes (deep comparison). */
  onDidChange<V = unknown>(key: string, callback: (newValue: V | undefined, oldValue: V | undefined) => void): Unsubscribe;
  /** `callback(newStore, oldStore)` on any change. Costs a whole-store read per change. */
  onDidAnyChange(callback: (newValue: T | undefined, oldValue: T | undefined) => void): Unsubscribe;
  /** Opens the file with Electron's `shell.openPath`; rejects with `E_UNSUPPORTED` outside Electron. */
  openInEditor(): Promise<void>;

  /** The whole store (same as `store`). */
  getAll(): T;
  /** Sets every key/value of `data` as one atomic change. */
  setMultiple(data: Partial<T> | Record<string, unknown>): true;
  /**
   * `callback(newValue, oldValue, key)` when `key` changes; with `'*'`, once per
   * changed key of every change (a bulk change gives one call per changed top-level key).
   */
  onChange<V = unknown>(key: string, callback: ChangeListener<V>): Unsubscribe;
  /** Re-reads the file now and emits events for what changed; a damaged file throws `E_CORRUPT` and is not applied. */
  reload(): true;
  getStoreInfo(): StoreInfo;
  /** Timing of this instance's operations, measured in the core with a fixed-size histogram (reads: 1 in 16 timed). */
  getPerformanceStats(): PerformanceStats;
  resetPerformanceStats(): void;
  /** electron-store 8's: in Electron's main process, answers the renderer-side Store's data request. A no-op outside Electron. */
  static initRenderer(): void;
  /** Resolves when every change so far is durable and in the store file. */
  flush(): Promise<void>;
  /** Blocks until every change so far is durable and in the store file. */
  flushSync(): void;
  /**
   * Flushes and releases the store; its methods then throw `E_CLOSED`. When the
   * pending changes cannot be written (disk full, I/O error) it throws that error
   * and the store stays open with them; `{ force: true }` closes anyway and drops
   * what could not be written.
   */
  close(options?: { force?: boolean }): void;

  /** Takes a verified backup; resolves to its path. */
  createBackup(reason?: string): Promise<string>;
  /** The backups, newest first. */
  listBackups(): Promise<BackupInfo[]>;
  /**
   * Restores a backup given by file name or by the `path` listBackups() returned
   * (anything else: `E_BACKUP_NOT_FOUND`). Verifies its hash (`E_BACKUP_CORRUPT`),
   * backs the current state up first, and fires change events.
   */
  restoreBackup(fileOrPath: string): Promise<true>;
  /** The kept change history (newest `history.maxEntries` entries). */
  getHistorySummary(): Promise<HistorySummary>;
  /**
   * Makes the store exactly what it was at `time`: every later change undone,
   * newest first, verified against the recorded hash; the rollback is itself a
   * change. Older than the kept history: `E_HISTORY_TRUNCATED`, nothing changed.
   */
  rollbackToTimestamp(time: string | number | Date): Promise<RollbackResult>;
  /** Makes the store what it was right after change `seq`. */
  rollbackToSeq(seq: number): Promise<RollbackResult>;
  getHealthReport(): HealthReport;

  /** Checks `data` against the schema and your `validate` option. */
  validateData(data: unknown): { valid: boolean; errors: string[] };
  /** The migration snapshots, newest first. */
  listMigrationBackups(): Promise<BackupInfo[]>;
  /** Restores a migration snapshot given by file name only. */
  restoreMigrationBackup(name: string): Promise<true>;
  /** Checks a migration snapshot (hash, parse, schema) given by file name only. */
  validateMigrationBackup(name: string): Promise<{ valid: boolean; errors: string[] }>;
  /** Set when the store was last migrated by a newer app version (nothing was run). */
  readonly newerVersion?: string;
}

export { Store };
export default Store;
