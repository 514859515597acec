'use strict';

// Hostile keys, side by side with conf 10.2 (dot-prop 6): the key crosses into
// the core as UTF-16 and is split and encoded there (src/convert.rs `Key`,
// core/src/value.rs `encode_utf16`, core/src/path.rs `segments`), so what an
// app observes — get/has/delete, the store's shape, the file's bytes, and the
// same after reopening — must be conf's for every key: escaped dots, empty
// segments, keys longer than the binding's stack buffer (256 units) and at its
// edge, unpaired surrogates (two different lone surrogates are two keys), the
// encoding's own marker U+FDD0 (and what an unpaired surrogate is encoded
// as), NUL. Prototype keys are the deliberate difference: conf (dot-prop)
// ignores them, tad-store refuses them with E_FORBIDDEN_KEY and changes
// nothing (hostile.spec.js).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const { fixture, assertSame, same, plain } = require('./helpers.js');

const LONG = `${'k'.repeat(6000)}.${'v'.repeat(6000)}`;
const edge = n => [`${'e'.repeat(n - 2)}.x`, 'f'.repeat(n)];

const KEYS = [
  'plain',
  'a.b.c',
  'a\\.b',
  'a\\.b.c',
  'a\\\\.b',
  'trailing\\',
  '\\.',
  '.',
  '..',
  'a..b',
  '.lead',
  'trail.',
  '',
  ' ',
  'k\ud800',
  'k\udc00',
  '\ud800.\udc00',
  '\ud83d.\ude00',
  '\ud83d\ude00.pair',
  'x\udbff\udbff',
  '\ufdd0',
  '\ufdd0\ue000',
  '\ufdd0\ufdd0.m',
  '\ue000',
  'nul\u0000',
  'a\u0000.b',
  '\u0000',
  'é.日本',
  LONG,
  ...edge(254),
  ...edge(255),
  ...edge(256),
  ...edge(257),
  `${'s'.repeat(253)}\ud800.y`,
  `${'s'.repeat(254)}\ud800`,
  `${'s'.repeat(255)}\ud800`,
];

const show = k => (k.length > 40 ? `${JSON.stringify(k.slice(0, 20))}…(${k.length})` : JSON.stringify(k));

for (const dotNotation of [true, false]) {
  test(`hostile keys (accessPropertiesByDotNotation: ${dotNotation}) behave as in conf: get, has, delete, file bytes, reopen`, t => {
    const fx = fixture(t);
    const opts = { accessPropertiesByDotNotation: dotNotation };
    const { tad, conf } = fx.pair(opts);
    for (const [i, key] of KEYS.entries()) {
      same(tad, conf, s => s.set(key, i), `set ${show(key)}`);
    }
    for (const key of KEYS) {
      same(tad, conf, s => s.get(key), `get ${show(key)}`);
      same(tad, conf, s => s.has(key), `has ${show(key)}`);
    }
    // two different lone surrogates are two keys (not both U+FFFD)
    assert.notEqual(tad.get('k\ud800'), tad.get('k\udc00'));
    assertSame(tad, conf, 'after the sets');
    // delete half of them, and update the rest atomically
    for (const [i, key] of KEYS.entries()) {
      if (i % 2 === 0) same(tad, conf, s => s.delete(key), `delete ${show(key)}`);
    }
    for (const [i, key] of KEYS.entries()) {
      if (i % 2 === 1) {
        tad.update(key, v => (typeof v === 'number' ? v + 1000 : 'set'));
        conf.set(key, typeof conf.get(key) === 'number' ? conf.get(key) + 1000 : 'set');
      }
    }
    for (const key of KEYS) {
      same(tad, conf, s => s.get(key), `get after delete/update ${show(key)}`);
      same(tad, conf, s => s.has(key), `has after delete/update ${show(key)}`);
    }
    assertSame(tad, conf, 'after delete/update');
    // the keys survive the journal and the file
    const cwd = path.dirname(tad.path);
    tad.close();
    const again = fx.open({ ...opts, cwd });
    assert.deepStrictEqual(plain(again), plain(conf));
    for (const key of KEYS) assert.deepStrictEqual(again.get(key), conf.get(key), `reopened: get ${show(key)}`);
  });
}

test('prototype keys are refused with E_FORBIDDEN_KEY wherever a segment is one, and allowed where an escaped dot hides them', t => {
  const fx = fixture(t);
  const { tad, conf } = fx.pair();
  tad.set('keep', 1);
  conf.set('keep', 1);
  for (const key of ['__proto__', 'constructor', 'prototype', 'a.__proto__', '__proto__.x', 'a..constructor', 'a.\ud800.prototype']) {
    assert.throws(() => tad.set(key, 1), { code: 'E_FORBIDDEN_KEY' }, show(key));
    assert.throws(() => tad.get(key), { code: 'E_FORBIDDEN_KEY' }, show(key));
  }
  // not a segment of its own: an ordinary key, as in conf
  for (const key of ['a\\.__proto__', '__proto__\\.x', 'x__proto__', '\ud800__proto__']) {
    same(tad, conf, s => s.set(key, 2), `set ${show(key)}`);
    same(tad, conf, s => s.get(key), `get ${show(key)}`);
  }
  assertSame(tad, conf);
  assert.equal({}.polluted, undefined);
});

test("the renderer's copy of the key splitting (it has no addon) agrees with the core's", () => {
  const core = require('../lib/values.js').segmentsOf;
  const renderer = require('../lib/renderer.js').segmentsOf;
  const more = ['a\\\\\\.b', 'a\\', '\\', '\\\\', 'a.\\.b', 'x\\.\\.y.z'];
  for (const dot of [true, false]) {
    for (const key of [...KEYS, ...more]) {
      assert.deepStrictEqual([...core(key, dot)], renderer(key, dot), `${show(key)} (dot notation ${dot})`);
    }
  }
  // the core's answer is cached and shared: frozen
  assert.ok(Object.isFrozen(core('a.b', true)));
});
