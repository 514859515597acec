'use strict';

// History and rollback (SPEC §3 TAD surface, §7): the journal (JSON lines,
// RFC 6902 patches with RFC 6901 pointers, a sha256 hash chain),
// getHistorySummary(), rollbackToTimestamp(), rollbackToSeq().
//
// The core is a randomized model test: random operations on keys with '.',
// '/', '~', '[0]', unicode and arrays; the exact state and the time after
// each one are recorded; rolling back to any recorded moment must give that
// state back exactly, and the rollback must itself be undoable.
//
// Seed: HISTORY_SEED=<n> to replay a run.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { isDeepStrictEqual } = require('node:util');

const { fixture, rng, assertMode } = require('./helpers.js');

const SEED = Number(process.env.HISTORY_SEED) || Date.now() % 1_000_000;
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const HEX64 = /^[0-9a-f]{64}$/;

/** The store as a plain JSON value (key order kept). */
const snap = store => JSON.parse(JSON.stringify(store.store));
const text = store => JSON.stringify(store.store);
const journalPath = store => path.join(path.dirname(store.path), 'storeHistory', `${path.basename(store.path)}.journal`);

// ---------------------------------------------------------------------------
// A small, independent RFC 6902 / RFC 6901 implementation to check the journal
// ---------------------------------------------------------------------------

