// A CommonJS consumer without esModuleInterop: `import Store = require('tad-store')`,
// as electron-store 8's own docs write it.
import Store = require('tad-store');
// without esModuleInterop these compile to `.default` / `.Store`, which index.js also exports
import Default from 'tad-store';
import { Store as NamedImport } from 'tad-store';
import { registerStoreIpc } from 'tad-store/ipc';
import type { IpcMainLike } from 'tad-store/ipc';

type Config = { theme: 'dark' | 'light'; recent: string[] };

const options: Store.Options<Config> = { cwd: '/tmp/app', defaults: { theme: 'dark', recent: [] } };
const store = new Store<Config>(options);
const theme: 'dark' | 'light' = store.get('theme');
store.set('recent', [theme]);
const schema: Store.Schema<Config> = { theme: { enum: ['dark', 'light'] }, recent: { type: 'array', items: { type: 'string' } } };
new Store<Config>({ cwd: '/tmp/app', schema });
const { Store: Named } = Store;
new Named();
const same: typeof Store[] = [Default, NamedImport, Store.default];
void same;
declare const ipcMain: IpcMainLike;
const unregister: () => void = registerStoreIpc(ipcMain, store);
unregister();
void store.flush().then(() => store.close());

// the subpaths of issue 21 under node10 resolution (package root files, no exports map)
import renderer = require('tad-store/renderer');
import react = require('tad-store/react');
import preload = require('tad-store/preload');
import safeStorage = require('tad-store/safe-storage');
const rendererClient: renderer.StoreClient<Config> = renderer.createStoreClient<Config>();
void rendererClient.get('theme');
void react.useStore('theme', 'dark').loading;
void preload.createStoreAPI;
void safeStorage.safeStorageKeyPath({ cwd: '/tmp/app' });
