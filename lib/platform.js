'use strict';

/**
 * Which prebuilt native addon this machine needs, and which ones tad-store
 * ships. The names are napi-rs's `<platform>-<arch>[-<abi>]`: the addon file is
 * `tad-store.<name>.node` and its npm package `tad-store-<name>` (what the
 * generated `binding.js` looks for). `SUPPORTED` is `napi.targets` in
 * package.json, one `npm/<name>/` package each (a spec checks all three agree).
 */

const fs = require('node:fs');

const BINARY_NAME = 'tad-store';

const SUPPORTED = Object.freeze([
  'win32-x64-msvc',
  'win32-arm64-msvc',
  'darwin-x64',
  'darwin-arm64',
  'linux-x64-gnu',
  'linux-arm64-gnu',
  'linux-x64-musl',
]);

/** `{ libc: 'glibc' | 'musl', glibcVersion }` on Linux, detected as binding.js does. */
function linuxLibc() {
  let report = null;
  try {
    if (process.report && typeof process.report.getReport === 'function') {
      process.report.excludeNetwork = true;
      report = process.report.getReport();
    }
  } catch {
    report = null;
  }
  const glibcVersion = (report && report.header && report.header.glibcVersionRuntime) || null;
  let ldd = null;
  try {
    ldd = fs.readFileSync('/usr/bin/ldd', 'utf8');
  } catch {
    ldd = null;
  }
  let musl;
  if (ldd !== null) musl = ldd.includes('musl');
  else if (glibcVersion) musl = false;
  else musl = Boolean(report && Array.isArray(report.sharedObjects)
    && report.sharedObjects.some(f => f.includes('libc.musl-') || f.includes('ld-musl-')));
  return { libc: musl ? 'musl' : 'glibc', glibcVersion: musl ? null : glibcVersion };
}

/**
 * This process's platform: `{ platform, arch, libc, glibcVersion, name }`,
 * `name` being the napi-rs platform name (`linux-x64-gnu`, `darwin-arm64`,
 * `win32-x64-msvc`…), whether or not tad-store ships it.
 */
function current() {
  const { platform, arch } = process;
  let libc = null;
  let glibcVersion = null;
  let name = `${platform}-${arch}`;
  if (platform === 'linux') {
    ({ libc, glibcVersion } = linuxLibc());
    name += libc === 'musl' ? '-musl' : '-gnu';
  } else if (platform === 'win32') {
    name += '-msvc';
  }
  return { platform, arch, libc, glibcVersion, name };
}

module.exports = {
  BINARY_NAME,
  SUPPORTED,
  current,
  addonFile: name => `${BINARY_NAME}.${name}.node`,
  packageName: name => `${BINARY_NAME}-${name}`,
};