function parsePointer(pointer) {
  assert.equal(typeof pointer, 'string', 'a JSON pointer is a string');
  if (pointer === '') return [];
  assert.ok(pointer.startsWith('/'), `JSON pointer ${JSON.stringify(pointer)} must start with '/'`);
  return pointer
    .slice(1)
    .split('/')
    .map(token => {
      assert.ok(!/~(?![01])/.test(token), `bad '~' escape in pointer ${JSON.stringify(pointer)}`);
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function arrayIndex(array, token, forAdd) {
  if (forAdd && token === '-') return array.length;
  assert.ok(/^(0|[1-9][0-9]*)$/.test(token), `array index ${JSON.stringify(token)}`);
  const i = Number(token);
  assert.ok(i <= array.length - (forAdd ? 0 : 1), `array index ${i} out of range (${array.length})`);
  return i;
}

function walk(doc, segs) {
  let node = doc;
  for (const seg of segs) {
    assert.ok(node !== null && typeof node === 'object', `pointer goes through a non-container at ${JSON.stringify(seg)}`);
    if (Array.isArray(node)) node = node[arrayIndex(node, seg, false)];
    else {
      assert.ok(Object.hasOwn(node, seg), `pointer goes through a missing member ${JSON.stringify(seg)}`);
      node = node[seg];
    }
  }
  return node;
}

function setMember(obj, key, value) {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function applyOne(doc, op) {
  const segs = parsePointer(op.path);
  const value = 'value' in op ? structuredClone(op.value) : undefined;
  if (op.op === 'test') {
    assert.deepStrictEqual(walk(doc, segs), op.value, `test op failed at ${op.path}`);
    return doc;
  }
  if (op.op === 'move' || op.op === 'copy') {
    const from = parsePointer(op.from);
    const moved = structuredClone(walk(doc, from));
    if (op.op === 'move') doc = applyOne(doc, { op: 'remove', path: op.from });
    return applyOne(doc, { op: 'add', path: op.path, value: moved });
  }
  if (segs.length === 0) {
    assert.ok(op.op === 'add' || op.op === 'replace', `${op.op} of the whole document`);
    return value;
  }
  const parent = walk(doc, segs.slice(0, -1));
  const last = segs[segs.length - 1];
  assert.ok(parent !== null && typeof parent === 'object', `parent of ${op.path} is not a container`);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, op.op === 'add');
    if (op.op === 'add') parent.splice(i, 0, value);
    else if (op.op === 'remove') parent.splice(i, 1);
    else if (op.op === 'replace') parent[i] = value;
    else assert.fail(`unknown op ${op.op}`);
  } else if (op.op === 'add') {
    setMember(parent, last, value);
  } else {
    assert.ok(Object.hasOwn(parent, last), `${op.op} of missing member ${op.path}`);
    if (op.op === 'remove') delete parent[last];
    else if (op.op === 'replace') setMember(parent, last, value);
    else assert.fail(`unknown op ${op.op}`);
  }
  return doc;
}

function applyPatch(doc, patch) {
  assert.ok(Array.isArray(patch), 'a patch is an array');
  let out = structuredClone(doc);
  for (const op of patch) out = applyOne(out, op);
  return out;
}

/**
 * Reads and checks the journal: JSON lines; change lines with every field,
 * consecutive seqs, `prev` = sha256 of the previous change line; checkpoint
 * lines. Returns { changes, checkpoints } (changes oldest first).
 */
function readJournal(file) {
  const raw = fs.readFileSync(file, 'utf8');
  const lines = raw.split('\n');
  assert.equal(lines.pop(), '', 'the journal ends with a newline');
  const changes = [];
  const checkpoints = [];
  let prevLine = null;
  for (const line of lines) {
    const rec = JSON.parse(line);
    if (rec.checkpoint !== undefined) {
      assert.ok(Number.isInteger(rec.checkpoint) && Number.isInteger(rec.ts) && HEX64.test(rec.hash) && Number.isInteger(rec.size), `checkpoint line ${line}`);
      checkpoints.push(rec);
      continue;
    }
    for (const k of ['seq', 'ts', 'op', 'keys', 'patch', 'inverse', 'hashBefore', 'hashAfter', 'prev']) {
      assert.ok(k in rec, `change line without ${k}: ${line.slice(0, 200)}`);
    }
    assert.ok(Number.isInteger(rec.seq) && rec.seq >= 1);
    assert.ok(Number.isInteger(rec.ts));
    assert.ok(HEX64.test(rec.hashBefore) && HEX64.test(rec.hashAfter));
    if (prevLine !== null) {
      assert.equal(rec.seq, changes[changes.length - 1].seq + 1, 'consecutive seqs in the journal');
      assert.equal(rec.prev, crypto.createHash('sha256').update(prevLine).digest('hex'), `hash chain broken at seq ${rec.seq}`);
    } else if (rec.seq === 1) {
      assert.equal(rec.prev, null, 'the first change has no prev');
    } else {
      assert.ok(HEX64.test(rec.prev), 'a trimmed journal still records the previous line hash');
    }
    for (const p of [rec.patch, rec.inverse]) {
      assert.ok(Array.isArray(p));
      for (const op of p) parsePointer(op.path);
    }
    changes.push(rec);
    prevLine = line;
  }
  return { changes, checkpoints };
}

/** Checks the shape of a summary and the hash chain of consecutive entries. */
function checkSummary(summary, label = '') {
  assert.equal(typeof summary.totalEntries, 'number');
  assert.ok(Array.isArray(summary.entries));
  assert.equal(summary.totalEntries, summary.entries.length, `${label} totalEntries`);
  assert.equal(summary.metadata.totalEntries, summary.entries.length);
  const last = summary.entries[summary.entries.length - 1];
  if (last) {
    assert.deepStrictEqual(summary.metadata.lastOperation, { type: last.operation, timestamp: last.timestamp });
    assert.equal(summary.metadata.lastModified, last.timestamp);
  } else {
    assert.equal(summary.metadata.lastOperation, null);
  }
  let prev = null;
  for (const e of summary.entries) {
    assert.deepStrictEqual(Object.keys(e).sort(), ['hashAfter', 'hashBefore', 'keys', 'operation', 'reversible', 'seq', 'time', 'timestamp']);
    assert.ok(Number.isInteger(e.seq) && e.seq >= 1);
    assert.equal(typeof e.operation, 'string');
    assert.ok(Array.isArray(e.keys) && e.keys.every(k => typeof k === 'string'), `${label} keys of ${e.seq}`);
    assert.equal(e.timestamp, new Date(e.time).toISOString(), `${label} timestamp of ${e.seq}`);
    assert.ok(HEX64.test(e.hashBefore) && HEX64.test(e.hashAfter), `${label} hashes of ${e.seq}`);
    assert.equal(typeof e.reversible, 'boolean');
    if (prev) {
      assert.equal(e.seq, prev.seq + 1, `${label} consecutive seqs`);
      assert.ok(e.time >= prev.time, `${label} times never go back (${prev.seq} -> ${e.seq})`);
      if (prev.reversible && e.reversible) {
        assert.equal(e.hashBefore, prev.hashAfter, `${label} hashBefore of ${e.seq} is hashAfter of ${prev.seq}`);
      }
    }
    prev = e;
  }
}

/** Records every onChange('*') event as [key, newValue, oldValue]. */
function recordAll(store) {
  const events = [];
  store.onChange('*', (n, o, k) => events.push([k, n, o]));
  return events;
}

/** The top-level keys whose values differ between two plain objects. */
function changedKeys(before, after) {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter(k => !isDeepStrictEqual(before[k], after[k])).sort();
}

/** The '*' events of a bulk change are exactly one per changed top-level key, with the right values. */
function checkEvents(events, before, after, label) {
  const got = events.map(e => e[0]).sort();
  assert.deepStrictEqual(got, changedKeys(before, after), `${label}: one event per changed top-level key`);
  for (const [k, n, o] of events) {
    assert.deepStrictEqual(n, after[k], `${label}: new value of ${k}`);
    assert.deepStrictEqual(o, before[k], `${label}: old value of ${k}`);
  }
}

// ---------------------------------------------------------------------------
// Random operations
// ---------------------------------------------------------------------------

const NAMES = ['plain', 'dot.ted', 'sl/ash', 'til~de', '~0~1', 'a/~b', 'arr[0]', 'ünï', 'ключ', '😀', 'list', 'x', ''];
const SET_KEYS = [
  'plain',
  'a.b',
  'a.c.d',
  'dot\\.ted',
  'sl/ash',
  'til~de',
  '~0~1',
  'a/~b',
  'arr[0]',
  'arr[0].x',
  'ünï.ключ',
  '😀',
  'list',
  'list.0',
  'list.2',
  'nested.sl/ash.til~de',
  'x',
];

function randomValue(random, depth = 0) {
  const r = random.int(depth >= 2 ? 6 : 9);
  switch (r) {
    case 0:
      return random.int(2000) - 1000;
    case 1:
      return random.pick([0.5, -1.25, 1e21, 2 ** 53, 0, 3.14159]);
    case 2:
      return random.pick(['', 'text', 'ünïcødé ✓', 'emoji 😀', 'quote " back\\slash', 'line\nbreak', 'tab\t']);
    case 3:
      return random.pick([true, false]);
    case 4:
      return null;
    case 5:
      return `s${random.int(100)}`;
    case 6:
    case 7: {
      const n = random.int(4);
      return Array.from({ length: n }, () => randomValue(random, depth + 1));
    }
    default: {
      const o = {};
      const n = random.int(4);
      for (let i = 0; i < n; i++) o[random.pick(NAMES)] = randomValue(random, depth + 1);
      return o;
    }
  }
}

const DEFAULTS = { plain: 'default', list: [1, 2, 3] };
const OPERATION = { set: 'set', reset: 'set', delete: 'delete', setMultiple: 'setMultiple', clear: 'clear', store: 'store', reload: 'external-change', restore: 'restore' };

/**
 * Runs one random operation on `store`; returns its kind (the expected history
 * operation name of its entries), or null when it records nothing.
 */
async function randomOp(random, store, ctx) {
  const r = random.int(100);
  if (r < 40) {
    store.set(random.pick(SET_KEYS), randomValue(random));
    return 'set';
  }
  if (r < 55) {
    store.delete(random.pick(SET_KEYS));
    return 'delete';
  }
  if (r < 67) {
    const data = {};
    const n = 1 + random.int(3);
    for (let i = 0; i < n; i++) data[random.pick(SET_KEYS)] = randomValue(random);
    // keys like 'a' and 'a.b' in one call: keep only unrelated keys
    const keys = Object.keys(data);
    for (const k of keys) {
      if (keys.some(o => o !== k && (o.startsWith(`${k}.`) || k.startsWith(`${o}.`)))) delete data[k];
    }
    store.setMultiple(data);
    return 'setMultiple';
  }
  if (r < 71) {
    store.clear();
    return 'clear';
  }
  if (r < 78) {
    const o = {};
    const n = random.int(5);
    for (let i = 0; i < n; i++) o[random.pick(NAMES)] = randomValue(random);
    store.store = o;
    return 'store';
  }
  if (r < 84) {
    store.reset(random.pick(Object.keys(DEFAULTS)));
    return 'reset';
  }
  if (r < 89) {
    // an edit by another program while the store is open, picked up by reload()
    store.flushSync({ file: true });
    const next = { ...snap(store), [random.pick(NAMES)]: randomValue(random) };
    if (random.int(2) === 0) delete next[random.pick(Object.keys(next))];
    fs.writeFileSync(store.path, JSON.stringify(next, null, '\t'));
    store.reload();
    return 'reload';
  }
  if (r < 95 || ctx.backups.length === 0) {
    ctx.backups.push(await store.createBackup('model'));
    return null;
  }
  await store.restoreBackup(random.pick(ctx.backups));
  return 'restore';
}

/**
 * Runs `count` random operations with small sleeps; returns the records
 * [{ t, seq, state, text, kind, from }] (record 0: the state right after open).
 */
async function runModel(random, store, count) {
  const ctx = { backups: [] };
  const records = [{ t: Date.now(), seq: store.getStoreInfo().seq, state: snap(store), text: text(store), kind: 'open', from: 0 }];
  for (let i = 0; i < count; i++) {
    await sleep(2 + random.int(4));
    const from = store.getStoreInfo().seq;
    const kind = await randomOp(random, store, ctx);
    const seq = store.getStoreInfo().seq;
    records.push({ t: Date.now(), seq, state: snap(store), text: text(store), kind, from });
  }
  await sleep(3);
  return records;
}

function modelStore(fx) {
  return fx.open({ defaults: DEFAULTS, history: { maxEntries: 100000 }, backups: { onStart: false, interval: 0, maxBackups: 1000 } });
}

/** The latest seq, checked against the summary. */
async function latestSeq(store) {
  const summary = await store.getHistorySummary();
  const seq = store.getStoreInfo().seq;
  if (summary.entries.length > 0) assert.equal(summary.entries[summary.entries.length - 1].seq, seq, 'getStoreInfo().seq is the newest entry');
  return seq;
}

/** Flushes `store` and opens a copy of its store file and journal. */
async function openCopy(fx, store) {
  await store.flush({ file: true });
  const cwd = fx.dir();
  const from = path.dirname(store.path);
  fs.cpSync(from, cwd, { recursive: true, filter: src => src !== path.join(from, 'backups') });
  // no `defaults` here: they would fill keys the random run removed (a new change)
  return fx.open({ cwd, history: { maxEntries: 100000 }, backups: { onStart: false, interval: 0, maxBackups: 1000 } });
}

// ---------------------------------------------------------------------------
// The model test
// ---------------------------------------------------------------------------

test(`model: rollbackToTimestamp to random recorded moments gives that exact state, and can be undone (seed ${SEED})`, async t => {
  const random = rng(SEED);
  t.diagnostic(`HISTORY_SEED=${SEED}`);
  const fx = fixture(t);
  const store = modelStore(fx);
  const records = await runModel(random, store, 150);
  const where = `seed ${SEED}`;

  // the summary: every change, consecutive, the right operation names
  const summary = await store.getHistorySummary();
  checkSummary(summary, where);
  const latest = records[records.length - 1].seq;
  assert.equal(summary.totalEntries, latest, `${where}: never trimmed, so one entry per change`);
  assert.equal(summary.entries[0].seq, 1);
  assert.equal(summary.entries[0].operation, 'defaults');
  const bySeq = new Map(summary.entries.map(e => [e.seq, e]));
  for (const rec of records.slice(1)) {
    if (rec.kind === null || rec.seq === rec.from) {
      assert.equal(rec.seq, rec.from, `${where}: a ${rec.kind} that changed nothing records nothing`);
      continue;
    }
    if (rec.kind !== 'reset') assert.equal(rec.seq, rec.from + 1, `${where}: one ${rec.kind} is one entry`);
    for (let s = rec.from + 1; s <= rec.seq; s++) {
      assert.equal(bySeq.get(s).operation, OPERATION[rec.kind], `${where}: operation of entry ${s}`);
      assert.ok(bySeq.get(s).reversible);
    }
    // the entry's hash is a content hash: equal states, equal hashes
    const same = records.find(o => o.text === rec.text && o.seq !== rec.seq && o.seq > 0);
    if (same) assert.equal(bySeq.get(same.seq).hashAfter, bySeq.get(rec.seq).hashAfter, `${where}: same state, same hash`);
  }

  // the journal: replaying the forward patches from {} gives every recorded state,
  // and each inverse patch undoes its change
  await store.flush();
  const { changes } = readJournal(journalPath(store));
  assert.equal(changes[0].seq, 1);
  assert.equal(changes[changes.length - 1].seq, latest);
  const stateAt = new Map([[0, {}]]);
  let doc = {};
  for (const c of changes) {
    const after = applyPatch(doc, c.patch);
    assert.deepStrictEqual(applyPatch(after, c.inverse), doc, `${where}: the inverse of change ${c.seq} undoes it`);
    assert.equal(c.hashBefore, bySeq.get(c.seq).hashBefore);
    assert.equal(c.ts, bySeq.get(c.seq).time);
    doc = after;
    stateAt.set(c.seq, doc);
  }
  for (const rec of records) {
    assert.deepStrictEqual(stateAt.get(rec.seq), rec.state, `${where}: journal replay up to ${rec.seq}`);
  }

  // rollbacks to random recorded moments, each on a copy of the store (rollbacks
  // of rollbacks are covered below and in the chained part at the end)
  const finalText = text(store);
  const finalState = snap(store);
  for (let round = 0; round < 25; round++) {
    const i = random.int(records.length);
    const rec = records[i];
    const label = `${where}, round ${round}, moment ${i} (seq ${rec.seq})`;
    const copy = await openCopy(fx, store);
    const events = recordAll(copy);
    let anyCalls = 0;
    copy.onDidAnyChange(() => anyCalls++);
    let changeEvents = 0;
    copy.events.on('change', () => changeEvents++);
    assert.equal(text(copy), finalText, `${label}: the copy`);
    const before = snap(copy);
    const seqBefore = await latestSeq(copy);
    assert.equal(seqBefore, latest);

    const form = random.int(3);
    const arg = form === 0 ? rec.t : form === 1 ? new Date(rec.t) : new Date(rec.t).toISOString();
    const result = await copy.rollbackToTimestamp(arg);
    assert.deepStrictEqual(result, {
      success: true,
      rolledBackTo: new Date(rec.t).toISOString(),
      changesReverted: seqBefore - rec.seq,
      seq: rec.seq,
    }, label);
    assert.equal(text(copy), rec.text, `${label}: exact state (and key order)`);
    assert.deepStrictEqual(snap(copy), rec.state, label);
    checkEvents(events, before, rec.state, label);
    const changed = !isDeepStrictEqual(before, rec.state);
    assert.equal(anyCalls, changed ? 1 : 0, `${label}: onDidAnyChange calls`);
    assert.equal(changeEvents, changed ? 1 : 0, `${label}: 'change' events`);

    const seqAfter = await latestSeq(copy);
    if (seqBefore === rec.seq) {
      assert.equal(seqAfter, seqBefore, `${label}: rolling back to now records nothing`);
      copy.close();
      continue;
    }
    if (!changed && seqAfter === seqBefore) {
      // the state then equals the state now: nothing to record
      copy.close();
      continue;
    }
    assert.equal(seqAfter, seqBefore + 1, `${label}: the rollback is one entry`);
    const s = await copy.getHistorySummary();
    checkSummary(s, label);
    const entry = s.entries[s.entries.length - 1];
    assert.equal(entry.operation, 'rollback');
    assert.ok(entry.reversible);
    for (const k of changedKeys(before, rec.state)) assert.ok(entry.keys.includes(k), `${label}: rollback entry keys include ${JSON.stringify(k)}`);
    if (rec.seq > 0) assert.equal(entry.hashAfter, s.entries.find(e => e.seq === rec.seq).hashAfter, `${label}: verified against the recorded hash`);

    // undo the rollback
    events.length = 0;
    const undo = await copy.rollbackToSeq(seqBefore);
    assert.equal(undo.success, true);
    assert.equal(undo.seq, seqBefore);
    assert.equal(undo.changesReverted, 1, `${label}: undoing reverts the rollback entry`);
    assert.equal(text(copy), finalText, `${label}: undone`);
    checkEvents(events, rec.state, before, `${label} (undo)`);
    // and the undo of the undo, by time
    if (random.int(2) === 0) {
      await copy.rollbackToTimestamp(rec.t);
      assert.equal(text(copy), rec.text, `${label}: rolled back again`);
    }
    await copy.flush();
    let replay = {};
    for (const c of readJournal(journalPath(copy)).changes) replay = applyPatch(replay, c.patch);
    assert.deepStrictEqual(replay, snap(copy), `${label}: journal replay after the rollbacks`);
    copy.close();
  }

  // chained on the store itself: a few rollbacks in a row, then back to the end
  for (let k = 0; k < 10; k++) {
    const rec = records[random.int(records.length)];
    if (k % 2 === 0) await store.rollbackToTimestamp(rec.t);
    else await store.rollbackToSeq(rec.seq);
    assert.equal(text(store), rec.text, `${where}: chained rollback ${k}`);
    await sleep(2);
  }
  await store.rollbackToTimestamp(records[records.length - 1].t);
  assert.equal(text(store), finalText);
  assert.deepStrictEqual(snap(store), finalState);
  await store.flush();
  let replay = {};
  for (const c of readJournal(journalPath(store)).changes) replay = applyPatch(replay, c.patch);
  assert.deepStrictEqual(replay, snap(store), `${where}: journal replay after the chained rollbacks`);
  checkSummary(await store.getHistorySummary(), where);
});

test(`model: rollbackToSeq to every seq gives the state right after that change (seed ${SEED + 1})`, async t => {
  const random = rng(SEED + 1);
  const fx = fixture(t);
  const store = modelStore(fx);
  const records = await runModel(random, store, 40);
  const latest = await latestSeq(store);
  const known = new Map([[0, { text: '{}', state: {} }]]);
  for (const rec of records) known.set(rec.seq, rec);
  const finalText = text(store);
  const finalState = snap(store);
  for (let seq = 0; seq <= latest; seq++) {
    const label = `seed ${SEED + 1}, seq ${seq}`;
    const copy = await openCopy(fx, store);
    const before = snap(copy);
    const events = recordAll(copy);
    const result = await copy.rollbackToSeq(seq);
    assert.equal(result.success, true);
    assert.equal(result.seq, seq);
    assert.equal(result.rolledBackTo, seq);
    assert.equal(result.changesReverted, latest - seq, label);
    const rec = known.get(seq);
    if (rec) {
      assert.equal(text(copy), rec.text, label);
      assert.deepStrictEqual(snap(copy), rec.state, label);
    }
    checkEvents(events, before, snap(copy), label);
    const now = await latestSeq(copy);
    if (seq === latest) assert.equal(now, latest, `${label}: rolling back to now records nothing`);
    else if (!(now === latest && isDeepStrictEqual(snap(copy), finalState))) assert.equal(now, latest + 1, `${label}: one rollback entry`);
    // undo it
    await copy.rollbackToSeq(latest);
    assert.equal(text(copy), finalText, `${label}: undone`);
    copy.close();
  }
  // on the store itself: to the first change and back
  await store.rollbackToSeq(1);
  assert.deepStrictEqual(snap(store), DEFAULTS);
  await store.rollbackToSeq(latest);
  assert.equal(text(store), finalText);
});

// (a regression test: rollback entries used to embed the inverses of every entry
// they reverted, earlier rollbacks included, so the journal tripled per pair)
test('repeated rollbacks and undos keep the journal small', async t => {
  const s = fixture(t).open({ backups: false });
  s.set('a', 1);
  s.set('a', 2);
  for (let i = 0; i < 8; i++) {
    const cur = s.getStoreInfo().seq;
    await s.rollbackToSeq(1);
    assert.equal(s.get('a'), 1);
    await s.rollbackToSeq(cur);
    assert.equal(s.get('a'), 2);
  }
  await s.flush({ file: true });
  const size = fs.statSync(journalPath(s)).size;
  // 18 changes of a one-key document: a few KB at most
  assert.ok(size < 64 * 1024, `journal is ${size} bytes after 8 rollback/undo pairs`);
});

// ---------------------------------------------------------------------------
// Summary, operations, hashes
// ---------------------------------------------------------------------------

test('getHistorySummary(): shape, operation names, keys, hash chain', async t => {
  const fx = fixture(t);
  const s = fx.open({ defaults: { d: 1 }, backups: false });
  s.set('a.b', 1);
  s.set({ x: [1, 2] });
  s.delete('a.b');
  s.delete('missing'); // nothing changes: no entry
  s.setMultiple({ 'p/q': 1, 'r~s': 2 });
  s.set('d', 2);
  s.reset('d');
  s.clear();
  s.store = { 'k.e.y': { '/': '~' } };
  s.flushSync({ file: true });
  fs.writeFileSync(s.path, JSON.stringify({ edited: true }, null, '\t'));
  s.reload();
  const backup = await s.createBackup();
  s.set('z', 1);
  await s.restoreBackup(backup);
  await s.rollbackToSeq(2);

  const summary = await s.getHistorySummary();
  checkSummary(summary);
  assert.deepStrictEqual(
    summary.entries.map(e => [e.seq, e.operation, e.keys]),
    [
      [1, 'defaults', ['d']],
      [2, 'set', ['a.b']],
      [3, 'set', ['x']],
      [4, 'delete', ['a.b']],
      [5, 'setMultiple', ['p/q', 'r~s']],
      [6, 'set', ['d']],
      [7, 'set', ['d']],
      [8, 'clear', summary.entries[7].keys],
      [9, 'store', summary.entries[8].keys],
      [10, 'external-change', summary.entries[9].keys],
      [11, 'set', ['z']],
      [12, 'restore', summary.entries[11].keys],
      [13, 'rollback', summary.entries[12].keys],
    ],
  );
  assert.ok(summary.entries.every(e => e.reversible));
  assert.deepStrictEqual({ ...s.store }, { d: 1, a: { b: 1 } });
  // the state after a rollback hashes like the state it went back to
  assert.equal(summary.entries[12].hashAfter, summary.entries[1].hashAfter);
  // a clear that leaves only the defaults hashes like the defaults
  assert.equal(summary.entries[7].hashAfter, summary.entries[0].hashAfter);
  const last = summary.entries[12];
  assert.deepStrictEqual(summary.metadata, { totalEntries: 13, lastOperation: { type: 'rollback', timestamp: last.timestamp }, lastModified: last.timestamp });
  assert.ok(Math.abs(Date.parse(last.timestamp) - Date.now()) < 60_000, 'timestamps are wall-clock times');

  // the journal on disk: JSON lines, RFC 6901 pointers ('/' as ~1, '~' as ~0), hash chain
  await s.flush({ file: true });
  const { changes, checkpoints } = readJournal(journalPath(s));
  assert.equal(changes.length, 13);
  assert.ok(checkpoints.length >= 1);
  const paths = changes.flatMap(c => c.patch.map(p => p.path));
  assert.ok(paths.includes('/p~1q'), `pointer for 'p/q' in ${paths}`);
  assert.ok(paths.includes('/r~0s'), `pointer for 'r~s' in ${paths}`);
  let doc = {};
  for (const c of changes) doc = applyPatch(doc, c.patch);
  assert.deepStrictEqual(doc, { ...s.store });
  s.close();
  // the last checkpoint records the file's bytes
  const { checkpoints: cks, changes: all } = readJournal(journalPath(s));
  const ck = cks[cks.length - 1];
  const bytes = fs.readFileSync(s.path);
  assert.equal(ck.checkpoint, all[all.length - 1].seq);
  assert.equal(ck.hash, crypto.createHash('sha256').update(bytes).digest('hex'));
  assert.equal(ck.size, bytes.length);
  assertMode(journalPath(s), 0o600, 'journal mode');
});

test('a fresh store has an empty history; rollback with no history changes nothing', async t => {
  const s = fixture(t).open({ backups: false });
  const summary = await s.getHistorySummary();
  assert.deepStrictEqual(summary, { totalEntries: 0, entries: [], metadata: { totalEntries: 0, lastOperation: null, lastModified: null } });
  const r = await s.rollbackToTimestamp(Date.now() - 1000);
  assert.equal(r.success, true);
  assert.equal(r.changesReverted, 0);
  assert.deepStrictEqual({ ...s.store }, {});
  assert.equal((await s.getHistorySummary()).totalEntries, 0);
});

test('keys with dots, slashes, tildes, brackets and unicode roll back exactly', async t => {
  const s = fixture(t).open({ backups: false, accessPropertiesByDotNotation: false });
  const keys = ['a.b', 'c/d', 'e~f', '~1', '~0', 'g[0]', 'ü/~.ключ', '😀', ''];
  keys.forEach((k, i) => s.set(k, { [k]: [i, { [k]: k }] }));
  const full = JSON.stringify(s.store);
  await sleep(3);
  const t1 = Date.now();
  await sleep(3);
  for (const k of keys.slice(0, 5)) s.delete(k);
  s.set('g[0]', [9]);
  s.set('😀', null);
  assert.notEqual(JSON.stringify(s.store), full);
  const r = await s.rollbackToTimestamp(new Date(t1).toISOString());
  assert.equal(r.changesReverted, 7);
  assert.equal(JSON.stringify(s.store), full);
  await s.flush();
  let doc = {};
  for (const c of readJournal(journalPath(s)).changes) doc = applyPatch(doc, c.patch);
  assert.deepStrictEqual(doc, JSON.parse(full));
});

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

test('rollback fires onChange(*), onDidChange, onChange(key), onDidAnyChange and change for what it changed', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false });
  const other = fx.open({ cwd: path.dirname(s.path), backups: false }); // a second instance on the same file
  s.set('a.b', 1);
  s.set('keep', 'k');
  const seq = s.getStoreInfo().seq;
  s.set('a.b', 2);
  s.set('a.c', [3]);
  s.set('c', 1);

  const all = recordAll(s);
  const allOther = recordAll(other);
  const did = [];
  s.onDidChange('a.b', (n, o) => did.push(['a.b', n, o]));
  s.onDidChange('a.c', (n, o) => did.push(['a.c', n, o]));
  s.onDidChange('keep', (n, o) => did.push(['keep', n, o]));
  s.onChange('c', (n, o, k) => did.push([k, n, o]));
  const any = [];
  s.onDidAnyChange((n, o) => any.push([{ ...n }, { ...o }]));
  let changes = 0;
  other.events.on('change', () => changes++);

  await s.rollbackToSeq(seq);
  const expected = [['a', { b: 1 }, { b: 2, c: [3] }], ['c', undefined, 1]];
  const byKey = list => [...list].sort((x, y) => (x[0] < y[0] ? -1 : 1));
  assert.deepStrictEqual(byKey(all), expected);
  assert.deepStrictEqual(byKey(allOther), expected, 'other instances on the file hear it too');
  assert.deepStrictEqual(byKey(did), [['a.b', 1, 2], ['a.c', undefined, [3]], ['c', undefined, 1]]);
  assert.deepStrictEqual(any, [[{ a: { b: 1 }, keep: 'k' }, { a: { b: 2, c: [3] }, keep: 'k', c: 1 }]]);
  assert.equal(changes, 1);
  assert.deepStrictEqual({ ...other.store }, { a: { b: 1 }, keep: 'k' });

  // a rollback to now changes nothing and fires nothing
  all.length = 0;
  did.length = 0;
  await s.rollbackToTimestamp(Date.now() + 60_000);
  assert.deepStrictEqual(all, []);
  assert.deepStrictEqual(did, []);
});

