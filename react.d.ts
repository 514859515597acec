import type { StoreClient, ClientError } from './renderer.js';

/** What `useStore` returns: the seed's shape. */
export interface UseStoreResult<V> {
  /** The stored value (frozen), or the default while loading and when there is none. */
  value: V;
  /** The cache is not loaded yet. */
  loading: boolean;
  /** Loading failed, or the last `updateValue` was refused (cleared by the next one). */
  error: ClientError | null;
  /** Writes `value` (or `update(current)`) through the main process; resolves once done (errors go to `error`). */
  updateValue(value: V | ((current: V) => V)): Promise<void>;
  /** The seed's alias of `updateValue`. */
  setValue(value: V | ((current: V) => V)): Promise<void>;
}

/** What `useStoreBulk` returns. */
export interface UseStoreBulkResult<T> {
  /** The whole store (frozen); `{}` while loading. */
  data: Readonly<Partial<T>>;
  loading: boolean;
  error: ClientError | null;
  updateMultiple(data: Partial<T> | Record<string, unknown>): Promise<true>;
}

/** `useStore(key, defaultValue)`: re-renders only when the value at `key` (or the loading state) changes. */
export declare function useStore<V>(key: string, defaultValue: V): UseStoreResult<V>;
export declare function useStore<V = unknown>(key: string): UseStoreResult<V | undefined>;
/** The whole store; re-renders on every change. */
export declare function useStoreBulk<T extends Record<string, any> = Record<string, unknown>>(): UseStoreBulkResult<T>;
/** The client the hooks use: the nearest StoreProvider's, else `getDefaultClient()`. */
export declare function useStoreClient<T extends Record<string, any> = Record<string, unknown>>(): StoreClient<T>;

export interface StoreProviderProps {
  client: StoreClient<any>;
  children?: unknown;
}
/** Gives the hooks of its subtree `client`. */
export declare function StoreProvider(props: StoreProviderProps): any;

/** The hooks bound to one client, typed by its store type. */
export interface StoreHooks<T extends Record<string, any>> {
  useStore<Key extends keyof T & string>(key: Key, defaultValue: Required<T>[Key]): UseStoreResult<Required<T>[Key]>;
  useStore<Key extends keyof T & string>(key: Key): UseStoreResult<T[Key] | undefined>;
  /** A dot path that is not a top-level key of `T`. */
  useStore<Value = unknown, Key extends string = string>(key: Exclude<Key, keyof T>, defaultValue: Value): UseStoreResult<Value>;
  useStore<Value = unknown, Key extends string = string>(key: Exclude<Key, keyof T>): UseStoreResult<Value | undefined>;
  useStoreBulk(): UseStoreBulkResult<T>;
}
/** `useStore` / `useStoreBulk` on `client`, typed by its store type (they ignore StoreProvider). */
export declare function createStoreHooks<T extends Record<string, any>>(client: StoreClient<T>): StoreHooks<T>;
