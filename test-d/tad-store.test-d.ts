// Type tests of tad-store's own additions to electron-store 8 / conf 10.2's API,
// and of the key typing the upstream tests do not reach.
import {expectType, expectAssignable, expectNotAssignable, expectError} from 'tsd';
import Store = require('tad-store');
import type {Options, StoreError, JSONSchema} from 'tad-store';
import {registerStoreIpc, CHANNELS, ATOMIC_CHANNEL} from 'tad-store/ipc';
import type {IpcMainLike, AtomicOperation} from 'tad-store/ipc';

type Settings = {
	settings: {theme: 'dark' | 'light'; fontSize: number};
	workspaces: string[];
	user?: {name: string};
};

const store = new Store<Settings>({
	cwd: '/tmp/app',
	defaults: {settings: {theme: 'dark', fontSize: 14}, workspaces: []},
	durability: 'sync',
	history: {directory: 'h', maxEntries: 10},
	backups: {criticalKeys: ['settings', 'user'], interval: 0, coalesceMs: 500},
	watch: true,
	slowOperationMs: 5,
	onInvalidData: 'sanitize',
	validate: data => (data.workspaces.length > 100 ? ['too many workspaces'] : []),
	secretKeys: ['user.name'],
	secretKey: () => Buffer.alloc(32),
	migrateNewStore: false,
	projectName: 'tad',
	projectSuffix: '',
	serialize: JSON.stringify,
	deserialize: JSON.parse,
});
new Store<Settings>({backups: false}); // eslint-disable-line no-new
new Store<Settings>({secretKey: new Uint8Array(32)}); // eslint-disable-line no-new
new Store<Settings>({encryptionKey: 'obscurity'}); // eslint-disable-line no-new
expectError(new Store<Settings>({durability: 'eventually'}));
expectError(new Store<Settings>({onInvalidData: 'ignore'}));
expectError(new Store<Settings>({secretKeys: 'user.name'}));
expectError(new Store<Settings>({secretKey: 'not a buffer'}));
expectError(new Store<Settings>({migrateNewStore: 'yes'}));
expectError(new Store<Settings>({backups: {maxBackup: 3}}));

// -- both migration forms --
new Store<Settings>({ // eslint-disable-line no-new
	projectVersion: '2.0.0',
	migrations: {
		'1.0.0'(s) {
			expectType<Store<Settings>>(s);
			s.set('workspaces', []);
		},
		'>=2.0.0'(s) {
			s.delete('user');
		},
	},
	beforeEachMigration(s, context) {
		expectType<string>(context.fromVersion);
		expectType<string[]>(context.versions);
	},
});
new Store<Settings>({ // eslint-disable-line no-new
	migrations: [{version: '1.0.0', name: 'initial', up: s => s.set('workspaces', []), down: s => s.reset('workspaces')}],
});
expectError(new Store<Settings>({migrations: [{name: 'no version', up() {}}]}));

// -- key typing --
expectType<{theme: 'dark' | 'light'; fontSize: number}>(store.get('settings'));
expectType<{name: string} | undefined>(store.get('user'));
expectType<{name: string}>(store.get('user', {name: 'Ada'}));
expectType<unknown>(store.get('settings.theme'));
expectAssignable<number>(store.get('settings.fontSize', 12));
expectType<number>(store.get<'settings.fontSize', number>('settings.fontSize', 12));
store.set('settings', {theme: 'light', fontSize: 12});
expectError(store.set('settings', {theme: 'neon', fontSize: 12}));
store.set('settings.theme', 'light');
const someKey: string = 'settings';
store.set(someKey, 1);
store.set({workspaces: ['a']});
expectError(store.set({workspace: ['a']}));
expectType<boolean>(store.has('settings.theme'));
store.delete('user');
expectError(store.delete('usr'));
store.reset('settings', 'workspaces');
expectError(store.reset('settings', 'workspace'));
store.onDidChange('settings', (newValue, oldValue) => {
	expectType<{theme: 'dark' | 'light'; fontSize: number} | undefined>(newValue);
	expectType<{theme: 'dark' | 'light'; fontSize: number} | undefined>(oldValue);
});
expectError(store.onDidChange('setings', () => {}));
store.onDidAnyChange((newValue, oldValue) => {
	expectType<Readonly<Settings> | undefined>(newValue);
	expectType<Readonly<Settings> | undefined>(oldValue);
});
expectType<Settings>(store.store);
expectType<Settings>(store.getAll());

// untyped stores take any key
const loose = new Store();
expectType<unknown>(loose.get('anything.at.all'));
loose.delete('anything.at.all');
loose.reset('a', 'b.c');
loose.onDidChange('a.b', newValue => {
	expectType<unknown>(newValue);
});