test('a throwing listener does not undo or fail a rollback', async t => {
  const s = fixture(t).open({ backups: false });
  s.set('a', 1);
  s.set('a', 2);
  const errors = [];
  s.events.on('listenerError', e => errors.push(e));
  s.onChange('*', () => {
    throw new Error('listener boom');
  });
  const r = await s.rollbackToSeq(1);
  assert.equal(r.success, true);
  assert.equal(s.get('a'), 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /listener boom/);
});

// ---------------------------------------------------------------------------
// Arguments, truncation, closed store
// ---------------------------------------------------------------------------

test('bad arguments reject with TypeError (a rejected promise, not a throw) and change nothing', async t => {
  const s = fixture(t).open({ backups: false });
  s.set('a', 1);
  s.set('a', 2);
  const seq = s.getStoreInfo().seq;
  for (const bad of ['not a date', '', {}, [], NaN, Infinity, -Infinity, undefined, null, true, new Date('nope'), Symbol('x'), () => 0, 10n]) {
    let p;
    assert.doesNotThrow(() => {
      p = s.rollbackToTimestamp(bad);
    }, `rollbackToTimestamp(${String(bad)}) throws synchronously`);
    assert.ok(p instanceof Promise);
    await assert.rejects(p, TypeError, `rollbackToTimestamp(${String(bad)})`);
  }
  for (const bad of [-1, 1.5, NaN, Infinity, '1', null, undefined, {}, 2 ** 53, 1n]) {
    let p;
    assert.doesNotThrow(() => {
      p = s.rollbackToSeq(bad);
    });
    await assert.rejects(p, TypeError, `rollbackToSeq(${String(bad)})`);
  }
  // a seq that has not happened yet
  for (const tooLarge of [seq + 1, seq + 1000]) {
    await assert.rejects(s.rollbackToSeq(tooLarge), err => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /has not happened|latest/i);
      return true;
    });
  }
  assert.equal(s.get('a'), 2);
  assert.equal(s.getStoreInfo().seq, seq, 'no entry added');
  assert.equal((await s.getHistorySummary()).totalEntries, 2);
});

