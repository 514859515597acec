'use strict';

// Compiles each consumer project under test-d/consumers/ with `tsc --noEmit`, as
// an app that installed tad-store would: each is copied to a temporary directory
// whose node_modules/tad-store links to this package (so `tad-store` and
// `tad-store/ipc` resolve through package.json's `types`/`exports`, not through
// paths), and node_modules/@types to this package's @types.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const projects = fs
  .readdirSync(__dirname, { withFileTypes: true })
  .filter(entry => entry.isDirectory())
  .map(entry => entry.name)
  .sort();
if (projects.length === 0) throw new Error(`no consumer projects in ${__dirname}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-store-consumers-'));
let failed = 0;
try {
  fs.mkdirSync(path.join(tmp, 'node_modules'));
  fs.symlinkSync(root, path.join(tmp, 'node_modules', 'tad-store'), 'dir');
  fs.symlinkSync(path.join(root, 'node_modules', '@types'), path.join(tmp, 'node_modules', '@types'), 'dir');
  for (const name of projects) {
    const dir = path.join(tmp, name);
    fs.cpSync(path.join(__dirname, name), dir, { recursive: true });
    const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    if (run.error) throw run.error;
    if (run.status === 0) {
      console.log(`ok: consumer ${name} compiles`);
    } else {
      failed += 1;
      console.log(`FAIL: consumer ${name}\n${run.stdout}${run.stderr}`);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`consumers: ${projects.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
