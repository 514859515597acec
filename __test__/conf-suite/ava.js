'use strict';

/**
 * The part of AVA 3.15's API that conf 10.2's `test/index.ts` uses, with
 * AVA's semantics (lib/runner.js, lib/test.js, lib/assert.js at v3.15.0):
 *
 * - assertions do not throw: a failed one is recorded, the test goes on, and
 *   the first failure is the test's error; an exception thrown by the test (or
 *   a rejected returned promise) fails it;
 * - `t.plan(n)`: the test fails unless exactly n assertions ran (failed ones
 *   count); a test that runs no assertion and has no plan fails;
 * - `t.is` is `Object.is`; `t.deepEqual` is concordance's `compare`, what AVA
 *   uses (a null-prototype object equals a plain one, undefined-valued
 *   properties count);
 * - `t.throws(fn, expectations)` / `t.notThrows(fn)`: `expectations` is
 *   `{ instanceOf, is, message, name, code }` with AVA's checks (`message`: a
 *   string compared with `===`, or a RegExp tested); a thrown non-Error fails;
 * - `test.failing` passes only if the test fails;
 * - serial tests run first, one after the other; then every concurrent test
 *   is started in order without waiting for the previous one (AVA's default);
 *   each gets its own `t.context`, a shallow copy of the one `before` hooks
 *   left; `beforeEach` hooks run before each test, `afterEach` after each
 *   passed test, `afterEach.always` after every test;
 * - a test that has not finished within the timeout (AVA: `timeout: '1m'` in
 *   conf's package.json) fails.
 *
 * Not implemented (conf's tests do not use them): snapshots, `t.try`,
 * `test.cb`, macros, `.only`, `t.like`, `t.throwsAsync`/`t.notThrowsAsync`.
 * Calling one throws, so a test that needs it fails rather than passing.
 */

const concordance = require('concordance');

const TIMEOUT_MS = 60_000;

const isPromise = value => value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
const isError = value => value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

class AssertionError extends Error {
  constructor(message, values = []) {
    super(values.length > 0 ? `${message}\n${values.join('\n')}` : message);
    this.name = 'AssertionError';
  }
}

const show = value => concordance.format(value);

const registry = {
  before: [],
  beforeEach: [],
  afterEach: [],
  afterEachAlways: [],
  after: [],
  afterAlways: [],
  serial: [],
  concurrent: [],
  skipped: [],
  todo: [],
  titles: new Set(),
};

function register(list, title, implementation, metadata) {
  if (typeof title !== 'string' || title === '') throw new TypeError('Tests must have a title');
  if (typeof implementation !== 'function') throw new TypeError(`Expected an implementation for test ${JSON.stringify(title)}`);
  if (registry.titles.has(title)) throw new Error(`Duplicate test title: ${title}`);
  registry.titles.add(title);
  list.push({ title, implementation, failing: Boolean(metadata.failing) });
}

function hook(list, name) {
  return (titleOrFn, maybeFn) => {
    const implementation = typeof titleOrFn === 'function' ? titleOrFn : maybeFn;
    const title = typeof titleOrFn === 'string' ? titleOrFn : `${name} hook`;
    if (typeof implementation !== 'function') throw new TypeError(`Expected an implementation for the ${name} hook`);
    list.push({ title, implementation, failing: false, hook: true });
  };
}

function unsupported(name) {
  return () => {
    throw new Error(`ava shim: ${name} is not implemented (conf 10.2's tests do not use it)`);
  };
}

/**
 * One test or hook run: its execution context `t`, the assertion count and
 * first error, and the result.
 */
class Attempt {
  constructor(task, context, { isHook }) {
    this.task = task;
    this.context = context;
    this.isHook = isHook;
    this.assertCount = 0;
    this.planCount = null;
    this.error = null;
    this.finished = false;
    this.logs = [];
  }

  saveFirstError(error) {
    if (!this.error) this.error = error;
  }

  pass() {
    if (this.finished) this.saveFirstError(new Error('Assertion passed, but test has already finished'));
    this.assertCount++;
  }

  fail(error) {
    if (this.finished) this.saveFirstError(new Error('Assertion failed, but test has already finished'));
    this.assertCount++;
    this.saveFirstError(error);
  }

