import Store = require('./index.js');

/** Electron's `safeStorage` (the synchronous API, the asynchronous one, or both). */
export interface SafeStorageLike {
  isEncryptionAvailable?(): boolean;
  encryptString?(plainText: string): Buffer;
  decryptString?(encrypted: Buffer): string;
  isAsyncEncryptionAvailable?(): Promise<boolean>;
  encryptStringAsync?(plainText: string): Promise<Buffer>;
  decryptStringAsync?(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }>;
  /** Linux only. */
  getSelectedStorageBackend?(): string;
}

/**
 * The store's options that place its files (pass the Store's own options),
 * and how to get the key.
 */
export interface SafeStorageKeyOptions extends Pick<Store.Options<any>, 'cwd' | 'name' | 'configName' | 'fileExtension' | 'history' | 'backups'> {
  /** Where the sealed key is (resolved against `cwd`). Default `<store file>.key`. */
  keyFile?: string;
  /** Default: `require('electron').safeStorage`. */
  safeStorage?: SafeStorageLike;
  /** For the default `cwd` (`app.getPath('userData')`). Default: `require('electron').app`. */
  app?: { getPath(name: 'userData'): string };
  /**
   * When safeStorage cannot protect the key (encryption unavailable, Linux
   * backend `basic_text`): `'throw'` (default) refuses with `E_SAFE_STORAGE`;
   * `'warn'` reports it (`onWarning`, else `process.emitWarning`) and keeps the
   * key as well as it can (in clear, mode 0600, when encryption is unavailable).
   */
  onInsecure?: 'throw' | 'warn';
  onWarning?: (warning: SafeStorageKeyError) => void;
}

/**
 * `E_SAFE_STORAGE` (safeStorage cannot protect or open the key: `reason`
 * `'unavailable'`, `'basic_text'`, `'not-ready'` (backend `'unknown'`),
 * `'unsupported'`, `'failed'`), `E_SECRET_KEY` (the key file: `'missing'` while
 * the store holds encrypted data, `'damaged'`, `'undecryptable'`,
 * `'unreadable'`, `'mismatch'`: not the store's key), `E_IO`.
 */
export interface SafeStorageKeyError extends Error {
  code: 'E_SAFE_STORAGE' | 'E_SECRET_KEY' | 'E_IO';
  reason: 'unavailable' | 'basic_text' | 'not-ready' | 'unsupported' | 'failed' | 'missing' | 'damaged' | 'undecryptable' | 'unreadable' | 'mismatch';
  keyFile?: string;
  /** safeStorage's Linux backend. */
  backend?: string | null;
  /** Key ids found in the store's files. */
  storeIds?: string[];
  cause?: unknown;
}

/** `rotateSafeStorageKey`'s result: the store's rotation report, the key file and the new key's id. */
export interface SafeStorageRotation extends Store.RotationReport {
  keyFile: string;
  keyId: string;
}

/**
 * The `secretKeys` key of the store `options` names: made (32 random bytes)
 * and sealed with safeStorage beside the store on the first start, opened on
 * later ones. Zero the Buffer once the Store has it.
 */
export declare function safeStorageKey(options?: SafeStorageKeyOptions): Promise<Buffer>;
/** `safeStorageKey` on safeStorage's synchronous API (`secretKey: () => safeStorageKeySync(options)`). */
export declare function safeStorageKeySync(options?: SafeStorageKeyOptions): Buffer;
/** A new key for `store`: sealed to `<key file>.next`, `store.rotateSecretKey(newKey)`, then it replaces the key file. */
export declare function rotateSafeStorageKey(store: Store<any>, options?: SafeStorageKeyOptions): Promise<SafeStorageRotation>;
export declare function rotateSafeStorageKeySync(store: Store<any>, options?: SafeStorageKeyOptions): SafeStorageRotation;
/** The key file's path for the store `options` names. */
export declare function safeStorageKeyPath(options?: SafeStorageKeyOptions): string;
