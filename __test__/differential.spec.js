'use strict';

// A differential fuzzer: random operation sequences run on conf@10.2 (what
// electron-store 8 runs on) and on tad-store in the same process, every
// result compared, the whole store compared after every operation and the
// file bytes at every reopen and at the end of each round. Keys and values
// are drawn to hit the hard cases: unpaired surrogates, U+FDD0 (the core's
// encoding mark) and U+FFFD, escaped dots, numeric segments on arrays,
// `length` on arrays and strings, empty segments. Between operations the
// files are swapped (a file conf wrote opened by tad-store and vice versa)
// and damaged in ways JSON.parse still accepts (invalid UTF-8 inside
// strings, other escapes, whitespace, duplicate keys).
//
// Where tad-store is deliberately stricter (see README, "Deliberate
// differences from electron-store") the operation is compared as "tad-store
// throws a TypeError / reads the value as absent, conf does X", and conf's
// state is put back if it changed.
//
// Half the rounds give both a random `schema` with defaults (conf applies
// them with Ajv's useDefaults on every write): nested ones, ones under
// parents that do not exist, defaults inside defaults, `items` (one schema
// and tuples), `allOf`, `patternProperties`, `additionalProperties`,
// `dependencies`, names shared with the `defaults` option.
//
// TAD_DIFF_SEED=<n> changes the seed, TAD_DIFF_OPS=<n> the number of
// operations. A divergence fails with the seed, round and operation index.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');

const { Store, Conf, tmpDir, rng } = require('./helpers.js');

const SEED = process.env.TAD_DIFF_SEED === undefined ? 20250611 : Number(process.env.TAD_DIFF_SEED);
const TOTAL_OPS = process.env.TAD_DIFF_OPS === undefined ? 4000 : Number(process.env.TAD_DIFF_OPS);
const OPS_PER_ROUND = 250;
// the share of rounds that run with a random schema with defaults
const SCHEMA_ROUNDS = process.env.TAD_DIFF_SCHEMA === undefined ? 0.5 : Number(process.env.TAD_DIFF_SCHEMA);

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);
// inherited members conf reaches through dot-prop (`object[segment]`)
const INHERITED = ['toString', 'valueOf', 'hasOwnProperty', 'map', 'push', 'toFixed', 'charAt', 'at', 'indexOf'];

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

const SEGMENTS = [
  'a', 'b', 'c', 'list', 'name', 'x', 'settings', 'theme', 'length', 'length',
  '0', '1', '2', '3', '5', '01', '-1', '00', '',
  'é', '日本', '😀', 'a b', '\t', '"q"', 'back\\slash',
  '\ud800', '\udc00', 'k\ud800', 'k\udc00', '\udbff\udbff', '\ude00\ud83d', '\ud83d\ude00',
  '\ufdd0', '\ufdd0\ue000', '\ufdd0\ufdd0', '\ue000', '\ufffd', 'k\ufffd', '\uffff',
];

const STRINGS = [
  '', 'abc', 'dark', 'light', 'a😀', '😀', 'é', '\ud800', 'x\udc00y', '\udbff', '\ude00\ud83d',
  '\ufdd0', '\ufdd0\ue000', '\ufdd0\ud800', '\ufffd', 'line\nbreak', '\u2028', 'quote"', '\u0000\u001f', '\\',
];

function randomString(r) {
  if (r() < 0.7) return r.pick(STRINGS);
  let s = '';
  const n = r.int(6);
  for (let i = 0; i < n; i++) {
    const p = r();
    if (p < 0.4) s += String.fromCharCode(0x61 + r.int(26));
    else if (p < 0.6) s += String.fromCharCode(0xd800 + r.int(0x800)); // any surrogate, paired or not
    else if (p < 0.7) s += '\ufdd0';
    else if (p < 0.8) s += String.fromCharCode(0xe000 + r.int(0x800));
    else s += String.fromCodePoint(0x80 + r.int(0x2ff00));
  }
  return s;
}

function randomKeyName(r) {
  return r() < 0.8 ? r.pick(SEGMENTS) : randomString(r);
}

const NUMBERS = [0, -0, 1, -1, 1.5, 0.1 + 0.2, 1e21, 1e-7, 2 ** 53, -1e300, 5e-324, NaN, Infinity];

// `undefined` members in values set (off in schema rounds: conf's Ajv fills
// a default into such a member in its place — a tuple default into an
// `undefined` array element, a property default at an `undefined` key's
// position — where tad-store, given JSON, has no such member: README,
// "Schema defaults")
let undefinedMembers = true;
// the round's schema (paths and values are drawn to reach its defaults)
let fuzzSchema = null;

function randomValue(r, depth = 0) {
  if (fuzzSchema && r() < 0.2) return r.pick([{}, [], { x: {} }, [{}, {}], { a: {}, list: [] }, {}]);
  const p = r();
  if (depth >= 3 || p < 0.45) {
    const q = r();
    if (q < 0.15) return null;
    if (q < 0.3) return r() < 0.5;
    if (q < 0.55) return r() < 0.5 ? r.pick(NUMBERS) : r.int(100);
    return randomString(r);
  }
  if (p < 0.7) {
    const n = r.int(4);
    const a = [];
    for (let i = 0; i < n; i++) a.push(undefinedMembers && r() < 0.05 ? undefined : randomValue(r, depth + 1));
    return a;
  }
  const o = {};
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const k = randomKeyName(r);
    if (FORBIDDEN.has(k)) continue;
    o[k] = undefinedMembers && r() < 0.05 ? undefined : randomValue(r, depth + 1);
  }
  if (r() < 0.05) o.when = new Date(Date.UTC(2024, 0, 1 + r.int(300)));
  return o;
}

/** A path the schema describes: its properties, items and tuple positions. */
function schemaSegments(r, schema) {
  const segs = [];
  let node = { properties: schema };
  while (node && typeof node === 'object' && (segs.length === 0 || r() < 0.6)) {
    const options = [];
    for (const k of Object.keys(node.properties || {})) options.push([k, node.properties[k]]);
    if (Array.isArray(node.items)) node.items.forEach((sub, i) => options.push([String(i), sub]));
    else if (node.items) options.push([String(r.int(3)), node.items]);
    if (node.patternProperties) options.push([String(r.int(3)), node.patternProperties['^\\d']]);
    if (node.additionalProperties) options.push(['extra', node.additionalProperties]);
    if (options.length === 0) break;
    const [k, sub] = r.pick(options);
    segs.push(k);
    node = sub;
  }
  return segs;
}