  executionContext() {
    const attempt = this;
    const assertMessage = (name, message) => {
      if (message === undefined || typeof message === 'string') return true;
      attempt.fail(new AssertionError(`The assertion message must be a string (t.${name})`));
      return false;
    };
    const withMessage = (message, text) => (message ? `${message}\n${text}` : text);
    const t = {
      get context() {
        return attempt.context.value;
      },
      set context(value) {
        attempt.context.value = value;
      },
      get title() {
        return attempt.task.title;
      },
      log(...values) {
        attempt.logs.push(values.map(v => (typeof v === 'string' ? v : show(v))).join(' '));
      },
      plan(count) {
        if (typeof count !== 'number') throw new TypeError('Expected a number');
        attempt.planCount = count;
      },
      pass() {
        attempt.pass();
      },
      fail(message) {
        if (!assertMessage('fail', message)) return;
        attempt.fail(new AssertionError(message || 'Test failed via `t.fail()`'));
      },
      is(actual, expected, message) {
        if (!assertMessage('is', message)) return;
        if (Object.is(actual, expected)) {
          attempt.pass();
        } else {
          const deep = concordance.compare(actual, expected).pass;
          attempt.fail(new AssertionError(withMessage(message, deep
            ? `Values are deeply equal to each other, but they are not the same: ${show(actual)}`
            : `t.is(): ${show(actual)} is not ${show(expected)}`)));
        }
      },
      not(actual, expected, message) {
        if (!assertMessage('not', message)) return;
        if (Object.is(actual, expected)) attempt.fail(new AssertionError(withMessage(message, `Value is the same as: ${show(actual)}`)));
        else attempt.pass();
      },
      deepEqual(actual, expected, message) {
        if (!assertMessage('deepEqual', message)) return;
        const result = concordance.compare(actual, expected);
        if (result.pass) attempt.pass();
        else attempt.fail(new AssertionError(withMessage(message, `t.deepEqual(): difference:\n${concordance.diff(actual, expected)}`)));
      },
      notDeepEqual(actual, expected, message) {
        if (!assertMessage('notDeepEqual', message)) return;
        if (concordance.compare(actual, expected).pass) attempt.fail(new AssertionError(withMessage(message, `Value is deeply equal: ${show(actual)}`)));
        else attempt.pass();
      },
      true(actual, message) {
        if (!assertMessage('true', message)) return;
        if (actual === true) attempt.pass();
        else attempt.fail(new AssertionError(withMessage(message, `t.true(): value is not \`true\`: ${show(actual)}`)));
      },
      false(actual, message) {
        if (!assertMessage('false', message)) return;
        if (actual === false) attempt.pass();
        else attempt.fail(new AssertionError(withMessage(message, `t.false(): value is not \`false\`: ${show(actual)}`)));
      },
      truthy(actual, message) {
        if (!assertMessage('truthy', message)) return;
        if (actual) attempt.pass();
        else attempt.fail(new AssertionError(withMessage(message, `t.truthy(): value is not truthy: ${show(actual)}`)));
      },
      falsy(actual, message) {
        if (!assertMessage('falsy', message)) return;
        if (actual) attempt.fail(new AssertionError(withMessage(message, `t.falsy(): value is not falsy: ${show(actual)}`)));
        else attempt.pass();
      },
      throws(...args) {
        const [fn, expectations, message] = args;
        if (!assertMessage('throws', message)) return undefined;
        if (typeof fn !== 'function') {
          attempt.fail(new AssertionError('`t.throws()` must be called with a function'));
          return undefined;
        }
        let expected;
        try {
          expected = validateExpectations(expectations, args.length);
        } catch (error) {
          attempt.fail(error);
          return undefined;
        }
        let actual = null;
        let retval;
        try {
          retval = fn();
          if (isPromise(retval)) {
            Promise.resolve(retval).catch(() => {});
            attempt.fail(new AssertionError(withMessage(message, 'Function returned a promise. Use `t.throwsAsync()` instead')));
            return undefined;
          }
        } catch (error) {
          actual = error;
        }
        if (!actual) {
          attempt.fail(new AssertionError(withMessage(message, `t.throws(): the function did not throw; it returned ${show(retval)}`)));
          return undefined;
        }
        const mismatch = checkExpectations(actual, expected);
        if (mismatch) {
          attempt.fail(new AssertionError(withMessage(message, mismatch)));
          return undefined;
        }
        attempt.pass();
        return actual;
      },
      notThrows(fn, message) {
        if (!assertMessage('notThrows', message)) return;
        if (typeof fn !== 'function') {
          attempt.fail(new AssertionError('`t.notThrows()` must be called with a function'));
          return;
        }
        try {
          const retval = fn();
          if (isPromise(retval)) {
            Promise.resolve(retval).catch(() => {});
            attempt.fail(new AssertionError(withMessage(message, 'Function returned a promise. Use `t.notThrowsAsync()` instead')));
            return;
          }
        } catch (error) {
          attempt.fail(new AssertionError(withMessage(message, `t.notThrows(): function threw: ${describeError(error)}`)));
          return;
        }
        attempt.pass();
      },
      regex(string, regex, message) {
        if (!assertMessage('regex', message)) return;
        if (typeof string !== 'string' || !(regex instanceof RegExp)) {
          attempt.fail(new AssertionError('`t.regex()` must be called with a string and a regular expression'));
        } else if (regex.test(string)) {
          attempt.pass();
        } else {
          attempt.fail(new AssertionError(withMessage(message, `t.regex(): ${show(string)} does not match ${regex}`)));
        }
      },
      snapshot: unsupported('t.snapshot()'),
      try: unsupported('t.try()'),
      like: unsupported('t.like()'),
      throwsAsync: unsupported('t.throwsAsync()'),
      notThrowsAsync: unsupported('t.notThrowsAsync()'),
      timeout: unsupported('t.timeout()'),
      teardown: unsupported('t.teardown()'),
    };
    return t;
  }

