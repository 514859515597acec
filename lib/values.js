'use strict';

/**
 * Value checks and JSON conversion, with electron-store's rules plus the ones it
 * lacks: BigInt, circular structures, symbol keys, Map and Set throw a TypeError
 * that names the key, before anything is written.
 */

const { types } = require('node:util');
const { storeError } = require('./errors.js');
const { MAX_DEPTH, keySegments } = require('./loader.js');

const NON_JSON_TYPES = new Set(['undefined', 'symbol', 'function']);

/**
 * Values nested at most this deep are written with the engine's own
 * `JSON.stringify` (fast, but recursive: on Node's main thread it overflows
 * the stack past 4,172–5,673 levels, depending on the Node version, and
 * sooner when called from deep in the app's own stack). Deeper ones, up to
 * the store's limit, are written by `stringifyDeep`, which does not recurse.
 */
const ENGINE_STRINGIFY_DEPTH = 1000;

/** conf's check for the value given to `set(key, value)`. */
function checkValueType(key, value) {
  const type = typeof value;
  if (NON_JSON_TYPES.has(type)) {
    throw new TypeError(`Setting a value of type \`${type}\` for key \`${key}\` is not allowed as it's not supported by JSON`);
  }
}

function describe(path) {
  return `\`${path}\``;
}

// errors made here (a value JSON cannot hold), told apart from what a toJSON
// or a getter of the app's throws
const ownErrors = new WeakSet();

/** A TypeError (code E_INVALID_ARGUMENT) for a value JSON cannot hold. */
function valueError(message) {
  const error = storeError('E_INVALID_ARGUMENT', message);
  ownErrors.add(error);
  return error;
}

/** The error for a value that would nest deeper than the store's limit (the core's text). */
function tooDeepError(key) {
  return storeError('E_TOO_DEEP', `Cannot store the value for \`${key}\`: it would nest more than ${MAX_DEPTH} levels deep in the store (tad-store's limit; JSON.stringify cannot write much deeper either). Nothing was written`);
}

/** `key` followed by the segment each open container is at: the path of the value being looked at. */
function pathOf(key, open) {
  let path = key;
  for (const f of open) path += `.${f.seg}`;
  return path;
}

/**
 * Walks a value (with a heap stack: any nesting) and throws on what JSON would
 * silently lose or cannot encode, and on nesting deeper than `limit` levels.
 * Returns the value's nesting depth (containers; a value with `toJSON` counts
 * as a leaf: what it returns is checked when it is written). Problems are
 * found in the order a recursive walk meets them (an object's children before
 * its own symbol keys).
 */
function inspect(value, key, limit) {
  if (typeof value === 'bigint') {
    throw valueError(`Cannot store the BigInt at ${describe(key)}: JSON has no BigInt; convert it to a string or number first`);
  }
  if (typeof value !== 'object' || value === null || typeof value.toJSON === 'function') return 0;
  const open = []; // { v, keys, n, i, seg }
  const ancestors = new Set();
  let deepest = 0;
  const enter = (v) => {
    if (ancestors.has(v)) {
      throw valueError(`Cannot store a circular structure: ${describe(pathOf(key, open))} refers back to an object that contains it`);
    }
    if (v instanceof Map || v instanceof Set) {
      throw valueError(`Cannot store the ${v instanceof Map ? 'Map' : 'Set'} at ${describe(pathOf(key, open))}: JSON would save it as {}; convert it with Object.fromEntries() or Array.from() first`);
    }
    if (open.length + 1 > limit) throw tooDeepError(key);
    const isArray = Array.isArray(v);
    const keys = isArray ? null : Object.keys(v);
    open.push({ v, keys, n: isArray ? v.length : keys.length, i: 0, seg: undefined });
    ancestors.add(v);
    if (open.length > deepest) deepest = open.length;
  };
  enter(value);
  while (open.length > 0) {
    const f = open[open.length - 1];
    if (f.i < f.n) {
      const seg = f.keys === null ? f.i : f.keys[f.i];
      f.i++;
      f.seg = seg;
      const child = f.v[seg];
      if (typeof child === 'bigint') {
        throw valueError(`Cannot store the BigInt at ${describe(pathOf(key, open))}: JSON has no BigInt; convert it to a string or number first`);
      }
      if (typeof child === 'object' && child !== null && typeof child.toJSON !== 'function') enter(child);
      continue;
    }
    open.pop();
    ancestors.delete(f.v);
    if (f.keys !== null) {
      for (const s of Object.getOwnPropertySymbols(f.v)) {
        if (Object.prototype.propertyIsEnumerable.call(f.v, s)) {
          // (popped: the open containers now lead to this object)
          throw valueError(`Cannot store the symbol key ${String(s)} at ${describe(pathOf(key, open))}: JSON keys must be strings`);
        }
      }
    }
  }
  return deepest;
}

