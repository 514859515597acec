// A bundler consumer (Vite / webpack style resolution): the import condition's index.d.mts.
import Store from 'tad-store';
import type { Options } from 'tad-store';
import { registerStoreIpc } from 'tad-store/ipc';
import type { IpcMainLike } from 'tad-store/ipc';

const options: Options = { cwd: '/tmp/app', backups: { criticalKeys: ['settings'] } };
const store = new Store(options);
store.set('settings.theme', 'dark');
const value: unknown = store.get('settings.theme');
void value;
declare const ipcMain: IpcMainLike;
registerStoreIpc(ipcMain, store);

// the subpaths of issue 21 under bundler resolution
import { createStoreClient } from 'tad-store/renderer';
import { StoreProvider, useStoreClient } from 'tad-store/react';
import { exposeStoreAPI } from 'tad-store/preload';
const bundled = createStoreClient({ api: exposeStoreAPI() });
void StoreProvider({ client: bundled });
void useStoreClient().status;
