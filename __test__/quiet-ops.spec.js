'use strict';

/**
 * rollbackToSeq() and restoreBackup() ask the core for the old and new values
 * of what they change only when a listener is subscribed (at 10 MB those are
 * megabytes of JSON made and parsed on the JS thread). Without one, the store
 * still changes, `events` still emits 'change', and a listener subscribed
 * afterwards sees the values of later changes. With listeners, values are
 * delivered as before (history.spec.js, backup.spec.js).
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { fixture } = require('./helpers.js');

test('rollbackToSeq() and restoreBackup() with nobody listening change the store and emit change; later listeners get values', async t => {
  const fx = fixture(t);
  const s = fx.open({ backups: false });
  s.set('a', { deep: [1, 2, 3] });
  s.set('b', 'x');
  await s.flush();
  const seq = s.getStoreInfo().seq;
  const backup = await s.createBackup('mine');
  s.set('a', { deep: [] });
  s.set('c', true);
  let changes = 0;
  s.events.on('change', () => changes++);

  const r = await s.rollbackToSeq(seq);
  assert.equal(r.changesReverted, 2);
  assert.deepEqual({ ...s.store }, { a: { deep: [1, 2, 3] }, b: 'x' });
  assert.equal(changes, 1);

  s.set('b', 'y');
  s.delete('a');
  await s.restoreBackup(backup);
  assert.deepEqual({ ...s.store }, { a: { deep: [1, 2, 3] }, b: 'x' });
  assert.equal(changes, 4);

  // a listener now: the next rollback delivers old and new values
  const seen = [];
  s.onChange('*', (n, o, k) => seen.push([k, n, o]));
  const key = [];
  s.onDidChange('a', (n, o) => key.push([n, o]));
  const at = s.getStoreInfo().seq;
  s.set('a', 5);
  seen.length = 0;
  key.length = 0;
  await s.rollbackToSeq(at);
  assert.deepEqual(seen, [['a', { deep: [1, 2, 3] }, 5]]);
  assert.deepEqual(key, [[{ deep: [1, 2, 3] }, 5]]);
});
