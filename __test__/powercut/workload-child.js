'use strict';

/**
 * Runs one power-cut workload on a directory inside the recorder's mount and
 * writes what it did to a JSON file outside it:
 *
 *   node workload-child.js <mount root> <workload> <out.json>
 *
 * Every store operation k is bracketed by marks in the recording (a lookup
 * of `<mount>/.powercut-mark-<label>`, which recorder.c logs in order with
 * the file-system requests): `b<k>` before it is issued, `a<k>` once it is
 * acknowledged durable (a 'sync' set returned; a flush() resolved covers
 * every op before it; conf@10: its set returned). `states[k]` is the store's
 * content after op k (`states[0]` before any). Other acknowledgements:
 * `bk<j>` a createBackup() resolved (`backups[j]`), `mig` the migrating
 * constructor returned, `rot` rotateSecretKey() resolved, `damaged` another
 * program's damage to the file was fsynced.
 */

const fs = require('node:fs');
const path = require('node:path');

const [mount, workload, outFile] = process.argv.slice(2);

const SECRET_CANARY = 'sk-powercut-canary-7f3a9c';
const KEY1 = Buffer.alloc(32, 0x11);
const KEY2 = Buffer.alloc(32, 0x22);

const out = {
  workload,
  cwd: null, // relative to the mount root
  name: 'config',
  states: [{}],
  backups: [], // { file, state }
  migration: null, // { version, before, state }
  rotated: false,
  damaged: null, // base64 of the damaging bytes
  canary: null,
  reopen: {}, // options for opening a crash state
  keys: null, // hex keys to try, in order
  conf: false,
};

let markCount = 0;
function mark(label) {
  markCount++;
  // a name that never exists: the recorder logs the lookup
  fs.statSync(path.join(mount, `.powercut-mark-${label}`), { throwIfNoEntry: false });
}

const plain = value => JSON.parse(JSON.stringify(value));

/** Runs `fn` as op k: marks its start, records the state after it. */
function op(store, fn) {
  const k = out.states.length;
  mark(`b${k}`);
  fn();
  out.states.push(plain(store.store));
  return k;
}

function cwdOf(rel) {
  out.cwd = rel;
  return path.join(mount, rel);
}

/** A brand-new store three levels below directories that do not exist yet. */
async function newStore(durability) {
  const Store = require('../..');
  const cwd = cwdOf('home/user/.config/App');
  const store = new Store({ cwd, durability });
  const steps = [
    s => s.set('theme', 'dark'),
    s => s.set('window', { width: 800, height: 600 }),
    s => s.set({ lang: 'en', recent: ['a.txt'] }),
    s => s.setMultiple({ 'window.width': 1024, zoom: 1.25 }),
    s => s.delete('lang'),
    s => s.set('recent', ['a.txt', 'b.txt']),
  ];
  for (const [i, step] of steps.entries()) {
    const k = op(store, () => step(store));
    if (durability === 'sync') mark(`a${k}`);
    else if (i % 2 === 1) {
      await store.flush();
      mark(`a${k}`);
    }
  }
  if (durability !== 'sync') {
    await store.flush();
    mark(`a${out.states.length - 1}`);
  }
  store.close();
}

/** Backups into a backups/ directory that does not exist yet. */
async function backups() {
  const Store = require('../..');
  const cwd = cwdOf('data/App');
  const store = new Store({ cwd, durability: 'sync' });
  const backupOnce = async () => {
    const state = out.states[out.states.length - 1];
    const p = await store.createBackup('manual');
    const j = out.backups.length;
    out.backups.push({ file: path.basename(p), state });
    mark(`bk${j}`);
  };
  for (const v of [1, 2]) mark(`a${op(store, () => store.set('settings', { version: v, items: [v] }))}`);
  await backupOnce();
  mark(`a${op(store, () => store.set('user', { name: 'Ada' }))}`);
  await backupOnce();
  mark(`a${op(store, () => store.delete('settings'))}`);
  store.close();
}

/** A store made at 1.0.0, then opened by 2.0.0 with a migration. */
async function migrations() {
  const Store = require('../..');
  const cwd = cwdOf('profile/App');
  let store = new Store({ cwd, durability: 'sync' });
  for (const [k, v] of [['count', 3], ['legacy', { on: true }]]) mark(`a${op(store, () => store.set(k, v))}`);
  store.close();
  const before = out.states[out.states.length - 1];
  const k = out.states.length;
  mark(`b${k}`);
  store = new Store({
    cwd,
    durability: 'sync',
    projectVersion: '2.0.0',
    migrations: {
      '2.0.0': s => {
        s.set('count', s.get('count') * 10);
        s.set('modern', s.get('legacy'));
        s.delete('legacy');
      },
    },
  });
  out.states.push(plain(store.store));
  out.migration = { version: '2.0.0', before, state: k };
  mark('mig');
  await store.flush();
  mark(`a${k}`);
  mark(`a${op(store, () => store.set('after', true))}`);
  store.close();
}