test('a time older than the kept history rejects with E_HISTORY_TRUNCATED and changes nothing', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false, history: { maxEntries: 5 } });
  const times = [];
  const states = [];
  for (let i = 1; i <= 60; i++) {
    s.set(`k${i % 7}`, i);
    states[i] = snap(s);
    if (i <= 3 || i >= 55) {
      await sleep(2);
      times[i] = Date.now();
      await sleep(2);
    }
    // checkpoints (the JSON file written) are what trim the journal
    if (i % 10 === 0) await s.flush({ file: true });
  }
  await s.flush({ file: true });
  const summary = await s.getHistorySummary();
  checkSummary(summary);
  assert.deepStrictEqual(summary.entries.map(e => e.seq), [56, 57, 58, 59, 60], 'the newest maxEntries entries');
  const first = readJournal(journalPath(s)).changes[0].seq;
  assert.ok(first > 3, `the journal was trimmed (starts at change ${first})`);

  const before = text(s);
  const events = recordAll(s);
  for (const target of [times[1], times[2], new Date(times[3]).toISOString(), 0]) {
    await assert.rejects(s.rollbackToTimestamp(target), err => {
      assert.equal(err.code, 'E_HISTORY_TRUNCATED');
      assert.match(err.message, /maxEntries|history/);
      return true;
    });
  }
  for (const seq of [0, 1, 2, first - 2]) {
    await assert.rejects(s.rollbackToSeq(seq), { code: 'E_HISTORY_TRUNCATED' }, `rollbackToSeq(${seq})`);
  }
  assert.equal(text(s), before);
  assert.deepStrictEqual(events, []);
  assert.equal(s.getStoreInfo().seq, 60, 'nothing recorded');

  // newer targets still work
  const r = await s.rollbackToTimestamp(times[57]);
  assert.equal(r.seq, 57);
  assert.deepStrictEqual(snap(s), states[57]);
  await s.rollbackToSeq(55);
  assert.deepStrictEqual(snap(s), states[55]);
  await s.rollbackToSeq(60);
  assert.deepStrictEqual(snap(s), states[60]);
});

