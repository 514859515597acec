'use strict';
// The package as a user gets it: `npm pack`, install the tarball in a fresh
// directory, and load it with require() and import.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');

test('npm pack gives a tarball that installs and loads in a fresh directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    const [info] = JSON.parse(out);
    const files = info.files.map(f => f.path);
    for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'lib/values.js', 'tad-store.linux-x64-gnu.node']) {
      assert.ok(files.includes(f), `tarball contains ${f}`);
    }
    assert.ok(!files.some(f => f.startsWith('src/') || f.startsWith('__test__/')), 'no sources or tests in the tarball');
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(dir, info.filename)], { cwd: app, stdio: 'pipe' });
    const data = path.join(dir, 'data');
    const cjs = execFileSync(process.execPath, ['-e', `
      const Store = require('tad-store');
      if (Store !== require('tad-store').Store) throw new Error('Store export differs');
      const s = new Store({ cwd: ${JSON.stringify(data)} });
      s.set('a.b', 1);
      s.close();
      process.stdout.write(JSON.stringify(new Store({ cwd: ${JSON.stringify(data)} }).store));
    `], { cwd: app, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(cjs), { a: { b: 1 } });
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import Store, { Store as Named } from 'tad-store';
      const s = new Store({ cwd: ${JSON.stringify(data)} });
      process.stdout.write(String(Store === Named) + ' ' + s.get('a.b'));
      s.close();
    `], { cwd: app, encoding: 'utf8' });
    assert.equal(esm, 'true 1');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
