import type { StoreAPI } from './renderer.js';

/** The parts of Electron's `ipcRenderer` the storeAPI uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: any[]): Promise<any>;
  on(channel: string, listener: (event: any, ...args: any[]) => void): unknown;
  removeListener(channel: string, listener: (...args: any[]) => void): unknown;
}

/** The part of Electron's `contextBridge` `exposeStoreAPI` uses. */
export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: any): void;
}

export interface StoreAPIOptions {
  /** As the main store's option: `a.b` is a path (default `true`). */
  accessPropertiesByDotNotation?: boolean;
  /** Keep the cache `getKey` reads (default `true`: one `store-get-all` when the preload runs). */
  cache?: boolean;
  /** Add `update(key, operation)` (`store-update`: the main process registered `atomicOperations: true`). Default `false`. */
  atomicOperations?: boolean;
}

export interface ExposeStoreAPIOptions extends StoreAPIOptions {
  /** `window[name]` (default `'storeAPI'`). */
  name?: string;
  /** Default: `require('electron').contextBridge`. */
  contextBridge?: ContextBridgeLike;
  /** Default: `require('electron').ipcRenderer`. */
  ipcRenderer?: IpcRendererLike;
  /** Default: `process.contextIsolated`; without isolation the API is set on `window` directly. */
  contextIsolation?: boolean;
}

/**
 * Exposes the seed's `window.storeAPI` with `contextBridge.exposeInMainWorld`
 * (once: a second call returns the first API). Returns the preload's copy.
 */
export declare function exposeStoreAPI(options?: ExposeStoreAPIOptions): StoreAPI;
/** The storeAPI over `ipcRenderer`, not exposed. */
export declare function createStoreAPI(ipcRenderer: IpcRendererLike, options?: StoreAPIOptions): StoreAPI;
