// The main store's results as they cross IPC (structured clones of index.d.ts's
// types, repeated here so that a renderer's program needs neither Node's types
// nor the main process's; test-d checks that they stay the same).

/** `listBackups()`, `listMigrationBackups()` */
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

/** `validateData()`, `validateMigrationBackup()` */
export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

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
  recovery: RecoveryReport;
}

/** `getStoreInfo().recovery`, `getHealthReport().recovery` */
export interface RecoveryReport {
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

/** `callback(newValue, oldValue, key)`: one change of a subscribed key. */
export type ChangeCallback<V = unknown> = (newValue: V | undefined, oldValue: V | undefined, key: string) => void;
/** Returned by every subscription: call it to unsubscribe. */
export type Unsubscribe = () => void;

/**
 * The seed's `window.storeAPI` (its preload, or `tad-store/preload`): the 20
 * channels of `registerStoreIpc`, one function each, with the seed's
 * arguments. Errors from the main process reject with the code at the start
 * of the message (`E_SCHEMA: ...`).
 */
export interface StoreAPI {
  get(key: string, defaultValue?: unknown): Promise<unknown>;
  set(key: string, value: unknown): Promise<true>;
  delete(key: string): Promise<true>;
  has(key: string): Promise<boolean>;
  clear(): Promise<true>;
  getAll(): Promise<Record<string, unknown>>;
  setMultiple(data: Record<string, unknown>): Promise<true>;
  getInfo(): Promise<StoreInfo>;
  reload(): Promise<true>;
  createBackup(reason?: string): Promise<string>;
  listBackups(): Promise<BackupInfo[]>;
  restoreBackup(backup: string): Promise<true>;
  /**
   * `callback(newValue, oldValue, key)` for each `'store-changed'` event of
   * `key` (`'*'`: every event). Returns the unsubscribe function.
   */
  onChange(key: string, callback: ChangeCallback): Unsubscribe;
  /** The value at `path` from the preload's cache (undefined until it is loaded). */
  getKey(path: string): unknown;
  /** `set(path, value)`. */
  setKey(path: string, value: unknown): Promise<true>;
  rollbackToTimestamp(timestamp: string | number | Date): Promise<RollbackResult>;
  getHistorySummary(): Promise<HistorySummary>;
  validateData(data: Record<string, unknown>): Promise<ValidationResult>;
  listMigrationBackups(): Promise<BackupInfo[]>;
  restoreMigrationBackup(name: string): Promise<true>;
  validateMigrationBackup(name: string): Promise<ValidationResult>;
  /**
   * `store-update (key, operation)`: an atomic operation run by the main
   * store's `update()` (only with `registerStoreIpc(..., { atomicOperations:
   * true })`, and in tad-store/preload's API with `{ atomicOperations: true }`).
   * Resolves to the new value (`true` when renderers may not read the key).
   */
  update?(key: string, operation: AtomicOperation): Promise<unknown>;
}

/** A renderer's atomic operation (a function cannot cross IPC). */
export type AtomicOperation =
  | { op: 'increment'; by?: number }
  | { op: 'append'; value: unknown; unique?: boolean }
  | { op: 'remove'; value: unknown }
  | { op: 'toggle' };

/** What the client needs of the storeAPI: `getAll` and `onChange` to read; the rest for the calls made. */
export type StoreAPILike = Pick<StoreAPI, 'getAll' | 'onChange'> & Partial<StoreAPI>;

/** `'idle'` (not loaded), `'loading'`, `'ready'`, `'error'` (loading failed: see `error`). */
export type ClientStatus = 'idle' | 'loading' | 'ready' | 'error';

/** An error of the client or of the main process, with its stable `code` when it has one. */
export interface ClientError extends Error {
  /** `E_NOT_READY`, `E_NO_STORE_API`, `E_PROTOCOL`, `E_INVALID_ARGUMENT`, or the main process's (`E_SCHEMA`, `E_FORBIDDEN_KEY`, ...). */
  code?: string;
}

export interface StoreClientOptions {
  /** The storeAPI object (default: `globalThis.storeAPI`, looked up when first needed). */
  api?: StoreAPILike;
  /** As the main store's option: `a.b` is a path (default `true`). */
  accessPropertiesByDotNotation?: boolean;
  /** Called when a change listener throws (default: `console.error`). */
  onListenerError?: (error: unknown) => void;
}

/**
 * The renderer's mirror of the main process's store: a synchronous, frozen
 * read cache kept exact by the `'store-changed'` events, and the store's
 * calls through the storeAPI. `T` types the keys as `Store<T>` does.
 */
export declare class StoreClient<T extends Record<string, any> = Record<string, unknown>> {
  constructor(options?: StoreClientOptions);
  /** Loading state of the cache. */
  readonly status: ClientStatus;
  /** Why loading failed (`status === 'error'`), else null. */
  readonly error: ClientError | null;
  /** The seed's name: the cache is loaded (`status === 'ready'`). */
  readonly isInitialized: boolean;
  /** The storeAPI the client talks to. */
  readonly api: StoreAPILike;
  /** Called when a change listener throws (default: `console.error`). */
  onListenerError: ((error: unknown) => void) | null;

