'use strict';

// better-sqlite3 for the benchmark's SQLite column, installed on demand.
//
// It is NOT a dependency of the package (not even an optional or dev one): it is a
// native module that builds from source here (no prebuilt binary can be downloaded
// without internet), which takes ~2 minutes on 2 cores and needs Node's C++ headers.
// `npm ci` / `npm test` / CI must never pay for it or fail because of it. So the
// bench installs one pinned version into bench/.deps/<abi>-<platform>-<arch>/
// (git-ignored; one directory per Node ABI, since better-sqlite3 links against V8,
// not Node-API) the first time it runs, with
//   npm_config_build_from_source=true  (prebuild-install would try GitHub first)
//   npm_config_nodedir=<headers of the running node>  (node-gyp would download them)
// A failed install is remembered (bench/.deps/<abi>…/FAILED with npm's output) and not
// retried until `--install-sqlite` is given; the SQLite rows then say why.
//
//   node bench/sqlite-dep.js            install (or report the installed version)

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const VERSION = '12.11.1'; // 13.x needs Node ≥ 22; `npm run bench` runs on the PATH's Node 20
const DEPS = path.join(__dirname, '.deps');
const DIR = path.join(DEPS, `abi${process.versions.modules}-${process.platform}-${process.arch}`);
const FAILED = path.join(DIR, 'FAILED');

/** A directory holding include/node/node_version.h of exactly this Node version, or null. */
function nodeHeaders() {
  const want = process.versions.node.split('.').map(Number);
  const candidates = [path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local'];
  for (const dir of candidates) {
    const h = path.join(dir, 'include', 'node', 'node_version.h');
    let text;
    try {
      text = fs.readFileSync(h, 'utf8');
    } catch {
      continue;
    }
    const num = (name) => Number((text.match(new RegExp(`#define\\s+${name}\\s+(\\d+)`)) || [])[1]);
    if (num('NODE_MAJOR_VERSION') === want[0] && num('NODE_MINOR_VERSION') === want[1] && num('NODE_PATCH_VERSION') === want[2]) return dir;
  }
  return null;
}

function tryRequire() {
  const mod = path.join(DIR, 'node_modules', 'better-sqlite3');
  if (!fs.existsSync(path.join(mod, 'package.json'))) return null;
  const Database = require(mod);
  const db = new Database(':memory:');
  const sqliteVersion = db.prepare('select sqlite_version() as v').get().v;
  db.close();
  return { Database, modulePath: mod, version: require(path.join(mod, 'package.json')).version, sqliteVersion };
}

/**
 * Returns { Database, modulePath, version, sqliteVersion } or { error } (a sentence
 * for the report). `install`: build it if missing; `retry`: even after a failure.
 */
function loadSqlite({ install = true, retry = false, log = (m) => process.stderr.write(`[bench] ${m}\n`) } = {}) {
  try {
    const got = tryRequire();
    if (got && got.version === VERSION) return got;
  } catch (error) {
    log(`better-sqlite3 in ${DIR} does not load (${error.message.split('\n')[0]}); reinstalling`);
  }
  if (!install) return { error: `better-sqlite3 not installed (run \`node bench/sqlite-dep.js\`)` };
  if (fs.existsSync(FAILED) && !retry) {
    return { error: `better-sqlite3 ${VERSION} could not be installed earlier (${path.relative(process.cwd(), FAILED)}; \`--install-sqlite\` retries)` };
  }
  fs.mkdirSync(DIR, { recursive: true });
  fs.rmSync(FAILED, { force: true });
  fs.writeFileSync(path.join(DIR, 'package.json'), `${JSON.stringify({ private: true, description: 'bench-only: see bench/sqlite-dep.js', dependencies: { 'better-sqlite3': VERSION } }, null, 2)}\n`);
  const headers = nodeHeaders();
  const env = { ...process.env, npm_config_build_from_source: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  // the parent `npm run` exports its own config; none of it applies to this directory
  for (const k of Object.keys(env)) if (/^npm_(config_(prefix|global|save|package_lock|lockfile)|package_)/i.test(k)) delete env[k];
  if (headers) env.npm_config_nodedir = headers;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  log(`installing better-sqlite3@${VERSION} into ${path.relative(process.cwd(), DIR)} (build from source${headers ? `, Node headers ${headers}/include/node` : ', no local Node headers found: node-gyp will try to download them'}; ~2 min)`);
  const t0 = Date.now();
  const r = spawnSync(npm, ['install', '--no-package-lock', '--omit=dev', '--foreground-scripts'], { cwd: DIR, env, encoding: 'utf8', timeout: 20 * 60 * 1000, shell: process.platform === 'win32' });
  const output = `${r.stdout || ''}\n${r.stderr || ''}${r.error ? `\n${r.error}` : ''}`;
  let got = null;
  let loadError = null;
  if (r.status === 0) {
    try {
      got = tryRequire();
    } catch (error) {
      loadError = error;
    }
  }
  if (!got) {
    const npmSaid = (output.split('\n').find((l) => /npm (ERR!|error) (code|notarget|gyp|\w+ )/.test(l)) || '').trim();
    const why = r.status !== 0 ? `npm install exited with ${r.status === null ? r.signal || r.error : r.status}${npmSaid ? ` (${npmSaid})` : ''}` : `built but does not load: ${loadError ? loadError.message.split('\n')[0] : 'module missing'}`;
    fs.writeFileSync(FAILED, `${why}\n\n${output}`);
    log(`better-sqlite3 install failed: ${why} (log in ${FAILED})`);
    return { error: `better-sqlite3 ${VERSION} could not be installed here: ${why}` };
  }
  log(`better-sqlite3 ${got.version} (SQLite ${got.sqliteVersion}) installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return got;
}

module.exports = { loadSqlite, VERSION, DIR };

if (require.main === module) {
  const r = loadSqlite({ retry: true });
  if (r.error) {
    console.error(r.error);
    process.exit(1);
  }
  console.log(`better-sqlite3 ${r.version}, SQLite ${r.sqliteVersion}: ${r.modulePath}`);
}
