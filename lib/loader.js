'use strict';

/**
 * Loads the native addon through the loader `napi build` generates
 * (`binding.js`: the file `NAPI_RS_NATIVE_LIBRARY_PATH` names if set, else
 * `./tad-store.<platform>.node` beside it, else the package
 * `tad-store-<platform>`), and turns its failure into an error that says what
 * is wrong on this machine. The generated loader blames an npm bug whatever
 * happened; that hint is kept here only when it can be the cause: a supported
 * platform whose package is not installed.
 */

const fs = require('node:fs');
const path = require('node:path');

// platform.js (and binding.js) only when the quick look below does not load
// the addon: they are most of what `require('tad-store')` costs otherwise
let platformModule = null;
const platform = () => platformModule || (platformModule = require('./platform.js'));

const root = path.join(__dirname, '..');

/** The messages in a load error's `cause` chain (binding.js chains every attempt). */
function causes(err) {
  const out = [];
  for (let e = err && err.cause; e && out.length < 20; e = e.cause) {
    if (e.message) out.push(String(e.message).split('\n')[0]);
  }
  return out;
}

function isInstalled(pkg) {
  try {
    require.resolve(`${pkg}/package.json`, { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

/** A second attempt under this module's own platform name (binding.js may pick another ABI, e.g. win32-x64-gnu). */
function retry(name) {
  const { addonFile, packageName } = platform();
  const local = path.join(root, addonFile(name));
  if (fs.existsSync(local)) return require(local);
  return require(packageName(name));
}

function loadError(err) {
  const { SUPPORTED, current, addonFile, packageName } = platform();
  const here = current();
  const pkg = packageName(here.name);
  const { version, repository } = require('../package.json');
  const repo = String((repository && repository.url) || repository || 'tad-store').replace(/^git\+/, '');
  const found = `process.platform ${here.platform}, process.arch ${here.arch}`
    + (here.libc ? `, libc ${here.libc}${here.glibcVersion ? ` ${here.glibcVersion}` : ''}` : '');
  const fromSource = `To build it from source (Rust stable and Node.js 20 needed): clone ${repo}, run `
    + '`npm install && npm run build` there, and set the environment variable NAPI_RS_NATIVE_LIBRARY_PATH to the '
    + `${addonFile(here.name)} it writes (or copy that file next to tad-store's binding.js).`;
  const all = causes(err).filter(m => !/wasi/i.test(m));
  const details = all.filter(m => !/Cannot find module/.test(m));
  const said = list => (list.length ? ` The loader said: ${list.join(' | ')}` : '');
  const why = said(details);
  let message;
  let code;
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
    code = 'E_NATIVE_LOAD';
    message = `tad-store could not load the native addon that NAPI_RS_NATIVE_LIBRARY_PATH names `
      + `(${process.env.NAPI_RS_NATIVE_LIBRARY_PATH}; found ${found}).${said(all)}`;
  } else if (!SUPPORTED.includes(here.name)) {
    code = 'E_UNSUPPORTED_PLATFORM';
    message = `tad-store has no prebuilt native addon for this platform: found ${found}, so it looked for `
      + `the package ${pkg}, and there is no such package. Prebuilt platforms: ${SUPPORTED.join(', ')}. ${fromSource}`;
  } else if (isInstalled(pkg) || fs.existsSync(path.join(root, addonFile(here.name)))) {
    code = 'E_NATIVE_LOAD';
    const where = isInstalled(pkg) ? pkg : addonFile(here.name);
    message = `tad-store's native addon for ${here.name} is installed (${where}) but failed to load (found ${found}).`
      + `${why || ` ${err && err.message}`}. If node_modules was copied from another machine or packaged for another `
      + 'platform, install it again on (or for) this one.';
  } else {
    code = 'E_NATIVE_MISSING';
    message = `tad-store's native addon for this platform is not installed: the package ${pkg}@${version} is missing `
      + `(found ${found}). npm installs it as an optional dependency of tad-store; npm can skip it when the `
      + 'lockfile was written on another platform (https://github.com/npm/cli/issues/4828): remove node_modules and '
      + `package-lock.json and run \`npm install\` again, or run \`npm install ${pkg}@${version}\`. When you package an `
      + `app for another platform, install that platform's package (README, "Electron packaging"). ${fromSource}`;
  }
  const error = new Error(message);
  error.code = code;
  error.platform = here.name;
  error.packageName = pkg;
  error.supported = [...SUPPORTED];
  error.cause = err;
  return error;
}

/**
 * The addon for this platform, beside this package or in its platform
 * package, loaded directly when it is there (what binding.js would pick: on Linux the glibc build is
 * tried; a C library it cannot load with fails here and binding.js decides),
 * stamped the way binding.js stamps it. Null when there is none, when
 * NAPI_RS_NATIVE_LIBRARY_PATH names another, when
 * NAPI_RS_ENFORCE_VERSION_CHECK asks binding.js to check the platform
 * package's version, or when it does not load.
 */
function quickLoad() {
  // an override, or the package version check binding.js does on request
  const check = process.env.NAPI_RS_ENFORCE_VERSION_CHECK;
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH || (check && check !== '0')) return null;
  const { platform: os, arch } = process;
  const name = os === 'linux' ? `linux-${arch}-gnu` : os === 'win32' ? `win32-${arch}-msvc` : os === 'darwin' ? `darwin-${arch}` : null;
  if (name === null) return null;
  const file = path.join(root, `tad-store.${name}.node`);
  let binding;
  try {
    // beside this package (a build from source), else its platform package
    binding = fs.existsSync(file) ? require(file) : require(`tad-store-${name}`);
  } catch {
    return null;
  }
  if (Object.isExtensible(binding) && !Object.hasOwn(binding, '__napiBindingTarget')) {
    Object.defineProperty(binding, '__napiBindingTarget', { configurable: true, enumerable: true, value: 'native', writable: true });
  }
  return binding;
}

function load() {
  const quick = quickLoad();
  if (quick !== null) return quick;
  try {
    return require('../binding.js');
  } catch (err) {
    const { SUPPORTED, current } = platform();
    if (SUPPORTED.includes(current().name) && !process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
      try {
        return retry(current().name);
      } catch {
        // fall through to the error about the first attempt
      }
    }
    throw loadError(err);
  }
}

module.exports = load();
