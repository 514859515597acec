'use strict';

/**
 * Runs conf 10.2's `test/index.ts` (this directory's `index.ts`) with the AVA
 * shim, against tad-store (default) or conf itself (`CONF_SUITE_TARGET=conf`),
 * and writes a JSON report to the file named by `CONF_SUITE_REPORT`:
 * `{ target, registered, tests: [{ title, passed, knownFailing, failedWith, error }],
 *    hookFailures, uncaught, warnings }`.
 *
 * conf's tests run in the conf repository's root with AVA: relative `cwd`s
 * (`'test'`, `'conf-fixture-cwd'`) are resolved against the working
 * directory, which must hold `test/config-encrypted-with-conf-4-1-0.json`, and
 * `readPkgUp()` there must find the package.json the store infers its project
 * from. So the suite runs in a scratch directory under this one (gitignored,
 * removed afterwards) holding a copy of the fixture; the nearest package.json
 * is then this repository's, as it is for adapter.js. The spec points HOME,
 * XDG_CONFIG_HOME and TMPDIR at a temp directory, so the stores the tests
 * create without `cwd` (env-paths' config directory) and tempy's directories
 * land there.
 *
 * Usage: node run.js (the spec spawns it; it can be run by hand).
 */

const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const here = __dirname;
const target = process.env.CONF_SUITE_TARGET === 'conf' ? 'conf' : 'tad-store';
const reportFile = process.env.CONF_SUITE_REPORT;

// `import anyTest from 'ava'` → the shim
const shimPath = path.join(here, 'ava.js');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolve(request, ...rest) {
  if (request === 'ava') return shimPath;
  return resolveFilename.call(this, request, ...rest);
};

// `.ts` files are transpiled when required (no type check, as @ava/typescript
// runs the tsc output; conf's tsconfig targets ES2018, CommonJS)
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2018, esModuleInterop: false, sourceMap: false },
  });
  module._compile(outputText, filename);
};

const report = { target, registered: 0, tests: [], hookFailures: [], uncaught: [], warnings: [] };
process.on('uncaughtException', error => {
  report.uncaught.push(`uncaught exception: ${error && error.stack ? error.stack : error}`);
});
process.on('unhandledRejection', error => {
  report.uncaught.push(`unhandled rejection: ${error && error.stack ? error.stack : error}`);
});
process.on('warning', warning => {
  report.warnings.push(`${warning.name}${warning.code ? ` ${warning.code}` : ''}: ${warning.message}`);
});

const work = path.join(here, `.work-${target}-${process.pid}`);
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(path.join(work, 'test'), { recursive: true });
fs.copyFileSync(path.join(here, 'test', 'config-encrypted-with-conf-4-1-0.json'), path.join(work, 'test', 'config-encrypted-with-conf-4-1-0.json'));
process.chdir(work);

function finish(code) {
  if (reportFile) fs.writeFileSync(reportFile, JSON.stringify(report, null, 2));
  else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.chdir(here);
  try {
    fs.rmSync(work, { recursive: true, force: true });
  } catch {}
  // AVA's worker ends once its tests are done, whatever handles are still open
  process.exit(code);
}

async function main() {
  const ava = require('./ava.js');
  require('./index.ts');
  report.registered = ava.registered();
  const result = await ava.run();
  report.tests = result.tests.map(({ title, passed, knownFailing, failedWith, error }) => ({ title, passed, knownFailing, failedWith, error }));
  report.hookFailures = result.hookFailures;
  // give late errors (a watcher, a background write) a moment to surface
  await new Promise(resolve => setTimeout(resolve, 200));
  finish(0);
}

main().catch(error => {
  report.uncaught.push(`the suite could not run: ${error && error.stack ? error.stack : error}`);
  finish(1);
});
