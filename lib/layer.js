'use strict';

/**
 * `defaultsLayer: true` on the JS side: the rules (the merge, `inspect`, the
 * schema over the view) are the core's (core/src/layer.rs); here only what
 * the events need. A change list names what changed in the user's values;
 * listeners hear what the app sees, so for `onChange('*')` (and IPC's
 * `store-changed`) the old and new values of each changed key are read from
 * the view before and after.
 */

const { jsonEqual } = require('./values.js');

/** The value at `segs` in a plain view object, as electron-store's `get` walks it. */
function valueAt(root, segs) {
  let node = root;
  for (const seg of segs) {
    if (node === null || node === undefined) return undefined;
    if (typeof node === 'string') {
      if (seg === 'length') return node.length;
      const i = /^(0|[1-9]\d*)$/.test(seg) ? Number(seg) : -1;
      node = i >= 0 && i < node.length ? node[i] : undefined;
      continue;
    }
    if (typeof node !== 'object') return undefined;
    if (Array.isArray(node) && seg === 'length') {
      node = node.length;
      continue;
    }
    node = Object.prototype.hasOwnProperty.call(node, seg) ? node[seg] : undefined;
  }
  return node;
}

/**
 * The entries of a change as the view shows them: `{ k, o, n }` with the
 * view's values before (`before`) and after (`after`) at each path; an entry
 * whose view value did not change is left out (a user value set to what the
 * default already showed).
 */
function viewEntries(entries, paths, before, after) {
  const out = [];
  const outPaths = [];
  for (let i = 0; i < entries.length; i++) {
    const o = valueAt(before, paths[i]);
    const n = valueAt(after, paths[i]);
    if (jsonEqual(o, n)) continue;
    const e = { k: entries[i].k };
    if (o !== undefined) e.o = o;
    if (n !== undefined) e.n = n;
    out.push(e);
    outPaths.push(paths[i]);
  }
  return { entries: out, paths: outPaths };
}

/** dot-prop's path for `segs` (`null` when a segment cannot be written as one). */
function joinSegments(segs) {
  if (segs.some(s => s.endsWith('\\'))) return null;
  return segs.map(s => s.replace(/\./g, '\\.')).join('.');
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * What `reset(key)` removes from the user's values: `key`, or — when that
 * leaves the user's object above it empty and that object merges over a
 * default object — the highest such object, so nothing of the user's is left
 * there (`inspect` then says `'default'` again). `inspect(k)`: the store's.
 */
function resetTarget(key, segs, inspect) {
  let target = segs;
  while (target.length > 1) {
    const parent = target.slice(0, -1);
    const parentKey = joinSegments(parent);
    if (parentKey === null) break;
    const i = inspect(parentKey);
    const only = isPlainObject(i.userValue) && Object.keys(i.userValue).length === 1 && Object.prototype.hasOwnProperty.call(i.userValue, target[target.length - 1]);
    if (!only || !isPlainObject(i.defaultValue)) break;
    target = parent;
  }
  return target === segs ? key : joinSegments(target);
}

module.exports = { valueAt, viewEntries, resetTarget };