test('a closed store rejects history calls with E_CLOSED', async t => {
  const s = fixture(t).open({ backups: false });
  s.set('a', 1);
  s.close();
  await assert.rejects(s.getHistorySummary(), { code: 'E_CLOSED' });
  await assert.rejects(s.rollbackToTimestamp(Date.now()), { code: 'E_CLOSED' });
  await assert.rejects(s.rollbackToTimestamp('not a date'), err => err.code === 'E_CLOSED' || err instanceof TypeError);
  await assert.rejects(s.rollbackToSeq(0), { code: 'E_CLOSED' });
  let p;
  assert.doesNotThrow(() => {
    p = s.rollbackToSeq(1);
  }, 'rejects, does not throw');
  await assert.rejects(p, { code: 'E_CLOSED' });
});

test('closing while a rollback is in flight: it fails or completes, never half-applied', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false });
  for (let i = 0; i < 50; i++) s.set(`k${i}`, i);
  const full = text(s);
  const p = s.rollbackToSeq(10);
  s.close();
  const outcome = await p.then(() => 'done', e => e);
  const again = fx.open({ cwd: path.dirname(s.path), backups: false });
  if (outcome === 'done') assert.equal(Object.keys(again.store).length, 10);
  else assert.equal(text(again), full, 'a failed rollback changed nothing');
});

