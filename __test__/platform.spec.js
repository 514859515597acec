'use strict';
// Platforms: the list of prebuilt ones agrees everywhere it is written, the
// loader's errors say what is wrong on an unsupported or incomplete install,
// and no platform-specific Rust API sits outside a matching #[cfg].
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseTriple } = require('@napi-rs/cli');
const { SUPPORTED, current, addonFile, packageName } = require('../lib/platform.js');
const { scan, scanManifest, scanSpec, checkRepo } = require('../scripts/check-platform-code.js');

const root = path.resolve(__dirname, '..');
const pkg = require('../package.json');

test('the prebuilt platforms are napi.targets, each with its npm/<platform> package', () => {
  const fromTargets = pkg.napi.targets.map(t => parseTriple(t).platformArchABI);
  assert.deepEqual([...fromTargets].sort(), [...SUPPORTED].sort());
  assert.deepEqual(fs.readdirSync(path.join(root, 'npm')).sort(), [...SUPPORTED].sort());
  for (const triple of pkg.napi.targets) {
    const t = parseTriple(triple);
    const sub = JSON.parse(fs.readFileSync(path.join(root, 'npm', t.platformArchABI, 'package.json'), 'utf8'));
    assert.equal(sub.name, packageName(t.platformArchABI), triple);
    assert.equal(sub.version, pkg.version, `${triple}: same version as the main package`);
    assert.equal(sub.main, addonFile(t.platformArchABI));
    assert.deepEqual(sub.files, [addonFile(t.platformArchABI)]);
    assert.deepEqual(sub.os, [t.platform]);
    assert.deepEqual(sub.cpu, [t.arch]);
    if (t.platform === 'linux') assert.deepEqual(sub.libc, [t.abi === 'musl' ? 'musl' : 'glibc']);
    else assert.equal(sub.libc, undefined);
    assert.equal(sub.license, pkg.license);
    assert.deepEqual(sub.repository, pkg.repository);
  }
  // the generated loader looks for exactly these packages
  const loader = fs.readFileSync(path.join(root, 'binding.js'), 'utf8');
  for (const name of SUPPORTED) assert.ok(loader.includes(`require('${packageName(name)}')`), name);
});

test('the package is publishable as napi-rs projects publish', () => {
  assert.equal(pkg.license, 'MIT');
  assert.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} tad-store contributors\n/);
  assert.match(pkg.repository.url, /^git\+https:\/\/github\.com\/.+\.git$/);
  for (const hook of ['prepare', 'preinstall', 'install', 'postinstall']) {
    assert.equal(pkg.scripts[hook], undefined, `no ${hook} script: installing never needs cargo`);
  }
  assert.ok(!pkg.files.some(f => f.includes('.node')), 'the main package ships no .node');
  assert.equal(pkg.scripts.prepublishOnly, 'napi prepublish -t npm');
});

