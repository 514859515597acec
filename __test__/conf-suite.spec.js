'use strict';

// conf 10.2's own test suite (its test/index.ts, 76 AVA tests, in
// __test__/conf-suite/) run against tad-store: every test must pass except
// those listed in __test__/conf-suite/expected.json, each with its reason. A
// listed test that passes fails this spec too (take it off the list). The same
// suite is run against conf itself first: conf passes all 76, which checks the
// AVA shim. A `test.failing` test (conf's own known failure) must fail on
// tad-store exactly as it fails on conf: the same first failed assertion.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');

const suiteDir = path.join(__dirname, 'conf-suite');
const expected = require('./conf-suite/expected.json');
const CONF_TESTS = 76;

/** Runs `script` in a child process with HOME, XDG_CONFIG_HOME and TMPDIR in a fresh temp dir. */
function runChild(script, env = {}) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tad-conf-suite-'));
  const reportFile = path.join(scratch, 'report.json');
  const childEnv = {
    ...process.env,
    HOME: scratch,
    XDG_CONFIG_HOME: path.join(scratch, 'config'),
    TMPDIR: scratch,
    CONF_SUITE_REPORT: reportFile,
    ...env,
  };
  delete childEnv.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script], { env: childEnv, cwd: suiteDir, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      let report = null;
      try {
        report = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : JSON.parse(stdout);
      } catch {}
      fs.rmSync(scratch, { recursive: true, force: true });
      if (!report) {
        reject(new Error(`${path.basename(script)} gave no report (${error ? error.message : 'no error'})\n${stderr}`));
        return;
      }
      resolve({ report, stderr });
    });
  });
}

test('the AVA shim passes and fails what AVA does', async () => {
  const { report } = await runChild(path.join(suiteDir, 'shim-selftest.js'), { CONF_SUITE_REPORT: '' });
  assert.ok(report.length >= 20, `${report.length} tests reported`);
  for (const r of report) {
    const shouldPass = r.title.startsWith('pass:');
    assert.equal(r.passed, shouldPass, `${r.title}: ${r.passed ? 'passed' : `failed (${r.error})`}`);
  }
});

test('the createDecipher stand-in for the conf control run (Node >= 22 removed it) decrypts as Node 20 did', () => {
  const crypto = require('node:crypto');
  const { legacyCreateDecipher } = require('./conf-suite/legacy-decipher.js');
  const decrypt = (make, algorithm, password, data) => {
    const d = make(algorithm, password);
    return Buffer.concat([d.update(data), d.final()]);
  };
  // conf 4.1.0's file, password 'abcd1234' (what conf's 'encryption - upgrade' test reads)
  const fixture = fs.readFileSync(path.join(suiteDir, 'test', 'config-encrypted-with-conf-4-1-0.json'));
  assert.deepEqual(JSON.parse(decrypt(legacyCreateDecipher, 'aes-256-cbc', 'abcd1234', fixture).toString('utf8')), { unicorn: '🦄' });
  // where Node still has them (20, 21): the same bytes as the real createCipher/createDecipher
  if (typeof crypto.createCipher === 'function') {
    for (const algorithm of ['aes-256-cbc', 'aes-128-cbc', 'aes-192-ctr']) {
      for (const password of ['abcd1234', '', 'p'.repeat(100), Buffer.from([0, 255, 7])]) {
        const data = crypto.randomBytes(77);
        const c = crypto.createCipher(algorithm, password);
        const encrypted = Buffer.concat([c.update(data), c.final()]);
        assert.deepEqual(decrypt(crypto.createDecipher, algorithm, password, encrypted), data);
        assert.deepEqual(decrypt(legacyCreateDecipher, algorithm, password, encrypted), data, `${algorithm} ${password}`);
      }
    }
  }
});

/** conf's own run (shared by the tests below). */
let confRun = null;
function confReport() {
  confRun = confRun || runChild(path.join(suiteDir, 'run.js'), { CONF_SUITE_TARGET: 'conf' });
  return confRun;
}

test("conf 10.2 passes its own suite under the shim (all 76)", async () => {
  const { report } = await confReport();
  assert.deepEqual(report.uncaught, []);
  assert.deepEqual(report.hookFailures, []);
  assert.equal(report.registered, CONF_TESTS);
  const failed = report.tests.filter(r => !r.passed).map(r => `${r.title}: ${r.error}`);
  assert.deepEqual(failed, []);
  assert.equal(report.tests.length, CONF_TESTS);
});

test("tad-store passes conf 10.2's suite but for the listed, explained failures", async t => {
  const { report } = await runChild(path.join(suiteDir, 'run.js'), { CONF_SUITE_TARGET: 'tad-store' });
  assert.deepEqual(report.uncaught, [], 'no uncaught errors');
  assert.deepEqual(report.hookFailures, [], 'no hook failures');
  assert.equal(report.registered, CONF_TESTS);
  assert.equal(report.tests.length, CONF_TESTS);

  const allowed = new Map(expected.allowedFailures.map(f => [f.title, f.reason]));
  for (const f of expected.allowedFailures) {
    assert.ok(typeof f.reason === 'string' && f.reason.length > 0, `a reason for ${f.title}`);
    assert.ok(report.tests.some(r => r.title === f.title), `expected.json names a test of the suite: ${f.title}`);
  }
  const problems = [];
  for (const r of report.tests) {
    if (!r.passed && !allowed.has(r.title)) problems.push(`FAILED: ${r.title}\n    ${r.error}`);
    if (r.passed && allowed.has(r.title)) problems.push(`PASSED but listed as allowed to fail (${allowed.get(r.title)}): ${r.title}`);
  }
  // conf's known failures (test.failing) fail here exactly as on conf
  const { report: onConf } = await confReport();
  const knownFailing = report.tests.filter(r => r.knownFailing);
  assert.ok(knownFailing.length > 0, 'the suite has test.failing tests');
  for (const r of knownFailing) {
    const c = onConf.tests.find(x => x.title === r.title);
    assert.ok(c && c.failedWith, `conf fails ${r.title}`);
    if (r.failedWith !== c.failedWith) problems.push(`FAILS DIFFERENTLY from conf: ${r.title}\n    tad-store: ${r.failedWith}\n    conf:      ${c.failedWith}`);
  }
  const passed = report.tests.filter(r => r.passed).length;
  t.diagnostic(`conf 10.2 suite on tad-store: ${passed} of ${report.tests.length} pass`);
  for (const w of report.warnings) t.diagnostic(`warning: ${w}`);
  assert.deepEqual(problems, []);
});