/** A key path: 1–3 segments, dots inside a segment escaped (or, sometimes, not). */
function randomPath(r, dot) {
  if (fuzzSchema && r() < 0.5) {
    const segs = schemaSegments(r, fuzzSchema);
    if (segs.length > 0) return dot ? segs.join('.') : segs[0];
  }
  const n = 1 + r.int(3);
  const segs = [];
  for (let i = 0; i < n; i++) segs.push(randomKeyName(r));
  if (r() < 0.1) segs.push(r.pick(INHERITED));
  if (r() < 0.02) segs.splice(r.int(segs.length), 0, r.pick([...FORBIDDEN]));
  if (!dot) return segs.join(r() < 0.5 ? '.' : '');
  const key = segs.map(s => (r() < 0.1 ? s : s.replace(/\./g, '\\.'))).join('.');
  if (r() < 0.05) return `${key}.a\\.b`;
  if (r() < 0.03) return `${key}\\`;
  return key;
}


// ---------------------------------------------------------------------------
// Schemas with defaults
// ---------------------------------------------------------------------------

// property names: the keys the operations use most ('theme' and 'list' are
// `defaults` keys too); no digits (a `patternProperties` '^\d' must not match
// a property, which Ajv's strict mode refuses)
const SCHEMA_NAMES = ['a', 'b', 'c', 'list', 'name', 'x', 'settings', 'theme', 'length'];
const DEFAULT_VALUES = [0, 1, -1.5, true, false, null, '', 'dark', 'é😀', [], [1, 2], {}, { k: 1 }, { nested: { deep: [true] } }];

function randomDefault(r) {
  return structuredClone(r.pick(DEFAULT_VALUES));
}

/**
 * A schema with defaults in every place Ajv applies them, and none where Ajv
 * refuses them (anyOf, oneOf, not, if, contains, propertyNames). No `type`
 * (any value may be set, as without a schema) and no if/then/else (Ajv
 * evaluates a condition once per pass, before the defaults it selects: one
 * pass and the next can differ). `info.tuples`: a tuple has defaults.
 */
function randomSubschema(r, depth, info) {
  const p = r();
  const s = {};
  if (depth >= 3 || p < 0.3) {
    if (r() < 0.75) s.default = randomDefault(r);
    return s;
  }
  if (p < 0.7) {
    s.properties = {};
    const n = 1 + r.int(3);
    for (let i = 0; i < n; i++) s.properties[r.pick(SCHEMA_NAMES)] = randomSubschema(r, depth + 1, info);
    if (r() < 0.45) s.default = r() < 0.6 ? {} : { [r.pick(SCHEMA_NAMES)]: randomDefault(r) };
    const q = r();
    if (q < 0.15) s.allOf = [{ properties: { [r.pick(SCHEMA_NAMES)]: { default: randomDefault(r) } } }];
    else if (q < 0.25) s.patternProperties = { '^\\d': randomSubschema(r, depth + 1, info) };
    else if (q < 0.35) s.additionalProperties = randomSubschema(r, depth + 1, info);
    else if (q < 0.4) s.dependencies = { [r.pick(SCHEMA_NAMES)]: { properties: { [r.pick(SCHEMA_NAMES)]: { default: randomDefault(r) } } } };
    return s;
  }
  if (p < 0.85) {
    s.items = randomSubschema(r, depth + 1, info);
  } else {
    const n = 1 + r.int(3);
    s.items = [];
    for (let i = 0; i < n; i++) {
      const item = randomSubschema(r, depth + 1, info);
      if ('default' in item) info.tuples = true;
      s.items.push(item);
    }
  }
  if (r() < 0.3) s.default = [];
  return s;
}

function randomSchema(r, info) {
  const schema = {};
  const n = 1 + r.int(5);
  for (let i = 0; i < n; i++) schema[r.pick(SCHEMA_NAMES)] = randomSubschema(r, 0, info);
  return schema;
}

// ---------------------------------------------------------------------------
// A model of dot-prop's walk, to tell the deliberate differences apart
// ---------------------------------------------------------------------------

/** dot-prop 6's path splitting. */
function segmentsOf(key, dot) {
  if (!dot) return [key];
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

/** Whether `segment` is an own data property of a JSON value (as electron-store stores it). */
function ownMember(node, segment) {
  if (typeof node === 'string') return segment === 'length' || (/^(0|[1-9]\d*)$/.test(segment) && Number(segment) < node.length);
  if (node === null || typeof node !== 'object') return false;
  return Object.prototype.hasOwnProperty.call(node, segment);
}

/**
 * Walks `segs` from `root` like dot-prop's `get` (and `has`, `delete`): the
 * index of the first step that reaches an inherited member (`toString` of an
 * object, `map` of an array, `toFixed` of a number…), or -1.
 */
function inheritedStep(root, segs) {
  let node = root;
  for (let i = 0; i < segs.length; i++) {
    if (node === undefined || node === null) return -1;
    const s = segs[i];
    if (!ownMember(node, s)) return s in Object(node) ? i : -1;
    node = node[s];
  }
  return -1;
}

/**
 * The same for dot-prop's `set`, which turns each missing or non-object step
 * into `{}` (whose inherited members are Object.prototype's) and walks into
 * whatever object or function it finds: the first non-final step that is an
 * inherited member, or -1.
 */
function inheritedSetStep(root, segs) {
  let node = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i];
    if (Array.isArray(node) && s === 'length') return -1; // both throw a RangeError
    if (!ownMember(node, s)) {
      if (s in node) return i;
      node = {};
      continue;
    }
    const child = node[s];
    node = child !== null && typeof child === 'object' ? child : {};
  }
  return -1;
}

// ---------------------------------------------------------------------------
// Running one operation on both
// ---------------------------------------------------------------------------

