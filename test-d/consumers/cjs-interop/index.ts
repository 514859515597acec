// A CommonJS consumer with esModuleInterop: `import Store from 'tad-store'` and named type imports.
import Store from 'tad-store';
import type { Options, StoreError, RotationReport } from 'tad-store';
import * as ipc from 'tad-store/ipc';

type Config = { apiKey?: string };

const options: Options<Config> = { cwd: '/tmp/app', secretKeys: ['apiKey'], secretKey: Buffer.alloc(32) };
const store = new Store<Config>(options);
const report: RotationReport = store.rotateSecretKey(Buffer.alloc(32));
const failed: number = report.backups.failed.length;
try {
  store.set('apiKey', String(failed));
} catch (error) {
  const code: string = (error as StoreError).code;
  if (code === 'E_SECRET_KEY') throw error;
}
const channels: readonly string[] = ipc.CHANNELS;
void channels;

// the subpaths of issue 21 with esModuleInterop
import renderer from 'tad-store/renderer';
import { useStoreBulk } from 'tad-store/react';
import { rotateSafeStorageKey } from 'tad-store/safe-storage';
void renderer.storeService.isInitialized;
void useStoreBulk<Config>().data.apiKey;
void rotateSafeStorageKey(store, { cwd: '/tmp/app' }).then(r => r.keyId);