  /** Runs the implementation; resolves to `{ passed, error }`. */
  async run() {
    let retval;
    try {
      retval = this.task.implementation.call(null, this.executionContext());
    } catch (error) {
      this.saveFirstError(new AssertionError(`Error thrown in test: ${describeError(error)}`));
      return this.finish();
    }
    if (isPromise(retval)) {
      let timer;
      const timeout = new Promise(resolve => {
        timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS);
      });
      const outcome = await Promise.race([
        Promise.resolve(retval).then(() => 'done', error => {
          this.saveFirstError(new AssertionError(`Rejected promise returned by test. Reason: ${describeError(error)}`));
          return 'done';
        }),
        timeout,
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout') this.saveFirstError(new Error(`Timed out after ${TIMEOUT_MS} ms`));
    }
    return this.finish();
  }

  finish() {
    this.finished = true;
    if (!this.error && this.planCount !== null && this.planCount !== this.assertCount) {
      this.saveFirstError(new AssertionError(`Planned for ${this.planCount} assertion${this.planCount === 1 ? '' : 's'}, but got ${this.assertCount}.`));
    }
    if (!this.error && !this.isHook && this.planCount === null && this.assertCount === 0) {
      this.saveFirstError(new Error('Test finished without running any assertions'));
    }
    let error = this.error;
    let passed = !error;
    // a `test.failing` test: how its body failed (compared between targets)
    const failedWith = this.task.failing && error ? describeError(error) : null;
    if (this.task.failing) {
      passed = !passed;
      error = passed ? null : new Error('Test was expected to fail, but succeeded, you should stop marking the test as failing');
    }
    return { passed, error, knownFailing: this.task.failing, failedWith, logs: this.logs };
  }
}

function describeError(error) {
  if (isError(error)) return `${error.name}: ${error.message}${error.code ? ` (code ${error.code})` : ''}`;
  return show(error);
}

/** AVA 3's validateExpectations. */
function validateExpectations(expectations, numberArgs) {
  if (numberArgs === 1 || expectations === null || expectations === undefined) return {};
  if (typeof expectations === 'function' || typeof expectations === 'string' || expectations instanceof RegExp
    || typeof expectations !== 'object' || Array.isArray(expectations) || Object.keys(expectations).length === 0) {
    throw new AssertionError('The second argument to `t.throws()` must be an expectation object, `null` or `undefined`');
  }
  if (hasOwn(expectations, 'instanceOf') && typeof expectations.instanceOf !== 'function') {
    throw new AssertionError('The `instanceOf` property of the second argument to `t.throws()` must be a function');
  }
  if (hasOwn(expectations, 'message') && typeof expectations.message !== 'string' && !(expectations.message instanceof RegExp)) {
    throw new AssertionError('The `message` property of the second argument to `t.throws()` must be a string or regular expression');
  }
  if (hasOwn(expectations, 'name') && typeof expectations.name !== 'string') {
    throw new AssertionError('The `name` property of the second argument to `t.throws()` must be a string');
  }
  if (hasOwn(expectations, 'code') && typeof expectations.code !== 'string' && typeof expectations.code !== 'number') {
    throw new AssertionError('The `code` property of the second argument to `t.throws()` must be a string or number');
  }
  for (const key of Object.keys(expectations)) {
    if (!['instanceOf', 'is', 'message', 'name', 'code'].includes(key)) {
      throw new AssertionError('The second argument to `t.throws()` contains unexpected properties');
    }
  }
  return expectations;
}

/** AVA 3's assertExpectations: a description of the first mismatch, or null. */
function checkExpectations(actual, expectations) {
  const got = `Function threw: ${describeError(actual)}`;
  if (!isError(actual)) return `Function threw exception that is not an error: ${show(actual)}`;
  if (hasOwn(expectations, 'is') && actual !== expectations.is) return `${got}\nExpected to be strictly equal to: ${show(expectations.is)}`;
  if (expectations.instanceOf && !(actual instanceof expectations.instanceOf)) return `${got}\nExpected instance of: ${expectations.instanceOf.name}`;
  if (typeof expectations.name === 'string' && actual.name !== expectations.name) return `${got}\nExpected name to equal: ${JSON.stringify(expectations.name)}`;
  if (typeof expectations.message === 'string' && actual.message !== expectations.message) {
    return `${got}\nExpected message to equal: ${JSON.stringify(expectations.message)}`;
  }
  if (expectations.message instanceof RegExp && !expectations.message.test(actual.message)) {
    return `${got}\nExpected message to match: ${expectations.message}`;
  }
  if (typeof expectations.code !== 'undefined' && actual.code !== expectations.code) return `${got}\nExpected code to equal: ${show(expectations.code)}`;
  return null;
}

/** Runs hooks one after the other; resolves to whether all passed. */
async function runHooks(hooks, context, suffix, report) {
  let ok = true;
  for (const h of hooks) {
    const result = await new Attempt({ ...h, title: `${h.title}${suffix}` }, context, { isHook: true }).run();
    if (!result.passed) {
      ok = false;
      report.hookFailures.push({ title: `${h.title}${suffix}`, error: result.error.message });
    }
  }
  return ok;
}

async function runTest(task, beforeContext, report) {
  // AVA: each test's `t.context` starts as a shallow copy of what `before` hooks set
  const context = { value: beforeContext.value !== null && typeof beforeContext.value === 'object' ? { ...beforeContext.value } : beforeContext.value };
  const suffix = ` for ${task.title}`;
  let hooksOk = await runHooks(registry.beforeEach, context, suffix, report);
  let result = { passed: false, error: new Error('a beforeEach hook failed'), knownFailing: task.failing, logs: [] };
  if (hooksOk) {
    result = await new Attempt(task, context, { isHook: false }).run();
    if (result.passed) hooksOk = await runHooks(registry.afterEach, context, suffix, report);
  }
  const alwaysOk = await runHooks(registry.afterEachAlways, context, suffix, report);
  report.tests.push({
    title: task.title,
    passed: result.passed && hooksOk && alwaysOk,
    knownFailing: task.failing,
    failedWith: result.failedWith || null,
    error: result.error ? result.error.message : (hooksOk && alwaysOk ? null : 'an afterEach hook failed'),
    logs: result.logs,
  });
}

/**
 * Runs every registered test the way AVA's runner does. Resolves to
 * `{ tests: [{ title, passed, knownFailing, failedWith, error, logs }], hookFailures, skipped, todo }`
 * (`failedWith`: how a `test.failing` test's body failed)
 * in the order the tests finished (titles are unique).
 */
async function run() {
  const report = { tests: [], hookFailures: [], skipped: registry.skipped.map(s => s.title), todo: registry.todo.slice() };
  const beforeContext = { value: {} };
  // AVA: hooks and tests always begin asynchronously
  await null;
  if (!(await runHooks(registry.before, beforeContext, '', report))) return report;
  for (const task of registry.serial) await runTest(task, beforeContext, report);
  await Promise.all(registry.concurrent.map(task => runTest(task, beforeContext, report)));
  await runHooks(registry.after, beforeContext, '', report);
  await runHooks(registry.afterAlways, beforeContext, '', report);
  return report;
}

function makeInterface(list, metadata) {
  const fn = (title, implementation) => register(list, title, implementation, metadata);
  return fn;
}

const test = makeInterface(registry.concurrent, {});
test.serial = makeInterface(registry.serial, {});
test.failing = makeInterface(registry.concurrent, { failing: true });
test.serial.failing = makeInterface(registry.serial, { failing: true });
test.skip = (title, implementation) => register(registry.skipped, title, implementation, {});
test.serial.skip = test.skip;
test.todo = title => {
  registry.todo.push(title);
};
test.before = hook(registry.before, 'before');
test.beforeEach = hook(registry.beforeEach, 'beforeEach');
test.afterEach = hook(registry.afterEach, 'afterEach');
test.afterEach.always = hook(registry.afterEachAlways, 'afterEach.always');
test.after = hook(registry.after, 'after');
test.after.always = hook(registry.afterAlways, 'after.always');
test.serial.before = test.before;
test.serial.beforeEach = test.beforeEach;
test.serial.afterEach = test.afterEach;
test.serial.after = test.after;
test.only = unsupported('test.only()');
test.cb = unsupported('test.cb()');

module.exports = test;
module.exports.default = test;
module.exports.test = test;
module.exports.run = run;
module.exports.registered = () => registry.serial.length + registry.concurrent.length;