// -- TAD surface --
expectType<true>(store.setMultiple({'settings.theme': 'dark', workspaces: []}));
const off = store.onChange('*', (newValue, oldValue, key) => {
	expectType<unknown>(newValue);
	expectType<string>(key);
});
expectType<() => void>(off);
store.onChange('workspaces', newValue => {
	expectType<string[] | undefined>(newValue);
});
store.onChange<string>('settings.theme', newValue => {
	expectType<string | undefined>(newValue);
});
expectType<true>(store.reload());
expectType<Promise<void>>(store.flush());
expectType<void>(store.flushSync());
expectType<Promise<void>>(store.flush({ file: true }));
expectType<void>(store.flushSync({ file: false }));
expectError(store.flush({ file: 1 }));
store.close();
store.close({force: true});
expectError(store.close({force: 'yes'}));
expectType<boolean>(store.closed);
expectType<string | undefined>(store.newerVersion);
expectType<string>(store.path);

const info = store.getStoreInfo();
expectType<number>(info.durableSeq);
expectType<'deferred' | 'sync'>(info.durability);
expectType<{code: string; message: string} | null>(info.writerError);
expectType<string | null>(info.recovery.quarantined);

const health = store.getHealthReport();
expectType<boolean>(health.healthy);
expectType<boolean>(health.watching);
expectType<Store.OperationStats | undefined>(store.getPerformanceStats().get);
expectType<void>(store.resetPerformanceStats());

// -- history and backups --
expectType<Promise<string>>(store.createBackup('before-update'));
expectType<Promise<Store.BackupInfo[]>>(store.listBackups());
expectType<Promise<true>>(store.restoreBackup('config-2024.json'));
expectType<Promise<Store.HistorySummary>>(store.getHistorySummary());
expectType<Promise<Store.RollbackResult>>(store.rollbackToTimestamp(new Date()));
expectType<Promise<Store.RollbackResult>>(store.rollbackToTimestamp('2024-01-01T00:00:00.000Z'));
expectType<Promise<Store.RollbackResult>>(store.rollbackToTimestamp(Date.now()));
expectType<Promise<Store.RollbackResult>>(store.rollbackToSeq(3));
expectError(store.rollbackToSeq('3'));
expectError(store.restoreBackup());
expectType<Promise<Store.BackupInfo[]>>(store.listMigrationBackups());
expectType<Promise<true>>(store.restoreMigrationBackup('backup-1.json'));
expectType<Promise<Store.ValidationResult>>(store.validateMigrationBackup('backup-1.json'));
expectType<Store.ValidationResult>(store.validateData({}));

(async () => {
	const [newest] = await store.listBackups();
	if (newest?.metadata) {
		expectType<string>(newest.metadata.documentHash);
		expectType<number>(newest.metadata.seq);
	}

	const summary = await store.getHistorySummary();
	expectType<Store.HistoryEntry[]>(summary.entries);
	expectType<string | null>(summary.entries[0]!.hashAfter);
	expectType<boolean>(summary.entries[0]!.reversible);
	const result = await store.rollbackToSeq(1);
	expectType<true>(result.success);
	expectType<number>(result.changesReverted);
})();

// -- secrets --
const report = store.rotateSecretKey(Buffer.alloc(32));
expectType<Store.RotationReport>(report);
expectType<boolean>(report.document);
expectType<number>(report.journalEntries);
expectType<number>(report.snapshots);
expectType<number>(report.backups.rotated);
expectType<Array<{path: string; code: string; message: string}>>(report.backups.failed);
store.rotateSecretKey(new Uint8Array(32));
expectError(store.rotateSecretKey('key'));

// -- errors --
expectAssignable<Store.StoreErrorCode>('E_SECRET_KEY');
expectAssignable<Store.StoreErrorCode>('E_HISTORY_TRUNCATED');
expectAssignable<Store.StoreErrorCode>('E_TOO_DEEP');
expectNotAssignable<Store.StoreErrorCode>('E_NOPE');
declare const error: StoreError;
expectAssignable<Error>(error);
expectAssignable<string>(error.code);

// -- the JSON Schema type --
const schema: Store.Schema<Settings> = {
	settings: {
		type: 'object',
		properties: {
			theme: {enum: ['dark', 'light'], default: 'dark'},
			fontSize: {type: 'integer', minimum: 8, maximum: 72},
		},
		required: ['theme'],
		additionalProperties: false,
	},
	workspaces: {type: 'array', items: {type: 'string', minLength: 1}, uniqueItems: true},
	user: {type: ['object', 'null'], properties: {name: {type: 'string', format: 'email'}}},
};
new Store<Settings>({schema}); // eslint-disable-line no-new
new Store<Settings>({rootSchema: {type: 'object', required: ['settings'], definitions: {s: true}, properties: {settings: {$ref: '#/definitions/s'}}}}); // eslint-disable-line no-new
const asConst = {workspaces: {type: 'array', items: [{type: 'string'}], minItems: 1}} as const;
expectAssignable<JSONSchema>(asConst.workspaces);
expectAssignable<JSONSchema>(true);
expectAssignable<JSONSchema>({if: {type: 'string'}, then: {maxLength: 3}, else: false, not: {const: 1}});
expectError<JSONSchema>({type: 'text'});
expectError<JSONSchema>({type: 'string', minLenght: 3}); // a misspelled keyword
expectError<JSONSchema>({minimum: '3'});
expectError<JSONSchema>({enum: 'dark'});
expectError<JSONSchema>({required: 'theme'});
expectError<JSONSchema>({properties: {a: {type: 'bool'}}});
expectError<JSONSchema>({items: [{type: 'string'}, {maxItem: 1}]});
expectNotAssignable<JSONSchema>(null);
expectNotAssignable<JSONSchema>('string');
// a typed store's schema names its keys (as conf's Schema<T>)
expectError(new Store<Settings>({schema: {settings: {type: 'object'}, workspace: {type: 'array'}}}));
expectError(new Store<Settings>({schema: {settings: {type: 'object'}, workspaces: {type: 'list'}}}));
expectError(new Store<Settings>({rootSchema: true}));
expectAssignable<Options<Settings>>({schema});

