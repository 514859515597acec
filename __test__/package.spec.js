'use strict';
// The package as a user gets it: `npm pack` of the main package (JS and types
// only) and of this platform's npm/<platform> package with the freshly built
// addon copied in (what `napi artifacts` does in the release workflow), both
// installed offline into a fresh project whose PATH has no cargo or rustc, then
// loaded with require() and import. Once as packed from the repository, once
// with the optionalDependencies `napi prepublish` adds at release.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { SUPPORTED, current, addonFile, packageName } = require('../lib/platform.js');

const root = path.resolve(__dirname, '..');
const pkg = require('../package.json');
const platform = current().name;
const win = process.platform === 'win32';

/**
 * A PATH on which cargo and rustc cannot be found, but node and npm can: the
 * directories without them, plus (where node or npm share a directory with
 * cargo, as with a distribution's /usr/bin) links to node and npm alone.
 */
function pathWithoutRust(work) {
  const rust = win ? ['cargo.exe', 'rustc.exe'] : ['cargo', 'rustc'];
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  const clean = dirs.filter(d => !rust.some(e => fs.existsSync(path.join(d, e))));
  if (win) return [path.dirname(process.execPath), ...clean].join(path.delimiter);
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const npmDir = dirs.find(d => fs.existsSync(path.join(d, 'npm')));
  if (npmDir) fs.symlinkSync(path.join(npmDir, 'npm'), path.join(bin, 'npm'));
  return [bin, ...clean].join(path.delimiter);
}

function npm(args, cwd, env = process.env) {
  return execFileSync(win ? 'npm.cmd' : 'npm', args, { cwd, env, encoding: 'utf8', shell: win, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `npm pack` of `dir` into `dest`: `{ file, files }`. */
function pack(dir, dest) {
  const [info] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dest], dir));
  return { file: path.join(dest, info.filename), files: info.files.map(f => f.path) };
}

function installAndUse(work, tarballs, label) {
  const app = path.join(work, `app-${label}`);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}');
  // (Windows spells it Path: drop every spelling before setting it)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.toUpperCase() !== 'PATH'));
  Object.assign(env, { PATH: pathWithoutRust(path.join(work, `bin-${label}`)), npm_config_cache: path.join(work, 'npm-cache') });
  assert.equal(spawnSync('cargo', ['--version'], { env, shell: win }).status === 0, false, 'cargo is not reachable');
  // install scripts are allowed: there are none that would need cargo
  npm(['install', '--offline', '--no-audit', '--no-fund', ...tarballs], app, env);
  assert.ok(fs.existsSync(path.join(app, 'node_modules', packageName(platform), addonFile(platform))));
  assert.ok(!fs.readdirSync(path.join(app, 'node_modules', 'tad-store')).some(f => f.endsWith('.node')));
  const data = path.join(work, `data-${label}`);
  const cjs = execFileSync(process.execPath, ['-e', `
    const Store = require('tad-store');
    if (Store !== require('tad-store').Store) throw new Error('Store export differs');
    const s = new Store({ cwd: ${JSON.stringify(data)} });
    s.set('a.b', 1);
    s.set({ list: [1, 'two', { three: 3 }] });
    s.flush({ file: true }).then(() => {
      s.close();
      const again = new Store({ cwd: ${JSON.stringify(data)} });
      process.stdout.write(JSON.stringify({ store: again.store, file: JSON.parse(require('fs').readFileSync(again.path, 'utf8')) }));
      again.close();
    });
  `], { cwd: app, env, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(cjs), {
    store: { a: { b: 1 }, list: [1, 'two', { three: 3 }] },
    file: { a: { b: 1 }, list: [1, 'two', { three: 3 }] },
  });
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import Store, { Store as Named } from 'tad-store';
    const s = new Store({ cwd: ${JSON.stringify(data)} });
    process.stdout.write(String(Store === Named) + ' ' + s.get('a.b'));
    s.close();
  `], { cwd: app, env, encoding: 'utf8' });
  assert.equal(esm, 'true 1');
  // the renderer-side and key-provider subpaths, from CommonJS and ESM (react is an optional peer: absent here)
  const subpaths = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    import { StoreClient } from 'tad-store/renderer';
    import { exposeStoreAPI } from 'tad-store/preload';
    import { safeStorageKeyPath } from 'tad-store/safe-storage';
    const require = createRequire(import.meta.url);
    const same = require('tad-store/renderer').StoreClient === StoreClient;
    let react;
    try { require('tad-store/react'); react = 'loaded'; } catch (e) { react = e.code; }
    process.stdout.write([same, typeof exposeStoreAPI, safeStorageKeyPath({ cwd: '/app', name: 'n' }), react].join(' '));
  `], { cwd: app, env, encoding: 'utf8' });
  assert.equal(subpaths, `true function ${path.join('/app', 'n.json.key')} MODULE_NOT_FOUND`);
  // the support command, as `npx tad-store` runs it from the app
  const verify = JSON.parse(npm(['exec', '--offline', '--', 'tad-store', 'verify', path.join(data, 'config.json'), '--json'], app, env));
  assert.equal(verify.ok, true);
}