  /** Subscribes to the changes, then loads the cache. Once; after a failure the next call tries again. */
  initialize(): Promise<void>;
  /** Loads the snapshot again and tells the listeners what differed. */
  refresh(): Promise<void>;
  /** Stops listening, drops the listeners and empties the cache; `initialize()` starts again. */
  dispose(): void;

  /** The value at `key` (frozen). Throws `E_NOT_READY` before the cache is loaded. */
  get<Key extends keyof T>(key: Key): T[Key];
  /** The value at `key`, or `defaultValue` when there is none. */
  get<Key extends keyof T>(key: Key, defaultValue: Required<T>[Key]): Required<T>[Key];
  /** A dot path (`'a.b.c'`) that is not a top-level key of `T`. */
  get<Key extends string, Value = unknown>(key: Exclude<Key, keyof T>, defaultValue?: Value): Value;
  /** Whether `key` (a top-level key or a dot path) holds a value. */
  has<Key extends keyof T>(key: Key | (string & {})): boolean;
  /** The whole store (frozen). */
  getAll(): T;
  /** The whole store (frozen). */
  readonly store: T;
  /** Number of top-level keys. */
  readonly size: number;
  /** The value at `key`, `undefined` before the cache is loaded (no readiness check). */
  peek<Key extends keyof T>(key: Key): T[Key] | undefined;
  peek(key: string): unknown;

  /**
   * `callback(newValue, oldValue, key)` once per change of the value at `key`
   * (a change of a parent or a child of it included; the values are those at
   * `key`); `'*'`: once per changed key of every change. Not called for the
   * first load. Returns the unsubscribe function.
   */
  subscribe<Key extends keyof T>(key: Key, callback: ChangeCallback<T[Key]>): Unsubscribe;
  subscribe<V = unknown>(key: '*' | (string & {}), callback: ChangeCallback<V>): Unsubscribe;
  /** The seed's name for `subscribe`. */
  onChange<Key extends keyof T>(key: Key, callback: ChangeCallback<T[Key]>): Unsubscribe;
  onChange<V = unknown>(key: '*' | (string & {}), callback: ChangeCallback<V>): Unsubscribe;
  /** `callback(status)` when the loading status changes. */
  subscribeStatus(callback: (status: ClientStatus) => void): Unsubscribe;

  /** Sets a value in the main process; the cache has it when the promise resolves. */
  set<Key extends keyof T>(key: Key, value: T[Key]): Promise<true>;
  /** Sets the value at a dot path. */
  set<Key extends string>(key: Exclude<Key, keyof T>, value: unknown): Promise<true>;
  /** Sets several keys as one change (`setMultiple`). */
  set(object: Partial<T>): Promise<true>;
  delete<Key extends keyof T>(key: Key | (string & {})): Promise<true>;
  clear(): Promise<true>;
  setMultiple(data: Partial<T> | Record<string, unknown>): Promise<true>;
  getInfo(): Promise<StoreInfo>;
  /** The main store re-reads its file; what changed arrives as events. */
  reload(): Promise<true>;
  createBackup(reason?: string): Promise<string>;
  listBackups(): Promise<BackupInfo[]>;
  restoreBackup(backup: string): Promise<true>;
  rollbackToTimestamp(timestamp: string | number | Date): Promise<RollbackResult>;
  getHistorySummary(): Promise<HistorySummary>;
  validateData(data: Partial<T> | Record<string, unknown>): Promise<ValidationResult>;
  listMigrationBackups(): Promise<BackupInfo[]>;
  restoreMigrationBackup(name: string): Promise<true>;
  validateMigrationBackup(name: string): Promise<ValidationResult>;

  /**
   * Atomic operations, run by the main store's `update()` on the latest state
   * of every process and window (nothing is lost when several write at once).
   * They need `registerStoreIpc(..., { atomicOperations: true })` and a
   * storeAPI with `update` (tad-store/preload with `{ atomicOperations: true }`).
   * Each resolves to the new value (`true` when renderers may not read the key).
   */
  /** Adds `by` (default 1) to the number at `key` (absent: 0). */
  increment(key: string, by?: number): Promise<number>;
  /** Appends `value` to the array at `key` (absent: `[]`); `unique`: only when no equal element is there. */
  append<V = unknown>(key: string, value: V, options?: { unique?: boolean }): Promise<V[]>;
  /** Removes every element equal to `value` (compared as JSON) from the array at `key`. */
  remove<V = unknown>(key: string, value: V): Promise<V[]>;
  /** Flips the boolean at `key` (absent: `false`, so it becomes `true`). */
  toggle(key: string): Promise<boolean>;
}

/** The seed's class name for the client. */
export declare const StoreService: typeof StoreClient;
export type StoreService<T extends Record<string, any> = Record<string, unknown>> = StoreClient<T>;

/** A client on `options.api` (default `window.storeAPI`). */
export declare function createStoreClient<T extends Record<string, any> = Record<string, unknown>>(options?: StoreClientOptions): StoreClient<T>;
/** The shared client on `window.storeAPI` (what `tad-store/react`'s hooks use without a StoreProvider). */
export declare function getDefaultClient<T extends Record<string, any> = Record<string, unknown>>(): StoreClient<T>;
/** The seed's singleton: `getDefaultClient()`. */
export declare const storeService: StoreClient;
