'use strict';

/**
 * `defaultsLayer` read cost: get() of a key through the native side (the JS
 * read cache is kept full with other keys, so every measured get crosses),
 * with and without the layer, on the same data. Prints ns per get (best of
 * ROUNDS rounds). Run: node bench/layer-get.js
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Store = require('..');

const ROUNDS = 15;
const N = 50_000;
const DEFAULTS = { ui: { theme: 'light', size: 12, panel: { left: true, right: false } }, onlyDefault: { a: 1, b: [1, 2, 3] }, n: 5 };

function open(layer) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-layer-bench-'));
  const s = new Store({ cwd, defaults: DEFAULTS, defaultsLayer: layer, backups: false });
  // 300 filler keys: the first 256 fill the JS read cache, the rest never enter it
  for (let i = 0; i < 300; i++) s.set(`fill${i}`, { i, text: 'x'.repeat(20) });
  s.set('ui.theme', 'dark');
  s.set('plain', { a: 1, b: 'two' });
  for (let i = 0; i < 300; i++) s.get(`fill${i}`);
  return { s, cwd };
}

function measure(s, key) {
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) s.get(key);
    const ns = Number(process.hrtime.bigint() - t0) / N;
    if (ns < best) best = ns;
  }
  return best;
}

const rows = [];
const stores = [open(false), open(true)];
for (const key of ['plain', 'ui', 'ui.theme', 'onlyDefault.b', 'n']) {
  // (the cache is full: these keys always cross to the native side)
  const [without, withLayer] = stores.map(({ s }) => measure(s, key));
  rows.push({ key, 'without layer (ns)': without.toFixed(0), 'defaultsLayer (ns)': withLayer.toFixed(0), ratio: (withLayer / without).toFixed(2) });
}
console.table(rows);
for (const { s, cwd } of stores) {
  s.close();
  fs.rmSync(cwd, { recursive: true, force: true });
}
