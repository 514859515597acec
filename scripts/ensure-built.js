'use strict';
// Builds the native addon of a source checkout when this platform's
// tad-store.<platform>.node is missing or older than the Rust sources, so a
// fresh clone needs only `npm install && npm run demo` (or `npm test`). The
// published package never runs this: it ships prebuilt addons in per-platform
// packages and has no install script.
//
//   node scripts/ensure-built.js          build if needed (release profile)
//   node scripts/ensure-built.js --debug  the same with a debug build

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { current, addonFile } = require('../lib/platform.js');
const { ensurePinnedToolchain } = require('./rust-toolchain.js');

const root = path.join(__dirname, '..');
// What the addon is built from (not tests, benches or examples).
const SOURCES = ['Cargo.toml', 'Cargo.lock', 'build.rs', 'src', 'core/Cargo.toml', 'core/src'];

function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

function hasCargo() {
  const r = spawnSync('cargo', ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' });
  return r.status === 0;
}

function main() {
  ensurePinnedToolchain();
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
    console.log(`ensure-built: using NAPI_RS_NATIVE_LIBRARY_PATH=${process.env.NAPI_RS_NATIVE_LIBRARY_PATH}`);
    return 0;
  }
  const { name } = current();
  const file = path.join(root, addonFile(name));
  const built = fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map(s => newestMtime(path.join(root, s))));
  if (built && built >= sources) return 0;
  if (!hasCargo()) {
    if (built) {
      console.warn(`ensure-built: ${addonFile(name)} is older than the Rust sources, but cargo is not on PATH; using it as it is`);
      return 0;
    }
    console.error(`ensure-built: ${addonFile(name)} is missing and cargo is not on PATH. `
      + 'Install Rust (stable, https://rustup.rs) to build it, or use the published package, '
      + 'which ships prebuilt addons.');
    return 1;
  }
  const debug = process.argv.includes('--debug');
  console.log(`ensure-built: ${built ? 'Rust sources changed' : `${addonFile(name)} not built yet`}; `
    + `building the addon (${debug ? 'debug' : 'release'}; a few minutes the first time)`);
  const cliPkg = require.resolve('@napi-rs/cli/package.json', { paths: [root] });
  const cli = path.join(path.dirname(cliPkg), require(cliPkg).bin.napi);
  const args = [cli, 'build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts'];
  if (!debug) args.push('--release');
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`ensure-built: the build failed (${r.error ? r.error.message : `exit ${r.status}`})`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