function attempt(fn) {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

function describeOutcome(o) {
  if (o.error) return `throws ${o.error.constructor.name}: ${o.error.message}`;
  if (typeof o.value === 'function') return 'returns a function';
  return `returns ${show(o.value)}`;
}

function show(v) {
  if (v === undefined) return 'undefined';
  try {
    const s = JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x));
    return s === undefined ? String(v) : s.length > 300 ? `${s.slice(0, 300)}…` : s;
  } catch {
    return String(v);
  }
}

/** `v` with array holes as `null` (what JSON makes of them). */
function withoutHoles(v) {
  if (Array.isArray(v)) {
    const out = [];
    for (let i = 0; i < v.length; i++) out.push(i in v ? withoutHoles(v[i]) : null);
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const out = Object.getPrototypeOf(v) === null ? Object.create(null) : {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: withoutHoles(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** The whole store as a comparable value (entries in order). */
function snapshot(store) {
  return Object.entries(store.store);
}

class Divergence extends Error {}

function diverge(ctx, what) {
  throw new Divergence(`seed ${SEED}, round ${ctx.round}, op ${ctx.index} (${ctx.label}): ${what}\n  reproduce: TAD_DIFF_SEED=${SEED} node --test __test__/differential.spec.js`);
}

/**
 * A session: one tad-store and one conf instance on their own directories,
 * with the same options.
 */
class Session {
  constructor(r, round) {
    this.r = r;
    this.round = round;
    this.dirs = [];
    this.dot = r() < 0.85;
    this.opts = { accessPropertiesByDotNotation: this.dot };
    if (r() < 0.4) this.opts.defaults = { theme: 'dark', list: [1, 2], 'a.b': { c: 1 }, '\ud800': 'lone default' };
    const info = { tuples: false };
    if (r() < SCHEMA_ROUNDS) this.opts.schema = randomSchema(r, info);
    this.schema = this.opts.schema || null;
    undefinedMembers = !this.schema;
    fuzzSchema = this.schema;
    this.tadDir = this.dir();
    this.confDir = this.dir();
    this.tad = this.openTad(this.tadDir);
    this.conf = this.openConf(this.confDir);
    this.subs = [];
    // the bytes tad-store's file was given by a swap or damage (kept until a change)
    this.untouched = null;
    this.stats = { ops: 0, deliberate: 0, skipped: 0, reopens: 0, swaps: 0, damaged: 0, invalidUtf8Files: 0, schemaRounds: this.schema ? 1 : 0, defaultsReapplied: 0, openFills: 0 };
    // the bytes conf's file had when conf opened it (conf reads a file
    // through Ajv without writing it: see compareFiles)
    this.confOpened = null;
  }

  dir() {
    const d = tmpDir();
    this.dirs.push(d);
    return d;
  }

  openTad(cwd) {
    return new Store({ ...this.opts, cwd, backups: false, history: { maxEntries: 10000 } });
  }

  openConf(cwd) {
    return new Conf({ ...this.opts, cwd, configName: 'config' });
  }

  close() {
    if (!this.tad.closed) this.tad.close();
    for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
  }

  /** Compares the whole stores (values and key order). */
  compareStores(ctx) {
    const a = snapshot(this.tad);
    // (conf's read of a file it has not rewritten yet can hold an array hole
    // where Ajv put a tuple default past the end: null once written, as here)
    const b = snapshot(this.conf).map(([k, v]) => [k, withoutHoles(v)]);
    if (!isDeepStrictEqual(a, b)) diverge(ctx, `stores differ\n  tad:  ${show(Object.fromEntries(a))}\n  conf: ${show(Object.fromEntries(b))}\n  keys tad: ${show(a.map(e => e[0]))}\n  keys conf: ${show(b.map(e => e[0]))}`);
  }

  /** Compares the files: parsed, and byte for byte. */
  compareFiles(ctx) {
    this.tad.flushSync({ file: true });
    const a = fs.existsSync(this.tad.path) ? fs.readFileSync(this.tad.path) : null;
    const b = fs.existsSync(this.conf.path) ? fs.readFileSync(this.conf.path) : null;
    if (a === null || b === null) {
      // neither writes a file before the first change
      // (conf also writes on a set that changes nothing, tad-store does not)
      if (a === null && b !== null && isDeepStrictEqual(Object.entries(JSON.parse(b.toString('utf8'))), snapshot(this.tad))) return;
      if (a !== b) diverge(ctx, `only ${a === null ? 'conf' : 'tad-store'} wrote a file`);
      return;
    }
    const pa = JSON.parse(a.toString('utf8'));
    const pb = JSON.parse(b.toString('utf8'));
    // conf reads a file lacking schema defaults through Ajv (its reads show
    // them) and writes them with its next change; tad-store writes them when
    // it opens the file (README: deliberate differences)
    if (this.schema && this.confOpened && b.equals(this.confOpened) && !isDeepStrictEqual(Object.entries(pb), snapshot(this.conf))) {
      if (!a.equals(Buffer.from(JSON.stringify(this.conf.store, null, '\t')))) diverge(ctx, `tad-store's file is not conf's reads with the defaults filled\n  tad:  ${a.toString('utf8')}\n  conf reads: ${show(this.conf.store)}`);
      this.stats.openFills++;
      return;
    }
    if (!isDeepStrictEqual(Object.entries(pa), Object.entries(pb))) diverge(ctx, `files parse differently\n  tad:  ${a.toString('utf8')}\n  conf: ${b.toString('utf8')}`);
    // conf rewrites its file on every set, even one that changes nothing;
    // tad-store leaves a file it opened as it is until a change
    if (!a.equals(b) && !(this.untouched && a.equals(this.untouched))) diverge(ctx, `file bytes differ\n  tad:  ${a.toString('hex').slice(0, 400)}\n  conf: ${b.toString('hex').slice(0, 400)}`);
  }

  /** Subscribes onDidChange on a random key on both (calls are compared op by op). */
  subscribe(key) {
    const calls = { tad: [], conf: [] };
    const offTad = this.tad.onDidChange(key, (n, o) => calls.tad.push([n, o]));
    const offConf = this.conf.onDidChange(key, (n, o) => calls.conf.push([n, o]));
    this.subs.push({ key, calls, offTad, offConf });
  }

  dropSubscriptions() {
    for (const s of this.subs) {
      s.offTad();
      s.offConf();
    }
    this.subs = [];
  }

  compareEvents(ctx, discard, collapse = false, modelBefore = null) {
    // conf's clear() is several writes (its listeners see each state between);
    // tad-store's is one change: compared as what changed from first to last
    const net = calls => {
      if (!collapse || calls.length === 0) return calls;
      const o = calls[0][1];
      const n = calls[calls.length - 1][0];
      return isDeepStrictEqual(n, o) ? [] : [[n, o]];
    };
    const model = this.conf.store;
    for (const s of this.subs) {
      // a key that now passes through an inherited member (`x.hasOwnProperty`
      // once `x` is an object): conf's listener sees the prototype's function,
      // tad-store reads it as absent (a deliberate difference)
      const segs = segmentsOf(s.key, this.dot);
      const inherited = inheritedStep(model, segs) !== -1 || (modelBefore !== null && inheritedStep(modelBefore, segs) !== -1);
      if (!discard && !inherited && !isDeepStrictEqual(net(s.calls.tad), net(s.calls.conf))) {
        diverge(ctx, `onDidChange(${show(s.key)}) calls differ\n  tad:  ${show(s.calls.tad)}\n  conf: ${show(s.calls.conf)}`);
      }
      s.calls.tad.length = 0;
      s.calls.conf.length = 0;
    }
  }

  /**
   * Runs `op` on both. `deliberate(confOutcome)` (optional) says the case is
   * one where tad-store is deliberately stricter: it returns null when the
   * tad outcome is as documented, else a description of what went wrong.
   * `touchesConf: false` keeps the operation off conf (it would write into
   * a shared prototype there).
   */
  run(ctx, label, op, deliberate, touchesConf = true, collapse = false) {
    ctx.label = label;
    const modelBefore = this.subs.length > 0 ? this.conf.store : null;
    this.stats.ops++;
    const before = deliberate ? this.conf.store : null;
    const t = attempt(() => op(this.tad));
    if (deliberate) {
      this.stats.deliberate++;
      const c = touchesConf ? attempt(() => op(this.conf)) : { skipped: true };
      const wrong = deliberate(t, c);
      if (wrong) diverge(ctx, `deliberate difference not as documented: ${wrong}\n  tad ${describeOutcome(t)}; conf ${c.skipped ? 'not run' : describeOutcome(c)}`);
      // put conf back where it would have diverged from the stricter behaviour
      const after = this.conf.store;
      if (!isDeepStrictEqual(Object.entries(after), Object.entries(before))) this.conf.store = before;
      this.compareEvents(ctx, true);
      this.compareStores(ctx);
      return;
    }
    const c = attempt(() => op(this.conf));
    if (t.error || c.error) {
      if (!(t.error && c.error)) diverge(ctx, `tad ${describeOutcome(t)}; conf ${describeOutcome(c)}`);
      if (t.error.constructor.name !== c.error.constructor.name) diverge(ctx, `error classes differ: tad ${describeOutcome(t)}; conf ${describeOutcome(c)}`);
    } else if (!isDeepStrictEqual(t.value, c.value)) {
      diverge(ctx, `results differ: tad ${describeOutcome(t)}; conf ${describeOutcome(c)}`);
    }
    this.compareEvents(ctx, false, collapse, modelBefore);
    this.compareStores(ctx);
  }
}

/** tad-store throws a TypeError (its documented strictness). */
const tadThrowsTypeError = t => (t.error instanceof TypeError ? null : 'tad-store should throw a TypeError');

/** tad-store reads the value as absent where conf reaches an inherited member. */
function tadReadsAbsent(expected) {
  return t => (!t.error && isDeepStrictEqual(t.value, expected) ? null : `tad-store should return ${show(expected)}`);
}

// ---------------------------------------------------------------------------
// The operations
// ---------------------------------------------------------------------------

function keyDeliberation(session, key) {
  if (typeof key !== 'string') return 'non-string';
  const segs = segmentsOf(key, session.dot);
  if (segs.some(s => FORBIDDEN.has(s))) return 'forbidden';
  return null;
}

function isReserved(session, key) {
  return session.dot ? key === '__internal__' || key.startsWith('__internal__.') : key === '__internal__';
}

function opGet(session, ctx) {
  const { r } = session;
  const key = r() < 0.03 ? r.pick([5, null, undefined, {}]) : randomPath(r, session.dot);
  const withDefault = r() < 0.3;
  const dflt = withDefault ? randomValue(r) : undefined;
  const op = s => (withDefault ? s.get(key, dflt) : s.get(key));
  const label = `get(${show(key)}${withDefault ? `, ${show(dflt)}` : ''})`;
  const kind = keyDeliberation(session, key);
  if (kind) return session.run(ctx, label, op, tadThrowsTypeError);
  const step = inheritedStep(session.conf.store, segmentsOf(key, session.dot));
  if (step !== -1) return session.run(ctx, label, op, tadReadsAbsent(dflt));
  session.run(ctx, label, op);
}

function opHas(session, ctx) {
  const { r } = session;
  const key = r() < 0.03 ? r.pick([5, null]) : randomPath(r, session.dot);
  const op = s => s.has(key);
  const label = `has(${show(key)})`;
  if (keyDeliberation(session, key)) return session.run(ctx, label, op, tadThrowsTypeError);
  if (inheritedStep(session.conf.store, segmentsOf(key, session.dot)) !== -1) return session.run(ctx, label, op, tadReadsAbsent(false));
  session.run(ctx, label, op);
}

function strictValue(r) {
  const p = r();
  if (p < 0.25) return { value: new Map([['a', 1]]), why: 'Map' };
  if (p < 0.5) return { value: new Set([1]), why: 'Set' };
  if (p < 0.75) return { value: { [Symbol('s')]: 1, a: 1 }, why: 'symbol key' };
  return { value: { nested: { list: [new Map()] } }, why: 'nested Map' };
}

function opSet(session, ctx) {
  const { r } = session;
  const key = randomPath(r, session.dot);
  const segs = segmentsOf(key, session.dot);
  let value;
  let strict = null;
  const p = r();
  if (p < 0.03) {
    ({ value, why: strict } = strictValue(r));
  } else if (p < 0.05) {
    value = r.pick([undefined, () => 1, Symbol('x')]); // conf's own type check: both throw a TypeError
  } else if (p < 0.06) {
    // circular or BigInt: tad-store always throws a TypeError; conf's
    // JSON.stringify throws one too, unless the value lands where JSON never
    // looks (a non-index property of an array)
    if (r() < 0.5) {
      value = { self: null };
      value.self = value;
      strict = 'circular';
    } else {
      value = { big: 10n };
      strict = 'BigInt';
    }
  } else {
    value = randomValue(r);
  }
  const label = `set(${show(key)}, ${strict ? strict : show(value)})`;
  const op = s => s.set(key, value);
  if (isReserved(session, key) || keyDeliberation(session, key) || strict) return session.run(ctx, label, op, tadThrowsTypeError);
  if (inheritedSetStep(session.conf.store, segs) !== -1) {
    // conf would walk into the prototype's member (and write a property on
    // a shared built-in function); tad-store creates the key. Run on tad
    // only would make the stores diverge: not run.
    session.stats.skipped++;
    return;
  }
  const before = session.schema ? JSON.stringify(session.conf.store) : null;
  session.run(ctx, label, op);
  // (counted on conf, the reference: the value read back has defaults in it)
  if (session.schema && JSON.stringify(session.conf.store) !== before && value !== undefined && value !== null && typeof value === 'object') {
    const written = JSON.stringify(session.conf.get(key));
    if (written !== undefined && written !== JSON.stringify(value)) session.stats.defaultsReapplied++;
  }
}

function opSetObject(session, ctx) {
  const { r } = session;
  const object = {};
  const n = 1 + r.int(3);
  let deliberate = false;
  let skip = false;
  const model = session.conf.store;
  for (let i = 0; i < n; i++) {
    const key = randomPath(r, session.dot);
    if (FORBIDDEN.has(key)) continue; // an own '__proto__' cannot be made by a literal here
    object[key] = randomValue(r);
    const segs = segmentsOf(key, session.dot);
    if (keyDeliberation(session, key) || isReserved(session, key)) deliberate = true;
    if (inheritedSetStep(model, segs) !== -1) skip = true;
  }
  if (skip) {
    session.stats.skipped++;
    return;
  }
  const label = `set(${show(object)})`;
  const op = s => s.set(object);
  session.run(ctx, label, op, deliberate ? tadThrowsTypeError : undefined);
}

function opDelete(session, ctx) {
  const { r } = session;
  const key = r() < 0.02 ? 7 : randomPath(r, session.dot);
  const label = `delete(${show(key)})`;
  const op = s => s.delete(key);
  if (keyDeliberation(session, key)) return session.run(ctx, label, op, tadThrowsTypeError);
  const segs = segmentsOf(key, session.dot);
  const step = inheritedStep(session.conf.store, segs);
  if (step !== -1 && step < segs.length - 1) {
    session.stats.skipped++; // conf would delete a property of a shared built-in
    return;
  }
  const had = session.schema && session.conf.has(key);
  session.run(ctx, label, op);
  if (had && session.conf.has(key)) session.stats.defaultsReapplied++; // a default came back
  
}

function opStoreSet(session, ctx) {
  const { r } = session;
  if (r() < 0.15) {
    const value = r.pick([0, 'text', [1, 2], null, true]);
    return session.run(ctx, `store = ${show(value)}`, s => { s.store = value; }, tadThrowsTypeError);
  }
  const value = randomValue(r, 1);
  const object = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { v: value };
  if (Object.keys(object).some(k => k === '__internal__')) delete object.__internal__;
  session.run(ctx, `store = ${show(object)}`, s => { s.store = object; });
}

function opMisc(session, ctx) {
  const { r } = session;
  const p = r();
  if (p < 0.25) return session.run(ctx, 'size', s => s.size);
  if (p < 0.5) return session.run(ctx, 'iterate', s => [...s]);
  if (p < 0.65) return session.run(ctx, 'store', s => s.store);
  if (p < 0.8) {
    const keys = ['theme', 'list', 'a.b', '\ud800', randomPath(r, session.dot), ...Object.keys(session.schema || {})].filter(() => r() < 0.5);
    if (keys.some(k => keyDeliberation(session, k))) return undefined;
    return session.run(ctx, `reset(${keys.map(show).join(', ')})`, s => s.reset(...keys));
  }
  if (p < 0.85) return session.run(ctx, 'clear()', s => s.clear(), undefined, true, true);
  // subscribe / unsubscribe
  if (session.subs.length > 3 || r() < 0.3) return session.dropSubscriptions();
  const key = randomPath(r, session.dot);
  if (keyDeliberation(session, key)) return undefined;
  if (inheritedStep(session.conf.store, segmentsOf(key, session.dot)) !== -1) return undefined;
  session.subscribe(key);
  return undefined;
}

// ---------------------------------------------------------------------------
// Files: reopen, swap, damage
// ---------------------------------------------------------------------------

function reopen(session, ctx) {
  ctx.label = 'reopen';
  session.stats.reopens++;
  session.compareFiles(ctx);
  session.dropSubscriptions();
  const bytes = fs.existsSync(session.tad.path) ? fs.readFileSync(session.tad.path) : Buffer.alloc(0);
  session.tad.close();
  session.tad = session.openTad(session.tadDir);
  session.confOpened = fs.existsSync(session.conf.path) ? fs.readFileSync(session.conf.path) : null;
  session.conf = session.openConf(session.confDir);
  checkUtf8Report(session, ctx, bytes);
  session.compareStores(ctx);
  session.compareFiles(ctx);
}

/** The file conf wrote opened by tad-store, and tad-store's by conf. */
function swap(session, ctx) {
  ctx.label = 'swap files';
  session.compareFiles(ctx);
  session.dropSubscriptions();
  if (!fs.existsSync(session.conf.path)) return; // nothing written yet
  session.stats.swaps++;
  const confBytes = fs.readFileSync(session.conf.path);
  // (tad-store has no file yet when conf's only writes changed nothing: conf's is then used)
  const tadBytes = fs.existsSync(session.tad.path) ? fs.readFileSync(session.tad.path) : confBytes;
  session.tad.close();
  const newTad = session.dir();
  const newConf = session.dir();
  fs.writeFileSync(path.join(newTad, 'config.json'), confBytes);
  fs.writeFileSync(path.join(newConf, 'config.json'), tadBytes);
  session.tadDir = newTad;
  session.confDir = newConf;
  session.untouched = confBytes;
  session.confOpened = tadBytes;
  session.tad = session.openTad(newTad);
  session.conf = session.openConf(newConf);
  checkUtf8Report(session, ctx, confBytes);
  session.compareStores(ctx);
  session.compareFiles(ctx);
}

// process warnings, collected while the fuzzer runs
const warnings = [];

/** The open report and the warning say whether the file held invalid UTF-8. */
function checkUtf8Report(session, ctx, bytes) {
  let invalid = false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    invalid = true;
  }
  const info = session.tad.getStoreInfo().recovery;
  if (info.invalidUtf8 !== invalid) diverge(ctx, `recovery.invalidUtf8 is ${info.invalidUtf8} for a file ${invalid ? 'with' : 'without'} invalid UTF-8`);
  const warned = warnings.splice(0).includes('TAD_STORE_INVALID_UTF8');
  if (warned !== invalid) diverge(ctx, `TAD_STORE_INVALID_UTF8 warning ${invalid ? 'missing' : 'emitted for a valid file'}`);
}

/** Offsets inside JSON strings that are not inside an escape (up to the closing quote). */
function insertionPoints(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    if (buf[i] !== 0x22) {
      i++;
      continue;
    }
    i++;
    while (i < buf.length && buf[i] !== 0x22) {
      out.push(i);
      // (inside a UTF-8 sequence too: it only makes more invalid bytes)
      i += buf[i] === 0x5c ? (buf[i + 1] === 0x75 ? 6 : 2) : 1;
    }
    out.push(i);
    i++;
  }
  return out;
}

let damageCount = 0;

const INVALID_UTF8 = [[0xe9], [0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xe2, 0x82], [0x80, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xc3]];

/**
 * Damage that JSON.parse still accepts: invalid UTF-8 inside a string (a
 * Latin-1 editor), other escapes for the same characters, whitespace, a
 * duplicated key. Returns the new bytes and whether they hold invalid UTF-8.
 */
function damage(r, bytes) {
  const points = insertionPoints(bytes);
  const kind = r();
  if (kind < 0.5 && points.length > 0) {
    const at = r.pick(points);
    const junk = Buffer.from(r.pick(INVALID_UTF8));
    return { bytes: Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]), invalid: true };
  }
  const text = bytes.toString('utf8');
  if (kind < 0.7) {
    // the same data with other escapes: \u for every non-ASCII unit, uppercase hex
    const value = JSON.parse(text);
    const escaped = JSON.stringify(value, null, r() < 0.5 ? '\t' : 2).replace(/[\u007f-\uffff]/g, ch => `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
    return { bytes: Buffer.from(escaped), invalid: false };
  }
  if (kind < 0.85) {
    return { bytes: Buffer.from(JSON.stringify(JSON.parse(text))), invalid: false }; // compact
  }
  // a duplicated top-level key: the last value wins, at the first key's place
  const value = JSON.parse(text);
  const keys = Object.keys(value);
  if (keys.length === 0) return { bytes: Buffer.from(' { "dup" : 1 , "dup" : [2] } \n'), invalid: false };
  const k = r.pick(keys);
  const body = JSON.stringify(value, null, '\t');
  // (a value no earlier state can have had: a file equal to an earlier state
  // of the store is taken for a stale copy, and the journal's later changes
  // are replayed over it — README, "On disk")
  const fresh = [randomValue(r), `dup ${++damageCount}`];
  return { bytes: Buffer.from(`${body.slice(0, -1)},\n\t${JSON.stringify(k)}: ${JSON.stringify(fresh)}\n}`), invalid: false };
}

/** Both stores reopened on the same damaged file (tad-store sees an external edit). */
function damageFiles(session, ctx) {
  ctx.label = 'damage file';
  session.compareFiles(ctx);
  if (!fs.existsSync(session.conf.path)) return; // nothing written yet
  session.stats.damaged++;
  session.dropSubscriptions();
  const { bytes, invalid } = damage(session.r, fs.readFileSync(session.conf.path));
  if (invalid) session.stats.invalidUtf8Files++;
  session.tad.close();
  fs.writeFileSync(session.tad.path, bytes);
  fs.writeFileSync(session.conf.path, bytes);
  session.untouched = bytes;
  session.confOpened = bytes;
  session.tad = session.openTad(session.tadDir);
  session.conf = session.openConf(session.confDir);
  checkUtf8Report(session, ctx, bytes);
  session.compareStores(ctx);
  // neither rewrote the file just by opening it (conf: unless defaults were
  // missing; schema defaults conf only adds to what it reads, tad-store writes)
  session.tad.flushSync({ file: true });
  const tadBytes = fs.readFileSync(session.tad.path);
  const confBytes = fs.readFileSync(session.conf.path);
  const readsAsStored = isDeepStrictEqual(Object.entries(JSON.parse(bytes.toString('utf8'))), snapshot(session.conf));
  if (confBytes.equals(bytes) && !tadBytes.equals(bytes) && readsAsStored) diverge(ctx, 'tad-store rewrote the damaged file on open (conf left it)');
}

// ---------------------------------------------------------------------------
// History: the states recorded along the way come back exactly
// ---------------------------------------------------------------------------

async function checkHistory(session, ctx, states) {
  ctx.label = 'rollback';
  const seqs = [...states.keys()];
  if (seqs.length === 0) return;
  const { r } = session;
  for (let i = 0; i < 2; i++) {
    const seq = r.pick(seqs);
    await session.tad.rollbackToSeq(seq);
    const got = snapshot(session.tad);
    if (!isDeepStrictEqual(got, states.get(seq))) diverge(ctx, `rollbackToSeq(${seq}) gave ${show(Object.fromEntries(got))}, the state then was ${show(Object.fromEntries(states.get(seq)))}`);
  }
  // a backup holds the state exactly, lone surrogates and all
  const now = snapshot(session.tad);
  const file = await session.tad.createBackup('differential');
  session.tad.set('after-backup', 1);
  await session.tad.restoreBackup(path.basename(file));
  if (!isDeepStrictEqual(snapshot(session.tad), now)) diverge(ctx, 'restoreBackup did not give back the state backed up');
}

// ---------------------------------------------------------------------------

const OPS = [
  [opGet, 22], [opHas, 10], [opSet, 30], [opSetObject, 6], [opDelete, 12], [opStoreSet, 3], [opMisc, 12],
];
const WEIGHT = OPS.reduce((n, [, w]) => n + w, 0);

function pickOp(r) {
  let x = r.int(WEIGHT);
  for (const [fn, w] of OPS) {
    if (x < w) return fn;
    x -= w;
  }
  return OPS[0][0];
}

test(`differential fuzz against conf@10 (seed ${SEED}, ${TOTAL_OPS} ops)`, { timeout: 600_000 }, async t => {
  const original = process.emitWarning;
  process.emitWarning = (w, o) => warnings.push(o && typeof o === 'object' ? o.code : o);
  // Ajv's strict-mode notes on the random schemas (conf compiles them) go to console.warn
  const originalWarn = console.warn;
  console.warn = () => {};
  t.after(() => {
    process.emitWarning = original;
    console.warn = originalWarn;
  });
  const r = rng(SEED);
  const totals = { ops: 0, deliberate: 0, skipped: 0, reopens: 0, swaps: 0, damaged: 0, invalidUtf8Files: 0, schemaRounds: 0, defaultsReapplied: 0, openFills: 0 };
  const rounds = Math.max(1, Math.ceil(TOTAL_OPS / OPS_PER_ROUND));
  for (let round = 0; round < rounds; round++) {
    warnings.length = 0;
    const session = new Session(r, round);
    const ctx = { round, index: 0, label: 'open' };
    const states = new Map();
    try {
      session.compareStores(ctx);
      for (let i = 0; i < OPS_PER_ROUND; i++) {
        ctx.index = i;
        const p = r();
        if (p < 0.015) reopen(session, ctx);
        else if (p < 0.025) {
          swap(session, ctx);
          states.clear(); // a new store: its history starts here
        } else if (p < 0.04) {
          damageFiles(session, ctx);
          states.clear(); // the history before an external edit is not rolled back to here
        } else pickOp(r)(session, ctx);
        if (i % 10 === 0) {
          const { seq } = session.tad.getStoreInfo();
          states.set(seq, snapshot(session.tad));
        }
      }
      ctx.index = OPS_PER_ROUND;
      session.compareFiles(ctx);
      await checkHistory(session, ctx, states);
      for (const k of Object.keys(totals)) totals[k] += session.stats[k];
    } finally {
      session.close();
    }
  }
  assert.ok(totals.ops >= TOTAL_OPS * 0.8, `ran ${totals.ops} operations`);
  assert.ok(totals.deliberate > 0 && totals.invalidUtf8Files > 0 && totals.swaps > 0, JSON.stringify(totals));
  if (SCHEMA_ROUNDS > 0 && rounds >= 4) assert.ok(totals.schemaRounds > 0 && totals.defaultsReapplied > 0, JSON.stringify(totals));
  t.diagnostic(`seed ${SEED}: ${JSON.stringify(totals)}`);
});

// ---------------------------------------------------------------------------
// The same cases, one by one
// ---------------------------------------------------------------------------

function pairIn(t, opts = {}) {
  const dirs = [tmpDir(), tmpDir()];
  const tad = new Store({ cwd: dirs[0], backups: false, ...opts });
  const conf = new Conf({ cwd: dirs[1], configName: 'config', ...opts });
  t.after(() => {
    if (!tad.closed) tad.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  return { tad, conf, dirs };
}

test('keys with unpaired surrogates stay distinct: memory, file, journal, history, backups, events', async t => {
  const { tad, conf, dirs } = pairIn(t);
  const changed = [];
  tad.onChange('*', (n, o, k) => changed.push(k));
  const calls = [];
  tad.onDidChange('k\ud800', (n, o) => calls.push([n, o]));
  for (const s of [tad, conf]) {
    s.set('k\ud800', 1);
    s.set('k\udc00', 2);
    s.set('k\ufffd', 3);
    s.set('\ufdd0\ue000', 'mark and private use');
    s.set('nested.\udbff.\ude00x', ['\ud800', { '\udc00': '\ud83d' }]);
    s.set({ 'obj\ud800': { '\ud800': 'a', '\udc00': 'b' } });
  }
  assert.deepStrictEqual(Object.entries(tad.store), Object.entries(conf.store));
  assert.equal(tad.size, 6);
  assert.equal(tad.get('k\ud800'), 1);
  assert.equal(tad.get('k\udc00'), 2);
  assert.equal(tad.has('k\udc00'), true);
  assert.deepEqual(tad.getStoreInfo().keys, Object.keys(conf.store));
  assert.deepEqual(changed.slice(0, 4), ['k\ud800', 'k\udc00', 'k\ufffd', '\ufdd0\ue000']);
  assert.deepEqual(calls, [[1, undefined]]);
  tad.flushSync({ file: true });
  assert.ok(fs.readFileSync(tad.path).equals(fs.readFileSync(conf.path)), 'the file is byte-identical to conf\'s (\\udxxx escapes)');
  // the journal carries them exactly: the file rebuilt from it alone
  const before = Object.entries(tad.store);
  tad.close();
  fs.rmSync(path.join(dirs[0], 'config.json'));
  const rebuilt = new Store({ cwd: dirs[0], backups: false });
  t.after(() => rebuilt.close());
  assert.deepStrictEqual(Object.entries(rebuilt.store), before);
  // history: roll back over the change to one key, the other stays
  const { seq } = rebuilt.getStoreInfo();
  rebuilt.delete('k\udc00');
  rebuilt.set('k\ud800', 'changed');
  await rebuilt.rollbackToSeq(seq);
  assert.deepStrictEqual(Object.entries(rebuilt.store), before);
  // a backup restores them exactly
  const file = await rebuilt.createBackup('surrogates');
  rebuilt.clear();
  await rebuilt.restoreBackup(path.basename(file));
  assert.deepStrictEqual(Object.entries(rebuilt.store), before);
  // the delete's inverse put the key back where it was
  rebuilt.flushSync({ file: true });
  assert.ok(fs.readFileSync(rebuilt.path).equals(fs.readFileSync(conf.path)));
});

test('a file conf wrote with unpaired surrogates opens with the same keys and values, and conf reads ours', t => {
  const { tad, conf, dirs } = pairIn(t);
  const data = { 'a\ud800': '\udc00', 'a\udc00': ['\ud800\ud800'], '\ud83d': { '\ude00': 1 }, '\ud83d\ude00': 2 };
  conf.store = data;
  tad.close();
  fs.copyFileSync(conf.path, path.join(dirs[0], 'config.json'));
  const again = new Store({ cwd: dirs[0], backups: false });
  t.after(() => again.close());
  assert.deepStrictEqual(Object.entries(again.store), Object.entries(conf.store));
  assert.equal(Object.keys(again.store).length, 4);
  again.set('\ud800', 'from tad');
  again.flushSync({ file: true });
  fs.copyFileSync(again.path, conf.path);
  assert.equal(conf.get('\ud800'), 'from tad');
  assert.deepStrictEqual(Object.entries(conf.store), Object.entries(again.store));
});

test('invalid UTF-8 in the file reads as Node decodes it (random bytes), reported, file left alone', t => {
  const r = rng(SEED ^ 0x5eed);
  const dir = tmpDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.json');
  const fatal = new TextDecoder('utf-8', { fatal: true });
  for (let round = 0; round < 150; round++) {
    // bytes ≥ 0x80 mostly; no quote, backslash or control character (JSON would refuse those)
    const junk = Buffer.from(Array.from({ length: 1 + r.int(8) }, () => {
      const b = r() < 0.7 ? 0x80 + r.int(0x80) : r.int(0x80);
      return b < 0x20 || b === 0x22 || b === 0x5c ? 0x41 : b;
    }));
    const bytes = Buffer.concat([Buffer.from('{"v":"'), junk, Buffer.from('","'), junk, Buffer.from('x":1}')]);
    fs.rmSync(path.join(dir, 'storeHistory'), { recursive: true, force: true });
    fs.writeFileSync(file, bytes);
    let invalid = false;
    try {
      fatal.decode(bytes);
    } catch {
      invalid = true;
    }
    const { result: s, warnings } = captureWarningsOf(() => new Store({ cwd: dir, backups: false }));
    try {
      const conf = new Conf({ cwd: dir, configName: 'config' });
      assert.deepStrictEqual(Object.entries(s.store), Object.entries(conf.store), `bytes ${junk.toString('hex')}`);
      assert.deepStrictEqual(Object.entries(s.store), Object.entries(JSON.parse(bytes.toString('utf8'))));
      assert.equal(s.getStoreInfo().recovery.invalidUtf8, invalid, junk.toString('hex'));
      assert.equal(s.getHealthReport().recovery.invalidUtf8, invalid);
      assert.equal(warnings.includes('TAD_STORE_INVALID_UTF8'), invalid);
      s.flushSync({ file: true });
      assert.ok(fs.readFileSync(file).equals(bytes), 'opening does not rewrite the file');
      if (round % 10 === 0) {
        s.set('n', round);
        s.flushSync({ file: true });
        fatal.decode(fs.readFileSync(file)); // the next write writes UTF-8 (U+FFFD)
        assert.deepStrictEqual(Object.entries(JSON.parse(fs.readFileSync(file, 'utf8'))), Object.entries(s.store));
      }
    } finally {
      s.close();
    }
  }
});

function captureWarningsOf(fn) {
  const codes = [];
  const original = process.emitWarning;
  process.emitWarning = (w, o) => codes.push(o && typeof o === 'object' ? o.code : o);
  try {
    return { result: fn(), warnings: codes };
  } finally {
    process.emitWarning = original;
  }
}

test('`length` and indices of arrays and strings answer as electron-store does', t => {
  const { tad, conf } = pairIn(t);
  for (const s of [tad, conf]) {
    s.set('recentFiles', ['/a', '/b', '/c']);
    s.set('name', 'Ada😀');
    s.set('obj', { length: 'own' });
  }
  const probe = (label, op) => {
    const a = attempt(() => op(tad));
    const b = attempt(() => op(conf));
    if (a.error || b.error) {
      assert.ok(a.error && b.error, `${label}: tad ${describeOutcome(a)}, conf ${describeOutcome(b)}`);
      assert.equal(a.error.constructor, b.error.constructor, `${label}: error class`);
    } else {
      assert.deepStrictEqual(a.value, b.value, label);
    }
    assert.deepStrictEqual(Object.entries(tad.store), Object.entries(conf.store), `${label}: store`);
  };
  for (const key of ['recentFiles.length', 'recentFiles.0', 'recentFiles.2', 'recentFiles.3', 'recentFiles.01', 'recentFiles.-1', 'recentFiles.length.x',
    'name.length', 'name.0', 'name.4', 'name.5', 'name.6', 'name.4.length', 'name.x', 'obj.length', 'recentFiles.0.length']) {
    probe(`get(${key})`, s => s.get(key, 'default'));
    probe(`has(${key})`, s => s.has(key));
  }
  probe('set(recentFiles.length)', s => s.set('recentFiles.length', 1));
  probe('set(recentFiles.length.x)', s => s.set('recentFiles.length.x', 1));
  probe('set({recentFiles.length})', s => s.set({ other: 1, 'recentFiles.length': 0 }));
  probe('delete(recentFiles.length)', s => s.delete('recentFiles.length'));
  probe('delete(recentFiles.length.x)', s => s.delete('recentFiles.length.x'));
  probe('delete(name.length)', s => s.delete('name.length'));
  probe('set(recentFiles.1)', s => s.set('recentFiles.1', '/B'));
  probe('set(recentFiles.5)', s => s.set('recentFiles.5', '/far'));
  probe('delete(recentFiles.0)', s => s.delete('recentFiles.0'));
  probe('set(recentFiles.name)', s => s.set('recentFiles.name', 'invisible'));
  probe('set(name.length)', s => s.set('name.length', 3));
  probe('set(obj.length)', s => s.set('obj.length', 2));
  tad.flushSync({ file: true });
  assert.ok(fs.readFileSync(tad.path).equals(fs.readFileSync(conf.path)));
});
