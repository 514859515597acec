'use strict';

/**
 * Value checks and JSON conversion, with electron-store's rules plus the ones it
 * lacks: BigInt, circular structures, symbol keys, Map and Set throw a TypeError
 * that names the key, before anything is written.
 */

const NON_JSON_TYPES = new Set(['undefined', 'symbol', 'function']);

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

/** Walks a value and throws on what JSON would silently lose or cannot encode. */
function inspect(value, path, stack) {
  const type = typeof value;
  if (type === 'bigint') {
    throw new TypeError(`Cannot store the BigInt at ${describe(path)}: JSON has no BigInt; convert it to a string or number first`);
  }
  if (type !== 'object' || value === null) return;
  if (typeof value.toJSON === 'function') return; // Date and friends: JSON.stringify calls it
  if (stack.includes(value)) {
    throw new TypeError(`Cannot store a circular structure: ${describe(path)} refers back to an object that contains it`);
  }
  if (value instanceof Map || value instanceof Set) {
    throw new TypeError(`Cannot store the ${value instanceof Map ? 'Map' : 'Set'} at ${describe(path)}: JSON would save it as {}; convert it with Object.fromEntries() or Array.from() first`);
  }
  stack.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) inspect(value[i], `${path}.${i}`, stack);
  } else {
    for (const k of Object.keys(value)) inspect(value[k], `${path}.${k}`, stack);
    const symbols = Object.getOwnPropertySymbols(value);
    for (const s of symbols) {
      if (Object.prototype.propertyIsEnumerable.call(value, s)) {
        throw new TypeError(`Cannot store the symbol key ${String(s)} at ${describe(path)}: JSON keys must be strings`);
      }
    }
  }
  stack.pop();
}

/**
 * Checks `value` (stored under `key`) and returns its JSON text. Nested
 * `undefined`/functions are dropped and Dates become ISO strings, as
 * `JSON.stringify` does.
 */
function toJsonText(key, value, holderKey = key) {
  checkValueType(key, value);
  const type = typeof value;
  if (type === 'string' || type === 'boolean' || value === null) return JSON.stringify(value);
  if (type === 'number') return Number.isFinite(value) ? String(value) : 'null';
  inspect(value, key, []);
  let text;
  try {
    if (typeof value.toJSON === 'function') {
      // toJSON(key) gets the property name, as when conf stringifies the whole store
      const prefix = `{${JSON.stringify(holderKey)}:`;
      const wrapped = JSON.stringify({ [holderKey]: value });
      text = wrapped.length > prefix.length + 1 ? wrapped.slice(prefix.length, -1) : undefined;
    } else {
      text = JSON.stringify(value);
    }
  } catch (error) {
    throw new TypeError(`Cannot store the value for key \`${key}\`: ${error.message}`);
  }
  if (text === undefined) {
    throw new TypeError(`Setting a value of type \`${typeof value}\` for key \`${key}\` is not allowed as it's not supported by JSON`);
  }
  return text;
}

/** dot-prop 6's path splitting (`\\.` escapes a dot). */
function segmentsOf(key, dotNotation) {
  if (!dotNotation) return [key];
  const parts = key.split('.');
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    let p = parts[i];
    while (p[p.length - 1] === '\\' && parts[i + 1] !== undefined) {
      p = p.slice(0, -1) + '.';
      p += parts[++i];
    }
    out.push(p);
  }
  return out;
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

module.exports = { checkValueType, toJsonText, segmentsOf, setPath, related };
