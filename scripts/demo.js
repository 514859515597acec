'use strict';
// A main-process-style tour of tad-store on a temporary directory:
// set/get, events, the file on disk, durability across a kill -9, and a damaged
// file that is kept instead of wiped.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const Store = require('..');

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-store-demo-'));
const line = title => console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 60 - title.length))}`);

async function main() {
line('open a store (like electron-store, with defaults)');
const store = new Store({ cwd, name: 'tad-config', defaults: { settings: { theme: 'dark', fontSize: 14 }, workspaces: [] } });
console.log('path:', store.path);
console.log('settings:', store.get('settings'));

line('events fire synchronously, only on real changes');
store.onDidChange('settings.theme', (newValue, oldValue) => console.log(`  onDidChange settings.theme: ${oldValue} → ${newValue}`));
store.onChange('*', (newValue, oldValue, key) => console.log(`  onChange('*') ${key}:`, oldValue, '→', newValue));
store.set('settings.theme', 'light');
store.set('settings.theme', 'light'); // same value: no event
store.setMultiple({ 'settings.fontSize': 16, workspaces: [{ id: 'ws1', path: '/home/me/project' }] });
console.log('get returns a copy: mutating it changes nothing until set back');
const ws = store.get('workspaces');
ws.push({ id: 'oops' });
console.log('  workspaces in store:', store.get('workspaces').length);

line('bad input is refused, nothing written');
for (const [what, fn] of [
  ['BigInt', () => store.set('n', 10n)],
  ['prototype pollution', () => store.set('__proto__.polluted', true)],
  ['undefined', () => store.set('x', undefined)],
]) {
  try {
    fn();
  } catch (error) {
    console.log(`  ${what}: ${error.constructor.name}${error.code ? ` ${error.code}` : ''}: ${error.message}`);
  }
}

line('the file on disk: electron-store 8 bytes (tabs, JS key order)');
store.flushSync();
console.log(fs.readFileSync(store.path, 'utf8'));
console.log('mode:', (fs.statSync(store.path).mode & 0o777).toString(8));
console.log('info:', JSON.stringify(store.getStoreInfo()));
line('history: roll back to any moment, verified by hash');
const beforeOops = Date.now();
await new Promise(resolve => setTimeout(resolve, 5));
store.set('settings.theme', 'neon-pink');
store.delete('workspaces');
console.log('  after the oops:', JSON.stringify(store.store));
const rolled = await store.rollbackToTimestamp(beforeOops);
console.log('  rollbackToTimestamp →', rolled);
console.log('  restored:', JSON.stringify(store.store));
const summary = await store.getHistorySummary();
for (const e of summary.entries.slice(-4)) console.log(`  #${e.seq} ${e.timestamp} ${e.operation} [${e.keys.join(', ')}] ${e.hashAfter.slice(0, 12)}…`);

line('verified backups');
const backupPath = await store.createBackup('demo');
console.log('  created:', path.basename(backupPath));
store.set('settings.fontSize', 99);
await store.restoreBackup(path.basename(backupPath));
console.log('  restored → fontSize', store.get('settings.fontSize'));
for (const b of await store.listBackups()) console.log(`  ${b.file}  ${b.metadata.reason}  sha256 ${b.metadata.hash.slice(0, 12)}…`);
try {
  await store.restoreBackup('../tad-config.json');
} catch (error) {
  console.log(`  restoreBackup('../tad-config.json'): ${error.code}`);
}
store.close();

line('schema and transactional migrations');
fs.writeFileSync(path.join(cwd, 'app.json'), JSON.stringify({ theme: 'DARK', __internal__: { migrations: { version: '1.0.0' } } }, null, '\t'));
const schema = { theme: { enum: ['dark', 'light'], default: 'dark' }, fontSize: { type: 'number', minimum: 8, default: 14 } };
try {
  new Store({ cwd, name: 'app', schema, projectVersion: '2.0.0', backups: false, migrations: {
    '1.5.0': s => s.set('theme', 'dark'),
    '2.0.0': () => { throw new Error('bug in the 2.0.0 migration'); },
  } });
} catch (error) {
  console.log(`  ${error.code}: ${error.message.slice(0, 110)}…`);
  console.log('  file unchanged:', fs.readFileSync(path.join(cwd, 'app.json'), 'utf8').includes('"DARK"'));
}
const app = new Store({ cwd, name: 'app', schema, projectVersion: '2.0.0', backups: false, migrations: {
  '1.5.0': s => s.set('theme', s.get('theme').toLowerCase()),
  '2.0.0': s => s.set('migratedAt', 'v2'),
} });
console.log('  migrated:', JSON.stringify(app.store));
try {
  app.set('fontSize', 2);
} catch (error) {
  console.log(`  set('fontSize', 2): ${error.code}: ${error.message}`);
}
app.close();

line('durability: a child process does sync sets and is killed with SIGKILL');
const child = spawnSync(process.execPath, ['-e', `
  const Store = require(${JSON.stringify(path.resolve(__dirname, '..'))});
  const s = new Store({ cwd: ${JSON.stringify(cwd)}, name: 'crashy', durability: 'sync' });
  for (let i = 1; i <= 200; i++) { s.set('counter', i); }
  process.stdout.write('acknowledged 200 writes, now kill -9 myself\\n');
  process.kill(process.pid, 'SIGKILL');
`], { encoding: 'utf8' });
console.log(' ', child.stdout.trim(), `(signal: ${child.signal})`);
const reopened = new Store({ cwd, name: 'crashy' });
console.log('  after reopen, counter =', reopened.get('counter'), `(journal changes replayed: ${reopened.getStoreInfo().recovery.replayed})`);
reopened.close();

line('a damaged file is rebuilt from history, or kept aside');
fs.writeFileSync(path.join(cwd, 'tad-config.json'), '{"settings": {"the');
process.removeAllListeners('warning');
process.on('warning', w => console.log(`  warning: ${w.message}`));
const rebuilt = new Store({ cwd, name: 'tad-config' });
console.log('  reopened a truncated file:', JSON.stringify(rebuilt.store));
console.log('  how:', rebuilt.getStoreInfo().recovery.recovered);
rebuilt.close();
fs.rmSync(path.join(cwd, 'storeHistory'), { recursive: true });
fs.rmSync(path.join(cwd, 'backups'), { recursive: true });

const damaged = path.join(cwd, 'damaged.json');
fs.writeFileSync(damaged, '{"settings": {"theme": "dark"');
try {
  new Store({ cwd, name: 'damaged' });
} catch (error) {
  console.log(`  default (clearInvalidConfig: false): ${error.code}: ${error.message.slice(0, 90)}…`);
}
const fresh = new Store({ cwd, name: 'damaged', clearInvalidConfig: true, defaults: { settings: { theme: 'dark' } } });
console.log('  clearInvalidConfig: true → started from defaults:', fresh.get('settings'));
console.log('  damaged file kept:', fs.readdirSync(cwd).filter(f => f.includes('.corrupt-')));
fresh.close();

await new Promise(resolve => setImmediate(resolve));
fs.rmSync(cwd, { recursive: true, force: true });
console.log('\ndone.');
}

main().catch(error => {
  console.error(error);
  process.exitCode = 1;
});