/** A Number, String, Boolean or BigInt object as its primitive, as `JSON.stringify` reads it. */
function unbox(v) {
  if (types.isNumberObject(v)) return Number(v);
  if (types.isStringObject(v)) return String(v);
  if (types.isBooleanObject(v)) return Boolean.prototype.valueOf.call(v);
  if (types.isBigIntObject(v)) return BigInt.prototype.valueOf.call(v);
  return v;
}

const OPENED = Symbol('opened');

/**
 * `JSON.stringify(value)` (what it returns for `toJSON(holderKey)`, boxed
 * primitives, functions, `undefined`), written with a heap stack instead of
 * recursion, so values as deep as the store's limit are written on any thread.
 * Throws (as `inspect` words them) on a BigInt, a circular structure, and on
 * nesting past the store's limit, `above` being the levels above the value in
 * the document. Returns `undefined` where `JSON.stringify` does.
 */
function stringifyDeep(key, value, holderKey, above) {
  const open = []; // { v, isArray, keys, n, i, wrote, seg }
  const ancestors = new Set();
  let out = '';
  const prepare = (v, name) => {
    if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
      const toJSON = v.toJSON;
      if (typeof toJSON === 'function') v = toJSON.call(v, name);
    }
    return typeof v === 'object' && v !== null ? unbox(v) : v;
  };
  const emit = (v) => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean': return v ? 'true' : 'false';
      case 'string': return JSON.stringify(v);
      case 'number': return Number.isFinite(v) ? String(v) : 'null';
      case 'bigint':
        throw valueError(`Cannot store the BigInt at ${describe(pathOf(key, open))}: JSON has no BigInt; convert it to a string or number first`);
      case 'object': {
        if (ancestors.has(v)) {
          throw valueError(`Cannot store a circular structure: ${describe(pathOf(key, open))} refers back to an object that contains it`);
        }
        if (open.length + 1 + above > MAX_DEPTH) throw tooDeepError(key);
        const isArray = Array.isArray(v);
        const keys = isArray ? null : Object.keys(v);
        open.push({ v, isArray, keys, n: isArray ? v.length : keys.length, i: 0, wrote: false, seg: undefined });
        ancestors.add(v);
        out += isArray ? '[' : '{';
        return OPENED;
      }
      default:
        return undefined; // undefined, a function, a symbol
    }
  };
  const top = emit(prepare(value, holderKey));
  if (top !== OPENED) return top;
  while (open.length > 0) {
    const f = open[open.length - 1];
    if (f.i === f.n) {
      open.pop();
      ancestors.delete(f.v);
      out += f.isArray ? ']' : '}';
      continue;
    }
    const seg = f.isArray ? String(f.i) : f.keys[f.i];
    f.i++;
    f.seg = seg;
    const child = prepare(f.v[seg], seg);
    if (!f.isArray && (child === undefined || typeof child === 'function' || typeof child === 'symbol')) continue;
    out += f.wrote ? ',' : '';
    f.wrote = true;
    if (!f.isArray) out += `${JSON.stringify(seg)}:`;
    const text = emit(child);
    if (text === undefined) out += 'null';
    else if (text !== OPENED) out += text;
  }
  return out;
}

/**
 * Checks `value` (stored under `key`) and returns its JSON text. Nested
 * `undefined`/functions are dropped and Dates become ISO strings, as
 * `JSON.stringify` does. `above`: the containers above the value in the
 * document (the key's segments; 0 for a whole document), or a function
 * giving it (only asked for a deep value): the value may nest at most
 * `MAX_DEPTH - above` levels (`E_TOO_DEEP`, a RangeError, otherwise).
 */
