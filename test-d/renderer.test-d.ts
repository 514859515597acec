// Type tests of tad-store/renderer, tad-store/react, tad-store/preload and
// tad-store/safe-storage (issue 21).
import {expectType, expectAssignable, expectNotAssignable, expectError} from 'tsd';
import Store = require('tad-store');
import {StoreClient, StoreService, createStoreClient, getDefaultClient, storeService} from 'tad-store/renderer';
import type {StoreAPI, StoreAPILike, ClientStatus, ClientError, Unsubscribe, StoreInfo, BackupInfo, HistorySummary, RollbackResult, ValidationResult} from 'tad-store/renderer';
import {useStore, useStoreBulk, useStoreClient, StoreProvider, createStoreHooks} from 'tad-store/react';
import type {UseStoreResult, UseStoreBulkResult, StoreHooks} from 'tad-store/react';
import {exposeStoreAPI, createStoreAPI} from 'tad-store/preload';
import type {IpcRendererLike, ContextBridgeLike} from 'tad-store/preload';
import {safeStorageKey, safeStorageKeySync, rotateSafeStorageKey, rotateSafeStorageKeySync, safeStorageKeyPath} from 'tad-store/safe-storage';
import type {SafeStorageLike, SafeStorageKeyError, SafeStorageRotation, SafeStorageKeyOptions} from 'tad-store/safe-storage';

type Settings = {
	settings: {theme: 'dark' | 'light'; fontSize: number};
	workspaces: string[];
	user?: {name: string};
};

// -- the client ------------------------------------------------------------------------
declare const api: StoreAPI;
const client = createStoreClient<Settings>({api, accessPropertiesByDotNotation: true, onListenerError: error => console.error(error)});
expectType<StoreClient<Settings>>(client);
expectType<Promise<void>>(client.initialize());
expectType<Promise<void>>(client.refresh());
expectType<ClientStatus>(client.status);
expectType<ClientError | null>(client.error);
expectType<boolean>(client.isInitialized);

// typed keys, as Store<T>
expectType<{theme: 'dark' | 'light'; fontSize: number}>(client.get('settings'));
expectType<string[]>(client.get('workspaces', []));
expectType<{name: string} | undefined>(client.get('user'));
expectType<{name: string}>(client.get('user', {name: 'x'}));
expectType<unknown>(client.get('settings.theme'));
expectAssignable<string>(client.get('settings.theme', 'dark'));
expectType<Settings>(client.getAll());
expectType<Settings>(client.store);
expectType<number>(client.size);
expectType<boolean>(client.has('settings.theme'));
expectType<{theme: 'dark' | 'light'; fontSize: number} | undefined>(client.peek('settings'));

expectType<Promise<true>>(client.set('settings', {theme: 'dark', fontSize: 1}));
expectType<Promise<true>>(client.set('settings.theme', 'light'));
expectType<Promise<true>>(client.set({workspaces: ['a']}));
expectError(client.set('settings', {theme: 'blue', fontSize: 1}));
expectError(client.set('workspaces', 'not an array'));
expectType<Promise<true>>(client.delete('user'));
expectType<Promise<true>>(client.setMultiple({'settings.theme': 'dark'}));
expectType<Promise<StoreInfo>>(client.getInfo());
expectType<Promise<BackupInfo[]>>(client.listBackups());
expectType<Promise<RollbackResult>>(client.rollbackToTimestamp(new Date()));
expectType<Promise<HistorySummary>>(client.getHistorySummary());
expectType<Promise<ValidationResult>>(client.validateData({workspaces: []}));

// subscriptions: the values at the key
expectType<Unsubscribe>(client.subscribe('settings', (newValue, oldValue, key) => {
	expectType<{theme: 'dark' | 'light'; fontSize: number} | undefined>(newValue);
	expectType<{theme: 'dark' | 'light'; fontSize: number} | undefined>(oldValue);
	expectType<string>(key);
}));
client.subscribe('*', (newValue, oldValue, key) => {
	expectType<unknown>(newValue);
	expectType<string>(key);
});
client.onChange<string>('settings.theme', value => {
	expectType<string | undefined>(value);
});
client.subscribeStatus(status => expectType<ClientStatus>(status));
expectError(client.subscribe('settings', 'not a function'));

// the seed's names; the default client
expectType<typeof StoreClient>(StoreService);
const seedService: StoreService<Settings> = new StoreService<Settings>();
expectType<StoreClient<Settings>>(seedService);
expectType<StoreClient>(storeService);
expectType<StoreClient<Settings>>(getDefaultClient<Settings>());
// any object of the storeAPI's shape (getAll and onChange to read)
const minimal: StoreAPILike = {getAll: async () => ({}), onChange: () => () => {}};
new StoreClient({api: minimal});
expectError(new StoreClient({api: {getAll: async () => ({})}}));

// the main store's results cross IPC with the renderer's types (the same shapes)
declare const main: Store<Settings>;
expectAssignable<StoreInfo>(main.getStoreInfo());
expectAssignable<Store.StoreInfo>({} as StoreInfo);
expectAssignable<Store.HistorySummary>({} as HistorySummary);
expectAssignable<HistorySummary>({} as Store.HistorySummary);
expectAssignable<Store.BackupInfo>({} as BackupInfo);
expectAssignable<BackupInfo>({} as Store.BackupInfo);
expectAssignable<RollbackResult>({} as Store.RollbackResult);
expectAssignable<Store.RollbackResult>({} as RollbackResult);

