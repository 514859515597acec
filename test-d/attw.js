'use strict';

// Runs arethetypeswrong (`attw --pack`) on the package as npm would pack it,
// without the native binary: the entries of package.json's `files` are copied
// to a temporary directory, leaving out the `.node` addon (attw checks the
// types and the JS module formats; it never loads the addon, and packing a
// 90 MB debug build would cost half a minute), and `npm pack` runs there with
// lifecycle scripts off (the `prepare` script would build the addon).
// Every resolution mode counts (attw's default `strict` profile): node10,
// node16 from CJS, node16 from ESM, bundler.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const cliManifest = require.resolve('@arethetypeswrong/cli/package.json', { paths: [root] });
const attw = path.join(path.dirname(cliManifest), JSON.parse(fs.readFileSync(cliManifest, 'utf8')).bin.attw);

const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-store-attw-'));
try {
  fs.copyFileSync(path.join(root, 'package.json'), path.join(stage, 'package.json'));
  for (const entry of manifest.files) {
    if (entry.endsWith('.node')) continue; // the addon
    if (/[*?[\]{}!]/.test(entry)) {
      throw new Error(`test-d/attw.js: package.json "files" entry ${JSON.stringify(entry)} is a pattern; list it here or name the file`);
    }
    const from = path.join(root, entry);
    if (!fs.existsSync(from)) throw new Error(`test-d/attw.js: package.json "files" names ${entry}, which does not exist`);
    fs.cpSync(from, path.join(stage, entry), { recursive: true });
  }
  const run = spawnSync(process.execPath, [attw, '--pack', stage, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, npm_config_ignore_scripts: 'true' },
  });
  if (run.error) throw run.error;
  process.exitCode = run.status === null ? 1 : run.status;
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