// -- the class is also `.Store` and `.default`, as index.js exports it --
expectType<typeof Store>(Store.Store);
expectType<typeof Store>(Store.default);
expectType<void>(Store.initRenderer());

// -- tad-store/ipc --
declare const ipcMain: IpcMainLike;
expectType<() => void>(registerStoreIpc(ipcMain, store, {protectedKeys: ['user.name'], allowedOrigins: ['app://tad']}));
registerStoreIpc(ipcMain, loose);
expectType<readonly string[]>(CHANNELS);
expectError(registerStoreIpc(ipcMain, store, {protectedKey: ['user.name']}));

// -- update() and transaction() (issue 20) --------------------------------------
expectType<number>(store.update('settings', current => ({theme: 'light' as const, fontSize: (current?.fontSize ?? 12) + 1})).fontSize);
expectType<string[]>(store.update('workspaces', (list = []) => [...list, '/w']));
expectType<number>(store.update('counters.launches', (n?: number) => (n ?? 0) + 1));
expectError(store.update('workspaces', async (list = []) => list));
expectError(store.update('workspaces', 'not a function'));
expectError(store.update('settings', () => 5));
expectType<string>(store.transaction(tx => {
	expectType<Settings['workspaces']>(tx.get('workspaces'));
	tx.set('workspaces', [...tx.get('workspaces'), '/x']);
	tx.set('a.b', 1);
	tx.set({user: {name: 'n'}});
	expectType<boolean>(tx.has('user'));
	tx.delete('user');
	return 'done';
}));
expectError(store.transaction(async tx => tx.get('workspaces')));
expectError(store.transaction(tx => tx.set('workspaces', 5)));
expectAssignable<StoreError['code']>('E_NESTED');

// -- atomic operations over IPC (issue 20) --
registerStoreIpc(ipcMain, store, {atomicOperations: true, writableKeys: ['workspaces']});
expectError(registerStoreIpc(ipcMain, store, {atomicOperations: 'yes'}));
expectType<'store-update'>(ATOMIC_CHANNEL);
expectAssignable<AtomicOperation>({op: 'increment', by: 2});
expectAssignable<AtomicOperation>({op: 'append', value: {id: 1}, unique: true});
expectAssignable<AtomicOperation>({op: 'remove', value: 'x'});
expectAssignable<AtomicOperation>({op: 'toggle'});
expectNotAssignable<AtomicOperation>({op: 'eval'});
expectNotAssignable<AtomicOperation>({op: 'append'});

// -- the downgrade guard (issue 20) --
new Store<Settings>({projectVersion: '1.0.0', onNewerVersion: 'read-only'}); // eslint-disable-line no-new
new Store<Settings>({onNewerVersion: 'throw'}); // eslint-disable-line no-new
new Store<Settings>({onNewerVersion: 'allow'}); // eslint-disable-line no-new

// -- defaultsLayer and inspect() (issue 20) -----------------------------------------
new Store<Settings>({defaultsLayer: true}); // eslint-disable-line no-new
expectError(new Store<Settings>({defaultsLayer: 'yes'}));
const inspected = store.inspect('settings');
expectType<Settings['settings'] | undefined>(inspected.value);
expectType<Settings['settings'] | undefined>(inspected.defaultValue);
expectType<Settings['settings'] | undefined>(inspected.userValue);
expectType<'user' | 'default' | 'none'>(inspected.source);
expectType<number | undefined>(store.inspect<number>('counters.launches').value);
expectError(store.inspect(1));
expectError(new Store<Settings>({onNewerVersion: 'ignore'}));
expectAssignable<StoreError['code']>('E_NEWER_VERSION');
expectAssignable<StoreError['code']>('E_READ_ONLY');
void (async () => {
	const [snapshot] = await store.listMigrationBackups();
	expectType<string | null | undefined>(snapshot.fromVersion);
	expectType<string | null | undefined>(snapshot.toVersion);
})();
