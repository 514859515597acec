import Store = require('./index.js');

/** The shape of Electron's `ipcMain` that the bridge uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: any[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** The parts of Electron's `IpcMainInvokeEvent` the bridge reads. */
export interface IpcEventLike {
  sender: WebContentsLike;
  senderFrame?: { url: string } | null;
}

/** The parts of Electron's `WebContents` the bridge uses. */
export interface WebContentsLike {
  send(channel: string, ...args: any[]): void;
  isDestroyed?(): boolean;
  once?(event: 'destroyed', listener: () => void): unknown;
  removeListener?(event: 'destroyed', listener: () => void): unknown;
}

/** `'store-changed'` payload. `key` is never null or `'*'`. */
export interface StoreChange {
  key: string;
  newValue: unknown;
  oldValue: unknown;
  timestamp: number;
}

export interface StoreIpcOptions {
  /**
   * Origins whose frames may call (checked with a URL parser on
   * `event.senderFrame.url`; `'file://'` for file: pages). A call without a
   * `senderFrame` is refused (`E_FORBIDDEN_SENDER`) once any sender check is set.
   */
  allowedOrigins?: string[];
  /** Your own check of every call's sender; return `true` to allow. */
  validateSender?: (event: IpcEventLike) => boolean;
  /** Refuse calls without `event.senderFrame` even without an origin list. */
  requireSenderFrame?: boolean;
  /** Key paths renderers may read (a key under one is included). Default: all. */
  readableKeys?: string[];
  /** Key paths renderers may write (a key under one is included). Default: all. */
  writableKeys?: string[];
  /** Key paths renderers may neither read nor write, nor see in events (e.g. `['ai.apiKey']`). */
  protectedKeys?: string[];
  /** Largest value (as JSON) a renderer may write. Default 1 MiB. */
  maxValueBytes?: number;
  /**
   * Also register `store-update (key, operation)` (issue 20): increment,
   * append, remove and toggle run by `store.update()`, atomically across
   * processes and windows, under the same key restrictions and size limit;
   * resolves to the new value (`true` when renderers may not read the key).
   * Default `false` (the seed's 20 channels only).
   */
  atomicOperations?: boolean;
  /** The windows that get `'store-changed'`; default `BrowserWindow.getAllWindows()` in Electron. */
  windows?: Array<{ webContents: WebContentsLike; isDestroyed?(): boolean } | WebContentsLike> | (() => Array<{ webContents: WebContentsLike; isDestroyed?(): boolean } | WebContentsLike>);
  /** Electron's `BrowserWindow` (default: `require('electron').BrowserWindow`). */
  BrowserWindow?: { getAllWindows(): Array<{ webContents: WebContentsLike; isDestroyed?(): boolean }> };
}

/** The 20 channels, SPEC §6. */
export const CHANNELS: readonly string[];
/** `'store-update'`: the atomic operations channel (`atomicOperations: true`). */
export const ATOMIC_CHANNEL: 'store-update';
/** A renderer's atomic operation on `store-update`. */
export type AtomicOperation =
  | { op: 'increment'; by?: number }
  | { op: 'append'; value: unknown; unique?: boolean }
  | { op: 'remove'; value: unknown }
  | { op: 'toggle' };

/**
 * Registers the seed's 20 `store-*` channels for `store`. Returns a function
 * that removes every handler and listener it added. Errors reach the renderer
 * with their code at the start of the message (`E_SCHEMA: ...`).
 */
export function registerStoreIpc<T extends Record<string, any>>(ipcMain: IpcMainLike, store: Store<T>, options?: StoreIpcOptions): () => void;
