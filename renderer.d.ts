import Store = require('./index.js');

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
  getInfo(): Promise<Store.StoreInfo>;
  reload(): Promise<true>;
  createBackup(reason?: string): Promise<string>;
  listBackups(): Promise<Store.BackupInfo[]>;
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
  rollbackToTimestamp(timestamp: string | number | Date): Promise<Store.RollbackResult>;
  getHistorySummary(): Promise<Store.HistorySummary>;
  validateData(data: Record<string, unknown>): Promise<Store.ValidationResult>;
  listMigrationBackups(): Promise<Store.BackupInfo[]>;
  restoreMigrationBackup(name: string): Promise<true>;
  validateMigrationBackup(name: string): Promise<Store.ValidationResult>;
}

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
  getInfo(): Promise<Store.StoreInfo>;
  /** The main store re-reads its file; what changed arrives as events. */
  reload(): Promise<true>;
  createBackup(reason?: string): Promise<string>;
  listBackups(): Promise<Store.BackupInfo[]>;
  restoreBackup(backup: string): Promise<true>;
  rollbackToTimestamp(timestamp: string | number | Date): Promise<Store.RollbackResult>;
  getHistorySummary(): Promise<Store.HistorySummary>;
  validateData(data: Partial<T> | Record<string, unknown>): Promise<Store.ValidationResult>;
  listMigrationBackups(): Promise<Store.BackupInfo[]>;
  restoreMigrationBackup(name: string): Promise<true>;
  validateMigrationBackup(name: string): Promise<Store.ValidationResult>;
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
