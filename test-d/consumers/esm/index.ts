// An ES module consumer under node16 resolution (`"type": "module"`): the import
// condition's index.d.mts.
import Store from 'tad-store';
import { Store as Named } from 'tad-store';
import type { Options, Schema, HistorySummary, JSONSchema } from 'tad-store';
import ipcDefault, { registerStoreIpc, CHANNELS } from 'tad-store/ipc';
import type { IpcMainLike } from 'tad-store/ipc';

type Config = { count: number; user?: { name: string } };

const schema: Schema<Config> = { count: { type: 'integer', minimum: 0 }, user: { type: 'object' } };
const root: JSONSchema = { type: 'object', properties: schema };
const options: Options<Config> = { cwd: '/tmp/app', defaults: { count: 0 }, schema, migrateNewStore: false };
const store: Store<Config> = new Named<Config>(options);
const count: number = store.get('count');
store.set('count', count + 1);
store.onDidChange('count', (newValue?: number, oldValue?: number) => {
  void [newValue, oldValue];
});
const summary: HistorySummary = await store.getHistorySummary();
void summary.entries.length;
const ns: Store.RollbackResult = await store.rollbackToSeq(0);
void ns.seq;
new Store({ cwd: '/tmp/app', rootSchema: typeof root === 'object' ? root : {} });
declare const ipcMain: IpcMainLike;
registerStoreIpc(ipcMain, store);
ipcDefault.registerStoreIpc(ipcMain, store);
void CHANNELS;

// the subpaths of issue 21 under node16 ESM resolution
import { createStoreClient, StoreClient } from 'tad-store/renderer';
import rendererDefault from 'tad-store/renderer';
import { useStore } from 'tad-store/react';
import { exposeStoreAPI } from 'tad-store/preload';
import { safeStorageKey, safeStorageKeySync } from 'tad-store/safe-storage';
const client: StoreClient<Config> = createStoreClient<Config>();
void client.get('count', 0);
void rendererDefault.getDefaultClient;
void useStore('count', 0).value;
void exposeStoreAPI;
const secretKey: Buffer = await safeStorageKey({ cwd: '/tmp/app' });
new Store<Config>({ cwd: '/tmp/app', secretKeys: ['user.name'], secretKey: () => safeStorageKeySync({ cwd: '/tmp/app' }) });
void secretKey;