// (a regression test: this used to reject with code 'GenericFailure' and a raw '[E_CLOSED] ...' message)
test('closing while a rollback is in flight rejects with E_CLOSED', async t => {
  const s = fixture(t).open({ backups: false });
  for (let i = 0; i < 50; i++) s.set(`k${i}`, i);
  const p = s.rollbackToSeq(10);
  s.close();
  await assert.rejects(p, err => {
    assert.equal(err.code, 'E_CLOSED');
    assert.doesNotMatch(err.message, /^\[E_/);
    return true;
  });
});

// ---------------------------------------------------------------------------
// Persistence, external edits
// ---------------------------------------------------------------------------

test('history persists across close/reopen; rollbacks reach changes made before the reopen', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  let s = fx.open({ cwd, backups: false });
  const states = [];
  const times = [];
  for (let i = 0; i < 6; i++) {
    s.set(`k${i}`, { i, list: [i] });
    if (i === 3) s.delete('k1');
    states.push(snap(s));
    await sleep(2);
    times.push(Date.now());
    await sleep(2);
  }
  const summary = await s.getHistorySummary();
  s.close();

  s = fx.open({ cwd, backups: false });
  assert.deepStrictEqual(await s.getHistorySummary(), summary, 'same summary after reopen');
  assert.deepStrictEqual(s.getStoreInfo().recovery.externalEdit, false);
  const r = await s.rollbackToTimestamp(times[2]);
  assert.equal(r.seq, 3);
  assert.deepStrictEqual(snap(s), states[2]);
  const seqAfterRollback = s.getStoreInfo().seq;
  s.close();

  // undo across another reopen
  s = fx.open({ cwd, backups: false });
  assert.deepStrictEqual(snap(s), states[2]);
  await s.rollbackToSeq(seqAfterRollback - 1);
  assert.deepStrictEqual(snap(s), states[5]);
  const after = await s.getHistorySummary();
  checkSummary(after);
  assert.deepStrictEqual(after.entries.map(e => e.operation), ['set', 'set', 'set', 'set', 'delete', 'set', 'set', 'rollback', 'rollback']);
  s.close();
  readJournal(journalPath(s));
});

