'use strict';

/**
 * The JS side of `update()` and `transaction()` (the atomic sections are the
 * native core's: see core/src/store/atomic.rs): checks of what the caller's
 * function returns, the `tx` object a transaction's function gets, and the
 * merging of a transaction's change events into one delivery after it
 * commits.
 */

const { storeError } = require('./errors.js');
const { jsonEqual } = require('./values.js');

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/**
 * What an `update` function returned, checked: a thenable is a TypeError (the
 * function runs while every other writer waits; it must be synchronous), and
 * so is `undefined` (as `set(key, undefined)` is: a forgotten `return` must
 * not delete the user's data). Nothing is written in either case.
 */
function checkUpdateResult(key, next) {
  if (isThenable(next)) {
    // the caller's promise is not awaited: keep its rejection from going unhandled
    next.then(() => {}, () => {});
    throw new TypeError(`The function given to update(${JSON.stringify(key)}) returned a Promise; it must be synchronous (it runs while the store is locked for every other writer). Nothing was changed`);
  }
  if (next === undefined) {
    throw new TypeError(`The function given to update(${JSON.stringify(key)}) returned undefined; return the new value (to remove the key, use transaction(tx => tx.delete(key))). Nothing was changed`);
  }
}

function checkTransactionResult(result) {
  if (isThenable(result)) {
    result.then(() => {}, () => {});
    throw new TypeError('The function given to transaction() returned a Promise; it must be synchronous (it runs while the store is locked for every other writer). Nothing was changed');
  }
}

/**
 * The `tx` a transaction's function gets: `get`, `set`, `delete`, `has` of
 * `store`, usable only while the transaction runs.
 */
function makeTx(store) {
  let open = true;
  const live = () => {
    if (!open) throw storeError('E_TRANSACTION', 'This transaction has ended: its `tx` can no longer be used (use the store)');
  };
  const tx = Object.freeze({
    get(key, defaultValue) {
      live();
      return store.get(key, defaultValue);
    },
    set(key, value) {
      live();
      store.set(key, value);
    },
    delete(key) {
      live();
      store.delete(key);
    },
    has(key) {
      live();
      return store.has(key);
    },
  });
  return { tx, end() { open = false; } };
}

/**
 * A transaction's change lists (`[entries, literal]` in the order made) as
 * the lists to deliver once it commits: per key, its value before the
 * transaction and after it; with values (someone listens), keys that ended
 * where they started are left out.
 */
function mergeChanges(buffered, withValues) {
  const out = [[], []];
  const byKey = [new Map(), new Map()];
  for (const [entries, literal] of buffered) {
    const i = literal ? 0 : 1;
    for (const e of entries) {
      const seen = byKey[i].get(e.k);
      if (seen) {
        if ('n' in e) seen.n = e.n;
        else delete seen.n;
      } else {
        const m = { k: e.k };
        if ('o' in e) m.o = e.o;
        if ('n' in e) m.n = e.n;
        byKey[i].set(e.k, m);
        out[i].push(m);
      }
    }
  }
  // (without values — nobody listened — only the keys are known: kept)
  const changed = m => !withValues || ('o' in m) !== ('n' in m) || (('o' in m) && !jsonEqual(m.o, m.n));
  return { literal: out[0].filter(changed), paths: out[1].filter(changed) };
}

const OPERATIONS = ['increment', 'append', 'remove', 'toggle'];

/**
 * A renderer's declarative atomic operation (a function cannot cross IPC),
 * checked: `{ op: 'increment', by? }` (a finite number, default 1),
 * `{ op: 'append', value, unique? }`, `{ op: 'remove', value }` (every
 * element equal to `value`, compared as JSON), `{ op: 'toggle' }`. Returns
 * the function `update()` runs.
 */
function operationFn(key, operation) {
  if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) {
    throw new TypeError(`Expected the operation to be an object such as { op: 'increment', by: 1 }, got ${operation === null ? 'null' : Array.isArray(operation) ? 'an array' : typeof operation}`);
  }
  const { op } = operation;
  if (!OPERATIONS.includes(op)) throw new TypeError(`Expected \`op\` to be one of ${OPERATIONS.map(o => `'${o}'`).join(', ')}, got ${typeof op === 'string' ? JSON.stringify(op.slice(0, 40)) : typeof op}`);
  const where = JSON.stringify(key);
  const kind = v => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
  if (op === 'increment') {
    const by = operation.by === undefined ? 1 : operation.by;
    if (typeof by !== 'number' || !Number.isFinite(by)) throw new TypeError(`Expected \`by\` to be a finite number, got ${typeof by === 'number' ? by : typeof by}`);
    return (current = 0) => {
      if (typeof current !== 'number') throw new TypeError(`Cannot increment ${where}: it holds ${kind(current)}, not a number`);
      const next = current + by;
      if (!Number.isFinite(next)) throw new TypeError(`Cannot increment ${where}: the result is not a finite number`);
      return next;
    };
  }
  if (op === 'toggle') {
    return (current = false) => {
      if (typeof current !== 'boolean') throw new TypeError(`Cannot toggle ${where}: it holds ${kind(current)}, not a boolean`);
      return !current;
    };
  }
  if (!('value' in operation) || operation.value === undefined) throw new TypeError(`Expected \`value\` for the '${op}' operation`);
  const { value } = operation;
  if (op === 'append') {
    const unique = operation.unique === true;
    return (current = []) => {
      if (!Array.isArray(current)) throw new TypeError(`Cannot append to ${where}: it holds ${kind(current)}, not an array`);
      if (unique && current.some(v => jsonEqual(v, value))) return current;
      current.push(value);
      return current;
    };
  }
  // remove
  return (current = []) => {
    if (!Array.isArray(current)) throw new TypeError(`Cannot remove from ${where}: it holds ${kind(current)}, not an array`);
    return current.filter(v => !jsonEqual(v, value));
  };
}

module.exports = { checkUpdateResult, checkTransactionResult, makeTx, mergeChanges, operationFn, OPERATIONS };
