// A renderer bundle (Vite / webpack): no Node types, no Electron, no React types;
// tad-store/renderer, tad-store/react and tad-store/preload's types must stand alone.
import { createStoreClient, storeService } from 'tad-store/renderer';
import type { StoreAPI, StoreInfo } from 'tad-store/renderer';
import { useStore, createStoreHooks } from 'tad-store/react';
import { createStoreAPI } from 'tad-store/preload';

declare global {
  interface Window {
    storeAPI: StoreAPI;
  }
}

type Prefs = { theme: 'dark' | 'light'; recent: string[] };

const client = createStoreClient<Prefs>({ api: window.storeAPI });
await client.initialize();
const theme: 'dark' | 'light' = client.get('theme');
client.subscribe('recent', (list) => { void list?.length; });
await client.set('theme', theme === 'dark' ? 'light' : 'dark');
const info: StoreInfo = await window.storeAPI.getInfo();
void info.keys;
void storeService.status;

const { useStore: useTyped } = createStoreHooks(client);
export function useTheme() {
  const typed = useTyped('theme', 'dark');
  const loose = useStore('ui.zoom', 1);
  return typed.value === 'dark' && loose.value > 0;
}

declare const ipcRenderer: { invoke(c: string, ...a: any[]): Promise<any>; on(c: string, l: (e: any, ...a: any[]) => void): unknown; removeListener(c: string, l: (...a: any[]) => void): unknown };
createStoreAPI(ipcRenderer).onChange('*', () => {});