function toJsonText(key, value, holderKey = key, above = 1) {
  checkValueType(key, value);
  const type = typeof value;
  if (type === 'string' || type === 'boolean' || value === null) return JSON.stringify(value);
  if (type === 'number') return Number.isFinite(value) ? String(value) : 'null';
  const levels = () => (typeof above === 'function' ? above() : above);
  // a key has at least one segment: its exact count is asked for only when it matters
  const depth = inspect(value, key, MAX_DEPTH - (typeof above === 'number' ? above : 1));
  let text;
  try {
    if (depth > ENGINE_STRINGIFY_DEPTH) {
      if (depth + levels() > MAX_DEPTH) throw tooDeepError(key);
      text = stringifyDeep(key, value, holderKey, levels());
    } else if (typeof value.toJSON === 'function') {
      // toJSON(key) gets the property name, as when conf stringifies the whole store
      const prefix = `{${JSON.stringify(holderKey)}:`;
      const wrapped = JSON.stringify({ [holderKey]: value });
      text = wrapped.length > prefix.length + 1 ? wrapped.slice(prefix.length, -1) : undefined;
    } else {
      text = JSON.stringify(value);
    }
  } catch (error) {
    if (ownErrors.has(error) || (error && error.code === 'E_TOO_DEEP')) throw error;
    if (error instanceof RangeError && depth <= ENGINE_STRINGIFY_DEPTH) {
      // the engine's stack gave out: a toJSON returned something deep, or the
      // app called from deep in its own stack
      text = stringifyDeepChecked(key, value, holderKey, levels());
    } else {
      throw new TypeError(`Cannot store the value for key \`${key}\`: ${error.message}`);
    }
  }
  if (text === undefined) {
    throw new TypeError(`Setting a value of type \`${typeof value}\` for key \`${key}\` is not allowed as it's not supported by JSON`);
  }
  return text;
}

/** `stringifyDeep`, with errors other than tad-store's own worded as `toJsonText` words them. */
function stringifyDeepChecked(key, value, holderKey, above) {
  try {
    return stringifyDeep(key, value, holderKey, above);
  } catch (error) {
    if (ownErrors.has(error) || (error && error.code === 'E_TOO_DEEP')) throw error;
    throw new TypeError(`Cannot store the value for key \`${key}\`: ${error && error.message}`);
  }
}

/**
 * Deep equality of two values read from JSON (what `util.isDeepStrictEqual`
 * answers for them: key order aside, prototypes as JSON.parse makes them),
 * without recursion.
 */
function jsonEqual(a, b) {
  const todo = [a, b];
  while (todo.length > 0) {
    const y = todo.pop();
    const x = todo.pop();
    if (Object.is(x, y)) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return false;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) todo.push(x[i], y[i]);
      continue;
    }
    if (Array.isArray(y)) return false;
    const kx = Object.keys(x);
    if (kx.length !== Object.keys(y).length) return false;
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
      todo.push(x[k], y[k]);
    }
  }
  return true;
}

/**
 * A fresh copy of a value read from JSON, as `structuredClone` makes it
 * (plain objects and arrays; a `"__proto__"` key stays an own property),
 * without recursion.
 */
function jsonClone(value) {
  if (typeof value !== 'object' || value === null) return value;
  const fresh = v => (Array.isArray(v) ? [] : {});
  const root = fresh(value);
  const todo = [value, root];
  while (todo.length > 0) {
    const dst = todo.pop();
    const src = todo.pop();
    for (const k of Object.keys(src)) {
      let v = src[k];
      if (typeof v === 'object' && v !== null) {
        const copy = fresh(v);
        todo.push(v, copy);
        v = copy;
      }
      if (k === '__proto__') Object.defineProperty(dst, k, { value: v, writable: true, enumerable: true, configurable: true });
      else dst[k] = v;
    }
  }
  return root;
}

/** Segments of recently split keys, per dot notation (bounded: cleared when full). */
const SEGMENTS = [new Map(), new Map()];
const SEGMENTS_KEPT = 1024;

/**
 * dot-prop 6's path splitting (`\\.` escapes a dot), as the core splits keys
 * (`keySegments`: core/src/path.rs `split`; the renderer, which has no addon,
 * keeps a copy in lib/renderer.js checked against it). The arrays are shared:
 * callers must not change them.
 */
function segmentsOf(key, dotNotation) {
  const seen = SEGMENTS[dotNotation ? 1 : 0];
  let segs = seen.get(key);
  if (segs === undefined) {
    segs = Object.freeze(keySegments(key, dotNotation));
    if (seen.size >= SEGMENTS_KEPT) seen.clear();
    seen.set(key, segs);
  }
  return segs;
}

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * dot-prop 6's `set` on plain JS values (each missing or non-object step
 * becomes `{}`); a path with a forbidden segment is ignored, as dot-prop does.
 */
function setPath(object, segs, value) {
  if (segs.some(s => FORBIDDEN_SEGMENTS.has(s))) return;
  let node = object;
  for (let i = 0; i < segs.length; i++) {
    const p = segs[i];
    const child = node[p];
    if (child === null || typeof child !== 'object') node[p] = {};
    if (i === segs.length - 1) node[p] = value;
    node = node[p];
  }
}

/** True when one path is a prefix of the other (a change at one affects the other). */
function related(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

module.exports = { MAX_DEPTH, checkValueType, toJsonText, stringifyDeep, jsonEqual, jsonClone, segmentsOf, setPath, related };