test('npm pack: the main package and this platform\'s package install offline without cargo and work', { skip: !SUPPORTED.includes(platform) && `no prebuilt package for ${platform}` }, () => {
  const built = path.join(root, addonFile(platform));
  assert.ok(fs.existsSync(built), `${addonFile(platform)} is built (npm test builds it first)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-pack-'));
  try {
    const main = pack(root, work);
    const subpaths = ['renderer', 'react', 'preload', 'safe-storage'].flatMap(n => [`${n}.js`, `${n}.mjs`, `${n}.d.ts`, `${n}.d.mts`, `lib/${n}.js`]);
    for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'ipc.js', 'binding.js', 'binding.d.ts', 'lib/loader.js', 'lib/platform.js', 'lib/values.js', 'bin/tad-store.js', 'lib/cli/main.js', 'lib/cli/commands.js', 'lib/cli/store.js', 'lib/cli/format.js', 'lib/cli/errors.js', 'package.json', 'README.md', 'LICENSE', ...subpaths]) {
      assert.ok(main.files.includes(f), `the main tarball contains ${f}`);
    }
    assert.deepEqual(main.files.filter(f => f.endsWith('.node')), [], 'the main tarball has no .node');
    assert.deepEqual(JSON.parse(execFileSync('tar', ['-xzOf', main.file, 'package/package.json'], { encoding: 'utf8' })).bin, { 'tad-store': 'bin/tad-store.js' });
    assert.ok(!main.files.some(f => /^(src|core|npm|__test__|scripts|bench|target)\//.test(f)), 'no sources, tests or platform packages in it');

    // the platform package, as `napi artifacts` fills it
    const stage = path.join(work, 'platform');
    fs.cpSync(path.join(root, 'npm', platform), stage, { recursive: true });
    fs.copyFileSync(built, path.join(stage, addonFile(platform)));
    const sub = pack(stage, work);
    assert.deepEqual(sub.files.sort(), [addonFile(platform), 'README.md', 'package.json'].sort());

    // the one runtime dependency, from this checkout, so the install needs no registry or cache
    const semver = pack(path.dirname(require.resolve('semver/package.json', { paths: [root] })), work);

    installAndUse(work, [main.file, sub.file, semver.file], 'packed');

    // the main package as `napi prepublish -t npm` leaves it before `npm publish`:
    // every platform package as an optional dependency of the same version; the
    // ones npm cannot get (other platforms, nothing offline) are skipped
    const release = path.join(work, 'release');
    fs.mkdirSync(release);
    execFileSync('tar', ['-xzf', path.basename(main.file), '-C', release], { cwd: work });
    const manifestPath = path.join(release, 'package', 'package.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    manifest.optionalDependencies = Object.fromEntries(SUPPORTED.map(n => [packageName(n), pkg.version]));
    fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    fs.rmSync(main.file);
    const published = pack(path.join(release, 'package'), work);
    installAndUse(work, [published.file, sub.file, semver.file], 'release');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