/** history.maxEntries small: the journal is replaced (trimmed) several times. */
async function trims() {
  const Store = require('../..');
  const cwd = cwdOf('trim/App');
  const store = new Store({ cwd, durability: 'sync', history: { maxEntries: 2 } });
  out.reopen = { history: { maxEntries: 2 } };
  for (let i = 1; i <= 80; i++) {
    const k = op(store, () => store.set(`k${i % 7}`, i));
    mark(`a${k}`);
    // a flush writes the document (a checkpoint), and a checkpoint trims
    if (i % 10 === 0) await store.flush();
  }
  store.close();
}

/** secretKeys: the canary is encrypted everywhere; the key is rotated. */
async function secrets() {
  const Store = require('../..');
  const cwd = cwdOf('secure/App');
  out.canary = SECRET_CANARY;
  out.reopen = { secretKeys: ['ai.apiKey'] };
  out.keys = [KEY2.toString('hex'), KEY1.toString('hex')];
  const store = new Store({ cwd, durability: 'sync', secretKeys: ['ai.apiKey'], secretKey: KEY1 });
  mark(`a${op(store, () => store.set('ai', { apiKey: SECRET_CANARY, model: 'm1' }))}`);
  mark(`a${op(store, () => store.set('ui', { dense: true }))}`);
  const state = out.states[out.states.length - 1];
  const p = await store.createBackup('manual');
  out.backups.push({ file: path.basename(p), state });
  mark('bk0');
  await store.rotateSecretKey(KEY2);
  out.rotated = true;
  mark('rot');
  mark(`a${op(store, () => store.set('ai.model', 'm2'))}`);
  store.close();
}

/** Another program damages the file while the store is closed; it is kept aside. */
async function quarantine() {
  const Store = require('../..');
  const cwd = cwdOf('q/App');
  let store = new Store({ cwd, durability: 'sync' });
  for (const v of [1, 2, 3]) mark(`a${op(store, () => store.set('n', v))}`);
  store.close();
  const file = path.join(cwd, 'config.json');
  const bad = Buffer.from('{"n": 3, <<< damaged by a crashing editor');
  const fd = fs.openSync(file, 'r+');
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, bad, 0, bad.length, 0);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  out.damaged = bad.toString('base64');
  mark('damaged');
  const k = out.states.length;
  mark(`b${k}`);
  store = new Store({ cwd, durability: 'sync' });
  // reopening recovers the last state; that is not an op of its own
  if (JSON.stringify(plain(store.store)) !== JSON.stringify(out.states[k - 1])) {
    throw new Error(`the damaged store did not recover its state: ${JSON.stringify(store.store)}`);
  }
  mark(`a${op(store, () => store.set('n', 4))}`);
  store.close();
}

/**
 * Custom serialize/deserialize: the store file is written by the JS layer
 * through the app's functions (an export of the journal's state).
 */
async function customSerialize() {
  const Store = require('../..');
  const { SERIALIZE_FORMATS } = require('./formats.js');
  const cwd = cwdOf('custom/App');
  out.reopen = { format: 'lines' };
  const store = new Store({ cwd, durability: 'sync', ...SERIALIZE_FORMATS.lines });
  const steps = [
    s => s.set('theme', 'dark'),
    s => s.set('window', { width: 800 }),
    s => s.delete('theme'),
    s => s.set('theme', 'light'),
  ];
  for (const step of steps) mark(`a${op(store, () => step(store))}`);
  store.close();
}

/** conf@10 (electron-store 8) on the new-store workload: each set returns after its write. */
async function conf() {
  const Conf = require('conf');
  const cwd = cwdOf('home/user/.config/App');
  out.conf = true;
  const store = new Conf({ cwd, configName: 'config' });
  const steps = [
    s => s.set('theme', 'dark'),
    s => s.set('window', { width: 800, height: 600 }),
    s => s.set({ lang: 'en', recent: ['a.txt'] }),
    s => s.set({ 'window.width': 1024, zoom: 1.25 }),
    s => s.delete('lang'),
    s => s.set('recent', ['a.txt', 'b.txt']),
  ];
  for (const step of steps) mark(`a${op(store, () => step(store))}`);
}

const workloads = {
  'new-store-sync': () => newStore('sync'),
  'new-store-deferred': () => newStore('deferred'),
  backups,
  migrations,
  trims,
  secrets,
  quarantine,
  'custom-serialize': customSerialize,
  conf,
};

(async () => {
  const run = workloads[workload];
  if (!run) throw new Error(`unknown workload ${workload}`);
  await run();
  out.marks = markCount;
  fs.writeFileSync(outFile, JSON.stringify(out));
})().catch(error => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
