'use strict';
// Type-checks the core's Windows syscall module (core/src/fs/windows.rs) on
// any platform: with `--cfg tad_check_windows` the module is compiled against
// windows-sys's declarations (which exist on every target) — nothing is
// linked or run. The `#[cfg(windows)]` glue in core/src/fs.rs (std's
// Windows-only traits) is only compiled by a Windows build (CI).
//
//   npm run check:windows

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const flags = [process.env.RUSTFLAGS, '--cfg tad_check_windows'].filter(Boolean).join(' ');
const r = spawnSync('cargo', ['check', '-p', 'tad_store_core', '--target-dir', path.join(root, 'target', 'check-windows')], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, RUSTFLAGS: flags },
});
process.exitCode = r.status === null ? 1 : r.status;
