'use strict';

// Tests of the AVA shim itself, run by ../conf-suite.spec.js (one process, like
// an AVA worker): each title says whether AVA passes or fails it.

const test = require('./ava.js');

test('pass: assertions that hold', t => {
  t.is(1, 1);
  t.not(1, 2);
  t.true(true);
  t.false(false);
  t.deepEqual(Object.assign(Object.create(null), { a: [1, { b: 2 }] }), { a: [1, { b: 2 }] });
  t.notThrows(() => {});
});

test('fail: t.is compares with Object.is', t => {
  t.is({}, {});
});

test('fail: t.deepEqual sees an undefined-valued property', t => {
  t.deepEqual({ a: 1, b: undefined }, { a: 1 });
});

test('fail: t.true(1) is not t.truthy', t => {
  t.true(1);
});

test('pass: t.throws with the exact message', t => {
  const error = t.throws(() => {
    throw new TypeError('exact text');
  }, { message: 'exact text', instanceOf: TypeError, name: 'TypeError' });
  t.is(error.message, 'exact text');
});

test('fail: t.throws message is compared exactly, not as a substring', t => {
  t.throws(() => {
    throw new Error('exact text and more');
  }, { message: 'exact text' });
});

test('pass: t.throws with a RegExp message', t => {
  t.throws(() => {
    throw new Error('exact text and more');
  }, { message: /text and/ });
});

test('fail: t.throws when nothing is thrown', t => {
  t.throws(() => {});
});

test('fail: t.throws of a non-error', t => {
  t.throws(() => {
    throw 'a string'; // eslint-disable-line no-throw-literal
  });
});

test('fail: t.notThrows when it throws', t => {
  t.notThrows(() => {
    throw new Error('boom');
  });
});

test('fail: a failed assertion fails the test even if later ones pass', t => {
  t.is(1, 2);
  t.is(1, 1);
});

test('fail: t.plan counts', t => {
  t.plan(2);
  t.pass();
});

test('pass: t.plan met', t => {
  t.plan(2);
  t.pass();
  t.is(1, 1);
});

test('fail: no assertions', () => {});

test('fail: an exception thrown by the test', () => {
  throw new Error('thrown');
});

test('fail: a rejected promise', async t => {
  t.pass();
  await Promise.reject(new Error('rejected'));
});

test('pass: async test awaiting an assertion', async t => {
  await new Promise(resolve => setTimeout(resolve, 10));
  t.pass();
});

test.failing('pass: test.failing that fails', t => {
  t.is(1, 2);
});

test.failing('fail: test.failing that passes', t => {
  t.is(1, 1);
});

test.beforeEach(t => {
  t.context.fresh = (t.context.fresh || 0) + 1;
});

test('pass: each test has its own context from beforeEach', t => {
  t.is(t.context.fresh, 1);
});

if (require.main === module) {
  test.run().then(report => {
    process.stdout.write(JSON.stringify(report.tests.map(({ title, passed, error }) => ({ title, passed, error }))));
  });
}
