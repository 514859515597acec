'use strict';
// rust-toolchain.toml pins the Rust toolchain by its exact version. rustup
// downloads a pinned toolchain it does not have — which a machine without
// internet access (CI images that reach only package registries) cannot do,
// even when its `stable` IS that version. Where rustup is the toolchain
// manager, the pinned version is not installed, and the installed `stable` is
// exactly that version, this links `stable` under the pinned name (a symlink
// `<RUSTUP_HOME>/toolchains/<version>-<host>` to stable's directory, local only;
// `rustup toolchain link` refuses official names). Otherwise it does nothing: rustup
// downloads the pin as usual, or cargo without rustup is what it is.
//
//   node scripts/rust-toolchain.js      (ensure-built.js and `npm test` run it first)

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' });
  return r.status === 0 ? r.stdout : null;
}

/** The pinned channel, or null. */
function pinned() {
  let text;
  try {
    text = fs.readFileSync(path.join(root, 'rust-toolchain.toml'), 'utf8');
  } catch {
    return null;
  }
  const m = /^\s*channel\s*=\s*"([^"]+)"/m.exec(text);
  return m ? m[1] : null;
}

function ensurePinnedToolchain() {
  const want = pinned();
  if (!want || !/^\d+\.\d+\.\d+$/.test(want)) return 'not pinned to a version';
  const list = run('rustup', ['toolchain', 'list']);
  if (list === null) return 'no rustup';
  const names = list.split(/\r?\n/).map(l => l.trim().split(/\s+/)[0]).filter(Boolean);
  if (names.some(n => n === want || n.startsWith(`${want}-`))) return `${want} installed`;
  const version = run('rustc', ['+stable', '--version']);
  if (version === null || !version.startsWith(`rustc ${want} `)) return `stable is not ${want}: rustup installs the pin`;
  const sysroot = (run('rustc', ['+stable', '--print', 'sysroot']) || '').trim();
  const host = /^host:\s*(\S+)/m.exec(run('rustc', ['+stable', '-vV']) || '');
  const toolchains = path.join(process.env.RUSTUP_HOME || path.join(os.homedir(), '.rustup'), 'toolchains');
  if (!sysroot || !host || !fs.existsSync(path.join(sysroot, 'bin'))) return 'no sysroot for stable';
  try {
    fs.symlinkSync(sysroot, path.join(toolchains, `${want}-${host[1]}`), 'junction');
  } catch (e) {
    if (e.code !== 'EEXIST') return `link failed: ${e.message}`;
  }
  console.log(`rust-toolchain: linked the installed stable (${want}) as the pinned toolchain ${want}`);
  return 'linked';
}

module.exports = { ensurePinnedToolchain };

if (require.main === module) ensurePinnedToolchain();