// -- the hooks ----------------------------------------------------------------------------
const theme = useStore('settings.theme', 'light');
expectType<UseStoreResult<string>>(theme);
expectType<string>(theme.value);
expectType<boolean>(theme.loading);
expectType<ClientError | null>(theme.error);
expectType<Promise<void>>(theme.updateValue('dark'));
expectType<Promise<void>>(theme.setValue(old => `${old}!`));
expectType<UseStoreResult<unknown>>(useStore('anything'));
expectType<UseStoreBulkResult<Settings>>(useStoreBulk<Settings>());
expectType<StoreClient<Settings>>(useStoreClient<Settings>());
StoreProvider({client, children: null});

const hooks = createStoreHooks(client);
expectType<StoreHooks<Settings>>(hooks);
expectType<UseStoreResult<{theme: 'dark' | 'light'; fontSize: number}>>(hooks.useStore('settings', {theme: 'dark', fontSize: 12}));
expectType<UseStoreResult<{name: string} | undefined>>(hooks.useStore('user'));
expectType<UseStoreResult<number>>(hooks.useStore('settings.fontSize', 12));
expectError(hooks.useStore('settings', 'not settings'));
const typed = hooks.useStore('workspaces', []);
expectType<Promise<void>>(typed.updateValue(list => [...list, 'new']));
expectError(typed.updateValue('not a list'));

// -- the preload ----------------------------------------------------------------------------
declare const ipcRenderer: IpcRendererLike;
declare const contextBridge: ContextBridgeLike;
expectType<StoreAPI>(exposeStoreAPI());
expectType<StoreAPI>(exposeStoreAPI({contextBridge, ipcRenderer, name: 'storeAPI', cache: false, accessPropertiesByDotNotation: true}));
expectType<StoreAPI>(createStoreAPI(ipcRenderer));
expectError(exposeStoreAPI({name: 42}));
const exposed = createStoreAPI(ipcRenderer);
expectType<Promise<unknown>>(exposed.get('a'));
expectType<unknown>(exposed.getKey('a.b'));
expectType<() => void>(exposed.onChange('a', (newValue, oldValue, key) => expectType<string>(key)));
// Electron's own ipcRenderer shape fits
expectAssignable<IpcRendererLike>({
	invoke: async (channel: string, ...args: any[]) => undefined,
	on(channel: string, listener: (event: {sender: unknown}, ...args: any[]) => void) { return this; },
	removeListener(channel: string, listener: (...args: any[]) => void) { return this; },
});

// -- the key provider --------------------------------------------------------------------------
const options: SafeStorageKeyOptions = {cwd: '/tmp/app', name: 'tad-config', onInsecure: 'warn', onWarning: warning => expectType<SafeStorageKeyError>(warning)};
expectType<Promise<Buffer>>(safeStorageKey(options));
expectType<Buffer>(safeStorageKeySync(options));
expectType<string>(safeStorageKeyPath(options));
// the Store's own options object places the key file
const storeOptions: Store.Options<Settings> = {cwd: '/tmp/app', secretKeys: ['user.name']};
expectType<Promise<Buffer>>(safeStorageKey(storeOptions));
new Store<Settings>({...storeOptions, secretKey: () => safeStorageKeySync(storeOptions)});
expectType<Promise<SafeStorageRotation>>(rotateSafeStorageKey(main, options));
expectType<string>(rotateSafeStorageKeySync(main, options).keyId);
expectType<number>(rotateSafeStorageKeySync(main, options).journalEntries);
expectError(safeStorageKey({onInsecure: 'ignore'}));
declare const electronSafeStorage: {
	isEncryptionAvailable(): boolean;
	encryptString(plainText: string): Buffer;
	decryptString(encrypted: Buffer): string;
	isAsyncEncryptionAvailable(): Promise<boolean>;
	encryptStringAsync(plainText: string): Promise<Buffer>;
	decryptStringAsync(encrypted: Buffer): Promise<{shouldReEncrypt: boolean; result: string}>;
	getSelectedStorageBackend(): 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' | 'kwallet6' | 'unknown';
	setUsePlainTextEncryption(usePlainText: boolean): void;
};
expectAssignable<SafeStorageLike>(electronSafeStorage);
expectNotAssignable<SafeStorageKeyError['reason']>('other');

// -- atomic operations (issue 20) --
{
	const client = createStoreClient();
	expectType<Promise<number>>(client.increment('stats.opened'));
	expectType<Promise<number>>(client.increment('stats.opened', -2));
	expectType<Promise<string[]>>(client.append('tabs', 'a', {unique: true}));
	expectType<Promise<number[]>>(client.remove('ids', 3));
	expectType<Promise<boolean>>(client.toggle('ui.sidebar'));
	expectError(client.increment('n', '1'));
	const ipcR = {} as IpcRendererLike;
	const api = createStoreAPI(ipcR, {atomicOperations: true});
	if (api.update) expectType<Promise<unknown>>(api.update('n', {op: 'increment'}));
	expectError(createStoreAPI(ipcR, {atomicOperations: 1}));
}