function loadIn(cwd, setup, env) {
  const r = spawnSync(process.execPath, ['-e', `
    ${setup}
    try { require(${JSON.stringify(cwd)}); process.stdout.write('loaded'); }
    catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message, packageName: e.packageName, supported: e.supported, hasCause: e.cause instanceof Error })); }
  `], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(r.stdout, 'loaded');
  return JSON.parse(r.stdout);
}

const fake = (platform, arch) => `
  Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} });
  Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} });`;

test('an unsupported platform gets a clear error, not an npm bug', () => {
  const e = loadIn(root, fake('freebsd', 'riscv64'));
  assert.equal(e.code, 'E_UNSUPPORTED_PLATFORM');
  assert.match(e.message, /process\.platform freebsd, process\.arch riscv64/);
  assert.match(e.message, /looked for the package tad-store-freebsd-riscv64/);
  for (const name of SUPPORTED) assert.ok(e.message.includes(name), `lists ${name}`);
  assert.match(e.message, /npm install && npm run build/);
  assert.match(e.message, /NAPI_RS_NATIVE_LIBRARY_PATH/);
  assert.doesNotMatch(e.message, /npm\/cli\/issues\/4828|npm has a bug/);
  assert.deepEqual(e.supported, [...SUPPORTED]);
  assert.ok(e.hasCause, 'the generated loader\'s error is the cause');

  const ia32 = loadIn(root, fake('win32', 'ia32'));
  assert.equal(ia32.code, 'E_UNSUPPORTED_PLATFORM');
  assert.match(ia32.message, /tad-store-win32-ia32-msvc/);
});

test('a supported platform whose package is missing keeps the npm optional-dependency hint', () => {
  const e = loadIn(root, fake('darwin', 'arm64'));
  assert.equal(e.code, 'E_NATIVE_MISSING');
  assert.equal(e.packageName, 'tad-store-darwin-arm64');
  assert.match(e.message, new RegExp(`tad-store-darwin-arm64@${pkg.version.replace(/\./g, '\\.')} is missing`));
  assert.match(e.message, /process\.platform darwin, process\.arch arm64/);
  assert.match(e.message, /npm\/cli\/issues\/4828/);
  assert.match(e.message, /npm install tad-store-darwin-arm64@/);
  assert.match(e.message, /Electron packaging/);
});

test('an installed addon that fails to load says so, with the OS loader\'s reason', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-loader-'));
  try {
    const copy = path.join(dir, 'tad-store');
    fs.mkdirSync(path.join(copy, 'lib'), { recursive: true });
    for (const f of ['binding.js', 'package.json', 'lib/loader.js', 'lib/platform.js']) {
      fs.copyFileSync(path.join(root, f), path.join(copy, f));
    }
    const { name } = current();
    const sub = path.join(copy, 'node_modules', packageName(name));
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, 'package.json'), JSON.stringify({ name: packageName(name), version: pkg.version, main: addonFile(name) }));
    fs.writeFileSync(path.join(sub, addonFile(name)), 'this is not a shared library\n');
    const e = loadIn(path.join(copy, 'lib', 'loader.js'), '');
    if (!SUPPORTED.includes(name)) {
      assert.equal(e.code, 'E_UNSUPPORTED_PLATFORM');
      return;
    }
    assert.equal(e.code, 'E_NATIVE_LOAD');
    assert.match(e.message, new RegExp(`native addon for ${name} is installed \\(${packageName(name)}\\) but failed to load`));
    assert.match(e.message, /The loader said: /);
    assert.doesNotMatch(e.message, /npm\/cli\/issues\/4828/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('require() loads the addon straight from its file, and only the modules a plain store uses', () => {
  // binding.js and platform.js are read only when that load fails (their
  // errors above); migrations, update()/transaction() and the defaults layer
  // on first use
  const r = spawnSync(process.execPath, ['-e', `
    const Store = require(${JSON.stringify(root)});
    const dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'tad-lazy-'));
    const s = new Store({ cwd: dir });
    s.set('a', 1);
    const opened = Object.keys(require.cache).map(f => require('node:path').relative(${JSON.stringify(root)}, f));
    s.close();
    require('node:fs').rmSync(dir, { recursive: true, force: true });
    const native = require(${JSON.stringify(path.join(root, 'lib', 'loader.js'))});
    console.log(JSON.stringify({ opened, target: native.__napiBindingTarget }));
  `], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { opened, target } = JSON.parse(r.stdout);
  assert.equal(target, 'native');
  assert.ok(opened.some(f => f.endsWith('.node')), opened.join(', '));
  for (const f of ['binding.js', 'lib/platform.js', 'lib/migrations.js', 'lib/atomic.js', 'lib/layer.js']) {
    assert.ok(!opened.includes(f), `${f} was loaded: ${opened.join(', ')}`);
  }
  assert.ok(!opened.some(f => f.includes('semver')), opened.join(', '));
});

test('NAPI_RS_NATIVE_LIBRARY_PATH naming a missing file is reported as such', () => {
  const bogus = path.join(os.tmpdir(), 'no-such-dir-tad', 'tad-store.node');
  const e = loadIn(root, '', { NAPI_RS_NATIVE_LIBRARY_PATH: bogus });
  assert.equal(e.code, 'E_NATIVE_LOAD');
  assert.ok(e.message.includes(`NAPI_RS_NATIVE_LIBRARY_PATH names (${bogus};`), e.message);
  assert.match(e.message, /Cannot find module/);
});

test('no platform-specific Rust API outside a matching #[cfg] (Windows and macOS compile by construction)', () => {
  assert.deepEqual(checkRepo(), []);
});

test('the platform check finds unguarded uses and accepts guarded ones', () => {
  const lines = src => scan(src).map(v => `${v.line}:${v.needs}`);
  assert.deepEqual(lines('fn f() { std::os::unix::fs::symlink(a, b).unwrap(); }'), ['1:unix']);
  assert.deepEqual(lines('fn f() {\n  if cfg!(unix) { std::os::unix::fs::symlink(a, b).unwrap(); }\n}'), ['2:unix'], 'cfg! is no guard');
  assert.deepEqual(lines('#[cfg(not(unix))]\nfn f() { libc::kill(1, 0); }'), ['2:unix']);
  assert.deepEqual(lines('#[cfg(any(unix, windows))]\nfn f() { libc::kill(1, 0); }'), ['2:unix']);
  assert.deepEqual(lines('#[cfg(unix)]\nfn f() { libc::syscall(libc::SYS_renameat2); }'), ['2:linux']);
  assert.deepEqual(lines('#[cfg(unix)]\nfn f() { std::os::windows::fs::FileExt::seek_read(); }'), ['2:windows']);
  assert.deepEqual(lines('fn g() {\n  #[cfg(unix)]\n  { let x = 1; }\n  std::os::unix::fs::symlink(a, b);\n}'), ['4:unix'], 'the guard ends with its block');
  assert.deepEqual(lines('fn f() -> S {\n  S {\n    #[cfg(unix)]\n    ino: std::os::unix::fs::MetadataExt::ino(&m),\n    mode: std::os::unix::fs::PermissionsExt::mode(&p),\n  }\n}'), ['5:unix'], 'the guard ends with its field');
  assert.deepEqual(lines('#[cfg(all(unix, not(test)))]\nfn f() { libc::kill(1, 0); }'), []);
  assert.deepEqual(lines('#[cfg(any(target_os = "linux", target_os = "macos"))]\nfn f() { libc::kill(1, 0); }'), []);
  assert.deepEqual(lines('#[cfg(target_os = "linux")]\nfn f() {\n  use std::os::unix::ffi::OsStrExt;\n  libc::syscall(libc::SYS_renameat2);\n}'), []);
  assert.deepEqual(lines('#[cfg(unix)]\nif a { x(); } else { std::os::unix::fs::symlink(a, b); }'), [], 'else continues the guarded if');
  assert.deepEqual(lines('#![cfg(unix)]\nuse std::os::unix::fs::PermissionsExt;'), []);
  assert.deepEqual(lines('#![cfg(any(windows, tad_check_windows))]\nuse windows_sys::Win32::Foundation::HANDLE;'), [], 'the type-check cfg counts as windows');
  assert.deepEqual(lines('#![cfg(any(unix, tad_check_windows))]\nuse windows_sys::Win32::Foundation::HANDLE;'), ['2:windows']);
  assert.deepEqual(lines('// std::os::unix in a comment\nfn f() { let s = "libc::kill"; let c = \'x\'; let l: &\'static str = r#"std::os::unix"#; }'), []);
  assert.deepEqual(scanManifest('[dependencies]\nlibc = "0.2"\n').map(v => v.line), [2]);
  assert.deepEqual(scanManifest("[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n"), []);
});

test('the platform check knows Linux-only and Apple-only calls, OS error literals, and what specs may not assume', () => {
  const lines = src => scan(src).map(v => `${v.line}:${v.needs}`);
  // Linux-only calls need target_os = "linux", not just unix
  assert.deepEqual(lines('#[cfg(unix)]\nfn f() { libc::fdatasync(fd); }'), ['2:linux']);
  assert.deepEqual(lines('#[cfg(unix)]\nconst X: u32 = libc::RENAME_EXCHANGE;'), ['2:linux']);
  assert.deepEqual(lines('#[cfg(target_os = "linux")]\nfn f() { libc::fdatasync(fd); }'), []);
  // Apple-only ones need macOS
  assert.deepEqual(lines('#[cfg(unix)]\nfn f() { libc::fcntl(fd, libc::F_FULLFSYNC); }'), ['2:macos']);
  assert.deepEqual(lines('#[cfg(target_os = "macos")]\nfn f() { libc::fcntl(fd, libc::F_FULLFSYNC); }'), []);
  assert.deepEqual(lines('#[cfg(target_vendor = "apple")]\nfn f() { libc::fcntl(fd, libc::F_BARRIERFSYNC); }'), []);
  assert.deepEqual(lines('#[cfg(target_os = "macos")]\nfn f() { libc::kill(1, 0); }'), [], 'macOS is unix');
  // OS error numbers as literals
  assert.deepEqual(lines('fn f() -> io::Error { io::Error::from_raw_os_error(28) }'), ['1:one-os']);
  assert.deepEqual(lines('fn f(e: &io::Error) -> bool { e.raw_os_error() == Some(5) }'), ['1:one-os']);
  assert.deepEqual(lines('fn t() { let p = FaultPlan { errno: 28, at: 1 }; }'), ['1:one-os']);
  assert.deepEqual(lines('#[cfg(unix)]\nfn t() { let p = FaultPlan { errno: 28 }; }'), ['2:one-os'], 'unix is two OSes');
  assert.deepEqual(lines('#[cfg(windows)]\nfn f() -> io::Error { io::Error::from_raw_os_error(112) }'), []);
  assert.deepEqual(lines('fn t() { let p = FaultPlan { errno: ENOSPC }; io::Error::from_raw_os_error(libc::EIO); }'), ['1:unix']);
  // specs
  const spec = src => scanSpec(src).map(v => v.line);
  assert.deepEqual(spec("assert.equal(fs.statSync(f).mode & 0o777, 0o600);"), [1]);
  assert.deepEqual(spec("assertMode(f, 0o600);"), []);
  assert.deepEqual(spec("x;\nassert.equal(r.signal, 'SIGKILL', r.stderr);"), [2]);
  assert.deepEqual(spec("assert.equal(res.signal, 'SIGKILL'); // parent kill"), []);
  assert.deepEqual(spec("assert.notEqual(r.signal, 'SIGKILL');"), []);
  assert.deepEqual(spec("assert.equal(error.cause.errno, 28);"), [1]);
  assert.deepEqual(spec("assert.equal(error.cause.errno, os.constants.errno.ENOSPC);"), []);
});
