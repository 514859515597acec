'use strict';

/**
 * Opens crash states with the real addon (or conf@10), one after another, and
 * reports what each holds. Jobs arrive as JSON lines on stdin, results leave
 * as JSON lines on stdout:
 *
 *   { id, cwd, name, reopen, keys, conf, restore: [file] }
 *   → { id, ok: true, doc, key, recovery, backups, snapshots, restored }
 *   → { id, ok: false, error: { code, name, message } }
 *
 * `keys`: secret keys (hex) to try in order (the next one after
 * E_SECRET_KEY); `key` says which opened it. Backups: every listed one with
 * whether its bytes hash to its metadata's hash; `restore`: backups to
 * restore (restoreBackup verifies the hash), the state each restored. Migration
 * snapshots: validateMigrationBackup() and their parsed content.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const readline = require('node:readline');

const Store = require('../..');
const { SERIALIZE_FORMATS } = require('./formats.js');

function errorOf(e) {
  return { code: e && e.code, name: e && e.name, message: String(e && e.message) };
}

const plain = value => JSON.parse(JSON.stringify(value));

function parseOrNull(bytes) {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
}

async function openTad(job) {
  const keys = job.keys ? job.keys.map(k => Buffer.from(k, 'hex')) : [undefined];
  let store = null;
  let key = -1;
  for (let i = 0; i < keys.length && store === null; i++) {
    try {
      const { format, ...reopen } = job.reopen || {};
      store = new Store({
        cwd: job.cwd,
        name: job.name,
        ...reopen,
        ...(format ? SERIALIZE_FORMATS[format] : {}),
        backups: { onStart: false },
        ...(keys[i] ? { secretKey: keys[i] } : {}),
      });
      key = i;
    } catch (e) {
      if (e && e.code === 'E_SECRET_KEY' && i + 1 < keys.length) continue;
      return { ok: false, error: errorOf(e) };
    }
  }
  try {
    const doc = plain(store.store);
    const recovery = store.getStoreInfo().recovery;
    const backups = [];
    for (const b of await store.listBackups()) {
      const bytes = fs.readFileSync(b.path);
      const hash = crypto.createHash('sha256').update(bytes).digest('hex');
      backups.push({ file: b.file, reason: b.metadata && b.metadata.reason, verified: b.metadata && b.metadata.hash === hash });
    }
    const snapshots = [];
    for (const s of await store.listMigrationBackups()) {
      let valid = null;
      let errors = null;
      try {
        ({ valid, errors } = await store.validateMigrationBackup(s.file));
      } catch (e) {
        errors = [`${e.code}: ${e.message}`];
      }
      snapshots.push({ file: s.file, valid, errors, content: parseOrNull(fs.readFileSync(s.path)) });
    }
    const restored = {};
    for (const file of job.restore || []) {
      try {
        await store.restoreBackup(file);
        restored[file] = { ok: true, state: plain(store.store) };
      } catch (e) {
        restored[file] = { ok: false, error: errorOf(e) };
      }
    }
    return { ok: true, doc, key, recovery, backups, snapshots, restored };
  } finally {
    store.close();
  }
}

function openConf(job) {
  const Conf = require('conf');
  try {
    const conf = new Conf({ cwd: job.cwd, configName: job.name });
    return { ok: true, doc: plain(conf.store), key: -1, recovery: null, backups: [], snapshots: [], restored: {} };
  } catch (e) {
    return { ok: false, error: errorOf(e) };
  }
}

const rl = readline.createInterface({ input: process.stdin });
const queue = [];
let busy = false;

async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length > 0) {
    const job = queue.shift();
    let result;
    try {
      result = job.conf ? openConf(job) : await openTad(job);
    } catch (e) {
      result = { ok: false, error: errorOf(e) };
    }
    process.stdout.write(`${JSON.stringify({ id: job.id, ...result })}\n`);
  }
  busy = false;
}

rl.on('line', line => {
  if (line.trim() === '') return;
  queue.push(JSON.parse(line));
  drain();
});
rl.on('close', async () => {
  await drain();
});
// a warning (quarantine, newer version) is part of the result, not noise on stderr
process.removeAllListeners('warning');
process.on('warning', () => {});
