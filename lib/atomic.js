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
      if (arguments.length < 2 && (typeof key !== 'object' || key === null)) store.set(key, undefined);
      else store.set(key, value);
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

module.exports = { checkUpdateResult, checkTransactionResult, makeTx, mergeChanges };
