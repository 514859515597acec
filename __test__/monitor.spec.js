'use strict';

/**
 * Monitoring (issue 9): getPerformanceStats() measured in the core,
 * resetPerformanceStats(), slow-operation events, getHealthReport().
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { Store, fixture } = require('./helpers.js');

test('getPerformanceStats: per operation count, mean, p50, p95, max in µs; reset', async t => {
  const s = fixture(t).open({ backups: false });
  for (let i = 0; i < 200; i++) s.set(`k${i % 10}`, i);
  for (let i = 0; i < 1000; i++) s.get('k1');
  s.has('k1');
  s.delete('k1');
  s.setMultiple({ a: 1, b: 2 });
  s.store = { x: 1 };
  await s.flush();
  const st = s.getPerformanceStats();
  assert.deepStrictEqual(Object.keys(st).sort(), ['delete', 'flush', 'get', 'has', 'replace', 'set', 'setMultiple'].sort());
  assert.equal(st.set.count, 200);
  assert.equal(st.get.count, 1000, 'every read counted (core reads: one in 16 timed; JS-cached repeats counted)');
  assert.equal(st.get.cached, 999);
  for (const [op, x] of Object.entries(st)) {
    if (op === 'get') continue; // one native read: timed or not (1 in 16)
    for (const f of ['count', 'mean', 'p50', 'p95', 'max']) assert.equal(typeof x[f], 'number', `${op}.${f}`);
    assert.ok(x.p50 <= x.p95 + 1e-9 && x.p95 <= x.max + 1e-9, `${op}: p50 ≤ p95 ≤ max ${JSON.stringify(x)}`);
    assert.ok(x.mean > 0 || x.count === 0, op);
  }
  s.resetPerformanceStats();
  assert.deepStrictEqual(s.getPerformanceStats(), {});
  // per instance: another Store on the same file has its own
  const other = new Store({ cwd: require('node:path').dirname(s.path), backups: false });
  other.get('x');
  assert.deepStrictEqual(Object.keys(other.getPerformanceStats()), ['get']);
  assert.deepStrictEqual(s.getPerformanceStats(), {});
  other.close();
});

test('slowOperationMs reports slow operations as events on the instance that made them', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false, slowOperationMs: 0, durability: 'sync' });
  const quiet = new Store({ cwd: require('node:path').dirname(s.path), backups: false });
  t.after(() => quiet.close());
  // the store's events never keep the process alive: the test does while it waits
  const keepAlive = setInterval(() => {}, 1000);
  t.after(() => clearInterval(keepAlive));
  const slow = [];
  const wrong = [];
  quiet.events.on('slowOperation', e => wrong.push(e));
  const got = new Promise(resolve => s.events.on('slowOperation', e => { slow.push(e); if (slow.some(x => x.operation === 'set')) resolve(); }));
  s.set('a', 1);
  await got;
  const e = slow.find(x => x.operation === 'set');
  assert.equal(typeof e.durationMs, 'number');
  assert.ok(e.durationMs >= 0);
  assert.deepStrictEqual(wrong, []);
  assert.throws(() => fx.open({ slowOperationMs: -1 }), TypeError);
  assert.throws(() => fx.open({ slowOperationMs: 'fast' }), TypeError);
});

test('getHealthReport is complete', async t => {
  const s = fixture(t).open({ watch: true });
  s.set('a', 1);
  await s.flush();
  await s.createBackup('x');
  const h = s.getHealthReport();
  for (const k of ['storeSize', 'keyCount', 'listenerCount', 'backupCount', 'lastBackup', 'historyEntries', 'durability', 'pendingWrites', 'lastCheckpointMs', 'writerError', 'readOnly', 'watching', 'recovery', 'performance', 'healthy']) {
    assert.ok(k in h, k);
  }
  assert.equal(h.watching, true);
  assert.equal(h.healthy, true);
  assert.ok(h.backupCount >= 1);
  assert.equal(h.keyCount, 1);
  assert.equal(h.performance.set.count, 1);
  s.close();
});