test("an edit made while the store was closed is an 'external-edit' entry that cannot be rolled back past", async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  let s = fx.open({ cwd, backups: false });
  s.set('a', 1);
  s.set('b', [1, 2]);
  await sleep(2);
  const beforeEdit = Date.now();
  await sleep(2);
  s.close();
  fs.writeFileSync(s.path, JSON.stringify({ a: 1, b: [1, 2, 3], ext: 'yes' }, null, '\t'));
  await sleep(3);

  s = fx.open({ cwd, backups: false });
  assert.equal(s.getStoreInfo().recovery.externalEdit, true);
  assert.deepStrictEqual(snap(s), { a: 1, b: [1, 2, 3], ext: 'yes' });
  let summary = await s.getHistorySummary();
  checkSummary(summary);
  const edit = summary.entries[summary.entries.length - 1];
  assert.equal(edit.operation, 'external-edit');
  assert.equal(edit.reversible, false);
  assert.equal(edit.seq, 3);
  await sleep(3);
  const afterEdit = Date.now();
  await sleep(3);
  s.set('c', 1);
  const withC = snap(s);
  await sleep(3);
  const afterC = Date.now();
  await sleep(3);
  s.set('c', 2);
  s.delete('a');

  // later moments work
  let r = await s.rollbackToTimestamp(afterC);
  assert.deepStrictEqual(snap(s), withC);
  assert.equal(r.changesReverted, 2);
  r = await s.rollbackToTimestamp(afterEdit);
  assert.deepStrictEqual(snap(s), { a: 1, b: [1, 2, 3], ext: 'yes' });
  r = await s.rollbackToSeq(3);
  assert.deepStrictEqual(snap(s), { a: 1, b: [1, 2, 3], ext: 'yes' });

  // earlier ones do not, and change nothing
  const events = recordAll(s);
  const seq = s.getStoreInfo().seq;
  for (const attempt of [() => s.rollbackToTimestamp(beforeEdit), () => s.rollbackToSeq(2), () => s.rollbackToSeq(1), () => s.rollbackToSeq(0)]) {
    await assert.rejects(attempt(), { code: 'E_HISTORY_TRUNCATED' });
  }
  assert.deepStrictEqual(snap(s), { a: 1, b: [1, 2, 3], ext: 'yes' });
  assert.deepStrictEqual(events, []);
  assert.equal(s.getStoreInfo().seq, seq);
  // and still persists as such across another reopen
  s.close();
  s = fx.open({ cwd, backups: false });
  assert.equal(s.getStoreInfo().recovery.externalEdit, false, 'no new external edit');
  summary = await s.getHistorySummary();
  assert.equal(summary.entries.find(e => e.seq === 3).operation, 'external-edit');
  await assert.rejects(s.rollbackToSeq(2), { code: 'E_HISTORY_TRUNCATED' });
  await s.rollbackToSeq(4);
  assert.deepStrictEqual(snap(s), withC);
});

test('a history directory option keeps the journal there', async t => {
  const fx = fixture(t);
  const cwd = fx.dir();
  const s = fx.open({ cwd, backups: false, history: { directory: 'hist' } });
  s.set('a', 1);
  s.close();
  assert.ok(fs.existsSync(path.join(cwd, 'hist', 'config.json.journal')));
  assert.ok(!fs.existsSync(path.join(cwd, 'storeHistory')));
  const again = fx.open({ cwd, backups: false, history: { directory: 'hist' } });
  assert.equal((await again.getHistorySummary()).totalEntries, 1);
});
