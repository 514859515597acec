'use strict';

/**
 * Crash states from a recording of file-system requests (recorder.c), built
 * the way ALICE does (Pillai et al., "All File Systems Are Not Created Equal",
 * OSDI 2014): replay the requests into a model of inodes and directory
 * entries, and at a cut point (the power fails after request c) ask which
 * of the requests so far a persistence model lets the disk keep.
 *
 * Three models:
 *
 * - `perdir` (POSIX, each directory on its own): what was fsynced survives.
 *   A file's data and size survive up to its last fsync/fdatasync, and after
 *   that any prefix of its later writes and truncations, the last one possibly
 *   torn (only its first half, or only its second half, on disk) or with its
 *   bytes still zeros (the size persisted first); or all of them but one
 *   earlier write (blocks reach the disk in any order). A directory's entries
 *   (create, mkdir, link, unlink, rename within the directory — atomic —,
 *   RENAME_EXCHANGE — atomic) survive up to its last fsync, and after that any
 *   prefix of its later changes, independently of every other directory and
 *   file: a new file's name persists only when its parent is fsynced, a new
 *   directory's name only when ITS parent is. A rename between two
 *   directories is a removal in one and an addition in the other, each
 *   persisting on its own. fsync of a file says nothing about its name.
 * - `ext4` (ext4 data=ordered, delayed allocation, as modelled here): all
 *   metadata (names, creations, sizes) is in one journal, so a crash keeps the
 *   metadata of some prefix of the requests, at least up to the last commit.
 *   An fsync of a file with metadata changed since the last commit, an
 *   fdatasync of one whose size changed (or that is new), an fsync of a
 *   directory changed since it, all commit everything so far. Data: a file's
 *   writes up to its last fsync/fdatasync before the cut are kept (whatever
 *   metadata prefix the journal kept); later writes that extend it may be
 *   missing (delayed allocation: the size grows only when the blocks are
 *   written, never garbage), except that a rename over an existing file
 *   flushes the renamed file's data first (auto_da_alloc). Overwrites in place
 *   are kept (the workloads here never overwrite in place).
 * - `dropcache` (a cache-dropping file system such as LazyFS): at the cut,
 *   everything that was not fsynced is dropped — each file at its last fsync,
 *   each directory at its last fsync. The harshest state `perdir` allows.
 *
 * A state is a tree { path → { type, data|target } } from the mount's root.
 */

const crypto = require('node:crypto');
const path = require('node:path');

const ROOT = 1;

function parseTrace(text) {
  const ops = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line);
    if (r.err !== undefined) continue; // a failed request changed nothing
    if (r.op === 'write') r.data = Buffer.from(r.data, 'base64');
    ops.push(r);
  }
  return ops;
}

/** Applies one data change to a file's bytes (returns a new Buffer when it changes). */
function applyData(buf, op) {
  switch (op.kind) {
    case 'write': {
      const end = op.off + op.data.length;
      const out = Buffer.alloc(Math.max(buf.length, end));
      buf.copy(out, 0, 0, buf.length);
      op.data.copy(out, op.off);
      return out;
    }
    case 'size': {
      if (op.size === buf.length) return buf;
      const out = Buffer.alloc(op.size);
      buf.copy(out, 0, 0, Math.min(buf.length, op.size));
      return out;
    }
    case 'alloc': {
      const end = op.off + op.len;
      if (end <= buf.length) return buf;
      const out = Buffer.alloc(end);
      buf.copy(out);
      return out;
    }
    default:
      throw new Error(`unknown data change ${op.kind}`);
  }
}

/** Applies one entry change to a directory's entries (mutates `m`). */
function applyEntry(m, op) {
  switch (op.kind) {
    case 'add':
      m.set(op.name, op.id);
      break;
    case 'del':
      m.delete(op.name);
      break;
    case 'rename': {
      const id = m.get(op.from);
      if (id === undefined) throw new Error(`model: rename of a missing entry ${op.from}`);
      m.delete(op.from);
      m.set(op.to, id);
      break;
    }
    case 'exchange': {
      const a = m.get(op.a);
      const b = m.get(op.b);
      if (a === undefined || b === undefined) throw new Error(`model: exchange of a missing entry ${op.a} / ${op.b}`);
      m.set(op.a, b);
      m.set(op.b, a);
      break;
    }
    default:
      throw new Error(`unknown entry change ${op.kind}`);
  }
  return m;
}

/** Index of the last element of sorted `arr` that is < c (-1 when none). */
function lastBelow(arr, c) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** How many changes in `hist` (ordered by `at`) come before request m. */
function countBelow(hist, m) {
  let lo = 0;
  let hi = hist.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (hist[mid].at < m) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A seeded generator (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: n => Math.floor(next() * n) };
}

/** Picks `n` of `items` (all when fewer), keeping their order. */
function sample(items, n, random) {
  if (items.length <= n) return items.slice();
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map(i => items[i]);
}

class Recording {
  /** `ops`: parseTrace's output. */
  constructor(ops) {
    this.ops = ops;
    /** id → { id, type, hist: [{at, kind, ...}], syncs: [at], flushes: [at], createdAt, name } */
    this.objects = new Map();
    this.marks = []; // { at, name }
    this.commits = []; // ext4 model: indices of requests that committed the journal
    this.objects.set(ROOT, { id: ROOT, type: 'dir', hist: [], syncs: [], flushes: [], createdAt: -1, name: '/' });
    this.#replay();
  }

  #replay() {
    const live = new Map([[ROOT, new Map()]]); // dir id → entries now
    const dirty = new Map(); // id → { meta, datasync }: last change (ext4 commit rule)
    const size = new Map(); // file id → size now
    let lastCommit = -1;
    const touch = (id, at, datasync) => {
      const d = dirty.get(id) || { meta: -1, datasync: -1 };
      d.meta = at;
      if (datasync) d.datasync = at;
      dirty.set(id, d);
    };
    const resolve = p => {
      const parts = p.split('/').filter(Boolean);
      let id = ROOT;
      for (const part of parts) {
        const entries = live.get(id);
        if (!entries || !entries.has(part)) throw new Error(`model: ${p} does not resolve (at ${part})`);
        id = entries.get(part);
      }
      return id;
    };
    const parentOf = p => {
      const dir = path.posix.dirname(p);
      return { dir: resolve(dir), name: path.posix.basename(p) };
    };
    const obj = id => {
      const o = this.objects.get(id);
      if (!o) throw new Error(`model: unknown object ${id}`);
      return o;
    };
    const entryChange = (dirId, change, at) => {
      obj(dirId).hist.push({ at, ...change });
      applyEntry(live.get(dirId), change);
      touch(dirId, at, true);
    };
    const dataChange = (id, change, at) => {
      const o = obj(id);
      if (o.type !== 'file') throw new Error(`model: data change on a ${o.type}`);
      o.hist.push({ at, ...change });
      const before = size.get(id) || 0;
      const after =
        change.kind === 'write'
          ? Math.max(before, change.off + change.data.length)
          : change.kind === 'size'
            ? change.size
            : Math.max(before, change.off + change.len);
      size.set(id, after);
      touch(id, at, after !== before);
    };
    const commit = at => {
      lastCommit = at;
      this.commits.push(at);
    };

    this.ops.forEach((op, at) => {
      switch (op.op) {
        case 'mkdir':
        case 'create':
        case 'symlink': {
          const { dir, name } = parentOf(op.path);
          const type = op.op === 'mkdir' ? 'dir' : op.op === 'create' ? 'file' : 'symlink';
          if (!op.id) throw new Error(`model: ${op.op} ${op.path} without an id`);
          this.objects.set(op.id, { id: op.id, type, hist: [], syncs: [], flushes: [], createdAt: at, name: op.path, target: op.target });
          if (type === 'dir') live.set(op.id, new Map());
          if (type === 'file') size.set(op.id, 0);
          touch(op.id, at, true);
          entryChange(dir, { kind: 'add', name, id: op.id }, at);
          break;
        }
        case 'open':
          if (op.trunc) dataChange(op.id, { kind: 'size', size: 0 }, at);
          break;
        case 'write':
          dataChange(op.id, { kind: 'write', off: op.off, data: op.data }, at);
          break;
        case 'truncate':
          dataChange(op.id, { kind: 'size', size: op.size }, at);
          break;
        case 'fallocate':
          dataChange(op.id, { kind: 'alloc', off: op.off, len: op.len }, at);
          break;
        case 'fsync': {
          const o = obj(op.id);
          o.syncs.push(at);
          o.flushes.push(at);
          const d = dirty.get(op.id) || { meta: -1, datasync: -1 };
          if ((op.datasync ? d.datasync : d.meta) > lastCommit) commit(at);
          break;
        }
        case 'fsyncdir': {
          const o = obj(op.id);
          if (o.type !== 'dir') throw new Error('model: fsyncdir of a file');
          o.syncs.push(at);
          const d = dirty.get(op.id) || { meta: -1 };
          if (d.meta > lastCommit) commit(at);
          break;
        }
        case 'rename': {
          const from = parentOf(op.from);
          const to = parentOf(op.to);
          const moving = live.get(from.dir).get(from.name);
          const replaced = live.get(to.dir).get(to.name);
          const exchange = (op.flags & 2) !== 0;
          if (from.dir === to.dir) {
            entryChange(from.dir, exchange ? { kind: 'exchange', a: from.name, b: to.name } : { kind: 'rename', from: from.name, to: to.name }, at);
          } else if (exchange) {
            entryChange(from.dir, { kind: 'add', name: from.name, id: replaced }, at);
            entryChange(to.dir, { kind: 'add', name: to.name, id: moving }, at);
          } else {
            entryChange(from.dir, { kind: 'del', name: from.name }, at);
            entryChange(to.dir, { kind: 'add', name: to.name, id: moving }, at);
          }
          touch(moving, at, false);
          // ext4's auto_da_alloc: renaming over an existing file flushes the
          // renamed file's data before the rename commits
          if (!exchange && replaced !== undefined && obj(moving).type === 'file') obj(moving).flushes.push(at);
          obj(moving).name = op.to;
          if (exchange && replaced !== undefined) obj(replaced).name = op.from;
          break;
        }
        case 'unlink':
        case 'rmdir': {
          const { dir, name } = parentOf(op.path);
          entryChange(dir, { kind: 'del', name }, at);
          break;
        }
        case 'link': {
          const { dir, name } = parentOf(op.to);
          entryChange(dir, { kind: 'add', name, id: resolve(op.from) }, at);
          break;
        }
        case 'chmod':
          if (this.objects.has(op.id)) obj(op.id).mode = op.mode;
          break;
        case 'mark':
          this.marks.push({ at, name: op.name });
          break;
        default:
          throw new Error(`model: unknown request ${op.op}`);
      }
    });
  }

  /** Cut points: after request c-1, c = 1..N (0: before anything). */
  get length() {
    return this.ops.length;
  }

  /** The marks made before cut `c`. */
  marksBefore(c) {
    return this.marks.filter(m => m.at < c).map(m => m.name);
  }

  // -- per-object views at a cut -------------------------------------------------

  /**
   * How many of the object's changes come before cut c (`total`), and how
   * many of them before its last fsync before c (`synced`).
   */
  #split(o, c) {
    const s = lastBelow(o.syncs, c);
    const syncedAt = s === -1 ? -Infinity : o.syncs[s];
    let synced = 0;
    let total = 0;
    for (const h of o.hist) {
      if (h.at >= c) break;
      total++;
      if (h.at <= syncedAt) synced++;
    }
    return { synced, total };
  }

  /** A directory's entries after its first n changes. */
  #dirAt(o, n) {
    const m = new Map();
    for (let i = 0; i < n; i++) applyEntry(m, o.hist[i]);
    return m;
  }

  /**
   * A file's bytes after its first n changes; `tear` ('half' | 'zeros') the
   * n-th write; `flushedAt`: writes after it that extend the file are left
   * out (ext4's delayed allocation). Memoized: each prefix is built from the
   * nearest shorter one.
   */
  #fileAt(o, n, tear = null, flushedAt = Infinity) {
    if (!o.memo) o.memo = new Map();
    const key = flushedAt === Infinity ? 'all' : String(flushedAt);
    let line = o.memo.get(key);
    if (!line) {
      line = [Buffer.alloc(0)];
      o.memo.set(key, line);
    }
    const step = (b, ch) => {
      if (ch.at <= flushedAt || ch.kind !== 'write') return applyData(b, ch);
      if (ch.off >= b.length) return b;
      // in place: kept; the extending part: not allocated yet
      return applyData(b, { kind: 'write', off: ch.off, data: ch.data.subarray(0, b.length - ch.off) });
    };
    const upTo = tear ? n - 1 : n;
    let k = Math.min(upTo, line.length - 1);
    while (line[k] === undefined) k--;
    let b = line[k];
    for (; k < upTo; k++) {
      b = step(b, o.hist[k]);
      line[k + 1] = b;
    }
    if (!tear) return b;
    const ch = o.hist[n - 1];
    if (ch.kind !== 'write') return applyData(b, ch);
    const half = ch.data.length >> 1;
    if (tear === 'half') return applyData(b, { kind: 'write', off: ch.off, data: ch.data.subarray(0, half) });
    if (tear === 'zeros') return applyData(b, { kind: 'write', off: ch.off, data: Buffer.alloc(ch.data.length) });
    // 'hole': the second half reached the disk, the first did not
    return applyData(b, { kind: 'write', off: ch.off, data: Buffer.concat([Buffer.alloc(half), ch.data.subarray(half)]) });
  }

  /** A file's bytes after its first n changes, the change at index `skip` (a write) left out. */
  #fileWithout(o, n, skip) {
    let b = Buffer.alloc(0);
    for (let k = 0; k < n; k++) {
      // the skipped write's range reads as zeros where a later write extended the file
      if (k !== skip) b = applyData(b, o.hist[k]);
    }
    return b;
  }

  /**
   * Builds the tree from the root, asking `dirOf(o)` / `fileOf(o)` for each
   * reachable object's content. Returns Map(path → {type, data|target}).
   */
  #tree(dirOf, fileOf) {
    const out = new Map();
    const walk = (id, p, depth) => {
      if (depth > 64) throw new Error('model: directory cycle');
      const o = this.objects.get(id);
      if (!o) throw new Error(`model: entry names unknown object ${id}`);
      if (o.type === 'dir') {
        if (p !== '') out.set(p, { type: 'dir' });
        for (const [name, child] of [...dirOf(o)].sort((a, b) => (a[0] < b[0] ? -1 : 1))) walk(child, `${p}/${name}`, depth + 1);
      } else if (o.type === 'file') {
        out.set(p, { type: 'file', data: fileOf(o) });
      } else {
        out.set(p, { type: 'symlink', target: o.target });
      }
    };
    walk(ROOT, '', 0);
    return out;
  }

  // -- the models -----------------------------------------------------------------

  /**
   * `perdir` states at cut c: every unit (a file or directory with changes
   * since its last fsync) at a chosen prefix of those changes. When the
   * units allow at most `exhaustive` combinations, every combination is a
   * state (plus each file's writes out of order: the last one torn,
   * zero-filled or only its second half, or an earlier one missing; the
   * others all kept). Beyond that: all kept, none kept, each unit lagging
   * (each shorter prefix, the others all kept), each unit ahead (each
   * prefix, the others none), the out-of-order writes, and `randomMixes`
   * random mixes; at most `cap` (the first two always, the rest sampled).
   * Returns [{ desc, tree }].
   */
  perdir(c, random, { cap = 48, randomMixes = 6, exhaustive = 512 } = {}) {
    const units = [];
    const synced = new Map();
    for (const o of this.objects.values()) {
      if (o.createdAt >= c) continue;
      const sp = this.#split(o, c);
      synced.set(o.id, sp.synced);
      if (sp.total > sp.synced) units.push({ o, synced: sp.synced, pending: o.hist.slice(sp.synced, sp.total) });
    }
    const all = () => new Map(units.map(u => [u.o.id, u.pending.length]));
    const none = () => new Map();
    const label = u => `${u.o.type} ${u.o.name}`;
    const build = (choice, tear) =>
      this.#tree(
        o => this.#dirAt(o, synced.get(o.id) + (choice.get(o.id) || 0)),
        o => {
          const n = synced.get(o.id) + (choice.get(o.id) || 0);
          if (tear && tear.id === o.id && tear.skip !== undefined) return this.#fileWithout(o, n, tear.skip);
          return this.#fileAt(o, n, tear && tear.id === o.id ? tear.how : null);
        },
      );
    /**
     * Each file's writes reaching the disk out of order: its last unsynced
     * write torn (first half only), sized but zero-filled, or with only its
     * second half; an earlier unsynced write missing while later ones landed.
     */
    const disorder = () => {
      const out = [];
      for (const u of units) {
        if (u.o.type !== 'file') continue;
        const last = u.pending[u.pending.length - 1];
        if (last.kind === 'write' && last.data.length >= 2) {
          const words = { half: 'torn (first half)', zeros: 'sized but zero-filled', hole: 'second half only' };
          for (const how of ['half', 'zeros', 'hole']) out.push({ desc: `${label(u)}: last write ${words[how]}, the rest all`, choice: all(), tear: { id: u.o.id, how } });
        }
        u.pending.forEach((ch, j) => {
          if (j < u.pending.length - 1 && ch.kind === 'write') {
            out.push({ desc: `${label(u)}: unsynced write ${j + 1}/${u.pending.length} missing, the later ones kept`, choice: all(), tear: { id: u.o.id, skip: u.synced + j } });
          }
        });
      }
      return out;
    };
    const specs = [
      { desc: 'everything kept (the state a kill -9 leaves)', choice: all() },
      { desc: 'nothing unsynced kept', choice: none() },
    ];
    const rest = [];
    const combinations = units.reduce((n, u) => n * (u.pending.length + 1), 1);
    if (combinations <= exhaustive) {
      const choices = [new Map()];
      for (const u of units) {
        const next = [];
        for (const ch of choices) {
          for (let k = 0; k <= u.pending.length; k++) next.push(new Map(ch).set(u.o.id, k));
        }
        choices.splice(0, choices.length, ...next);
      }
      const out = choices.map(ch => ({ desc: `combination ${units.map(u => `${path.posix.basename(u.o.name)}:${ch.get(u.o.id)}/${u.pending.length}`).join(' ') || '(nothing unsynced)'}`, choice: ch }));
      return out.concat(disorder()).map(s => ({ desc: s.desc, tree: build(s.choice, s.tear) }));
    }
    for (const u of units) {
      for (let k = 0; k < u.pending.length; k++) {
        const ch = all();
        ch.set(u.o.id, k);
        rest.push({ desc: `${label(u)} keeps ${k}/${u.pending.length} unsynced changes, the rest all`, choice: ch });
      }
      for (let k = 1; k <= u.pending.length; k++) {
        const ch = none();
        ch.set(u.o.id, k);
        rest.push({ desc: `${label(u)} keeps ${k}/${u.pending.length} unsynced changes, the rest none`, choice: ch });
      }
    }
    rest.push(...disorder());
    for (let r = 0; r < randomMixes && units.length > 1; r++) {
      const ch = new Map(units.map(u => [u.o.id, random.int(u.pending.length + 1)]));
      rest.push({ desc: `mix ${units.map(u => `${path.posix.basename(u.o.name)}:${ch.get(u.o.id)}/${u.pending.length}`).join(' ')}`, choice: ch });
    }
    return specs.concat(sample(rest, cap - specs.length, random)).map(s => ({ desc: s.desc, tree: build(s.choice, s.tear) }));
  }

  /** `dropcache` state at cut c: every file and directory at its last fsync. */
  dropcache(c) {
    return {
      desc: 'everything not fsynced dropped',
      tree: this.#tree(
        o => this.#dirAt(o, this.#split(o, c).synced),
        o => this.#fileAt(o, this.#split(o, c).synced),
      ),
    };
  }

  /** The last journal commit before cut c (-1: none, the empty start). */
  lastCommit(c) {
    const i = lastBelow(this.commits, c);
    return i === -1 ? -1 : this.commits[i];
  }

  /**
   * `ext4` states at cut c: the metadata of requests 0..m for each m from the
   * last commit to c (at most `cap` of them, sampled, the two ends always),
   * each with the data of unsynced files fully written and with the extending
   * writes after each file's last flush missing.
   */
  ext4(c, random, { cap = 24 } = {}) {
    const from = this.lastCommit(c) + 1; // m: requests < m persisted
    const ms = [];
    for (let m = Math.max(from, 0); m <= c; m++) ms.push(m);
    const ends = [ms[0], ms[ms.length - 1]];
    const middle = sample(ms.slice(1, -1), Math.max(0, cap - 2), random);
    const out = [];
    for (const m of [...new Set([ends[0], ...middle, ends[1]])]) {
      for (const delalloc of [false, true]) {
        out.push({
          desc: `metadata of requests < ${m} (last commit ${from - 1})${delalloc ? ', unflushed appends lost' : ''}`,
          tree: this.#tree(
            o => this.#dirAt(o, countBelow(o.hist, m)),
            o => {
              if (!delalloc) return this.#fileAt(o, countBelow(o.hist, m));
              // data flushed before the cut is on disk, whatever metadata
              // prefix the journal kept
              const f = lastBelow(o.flushes, c);
              return this.#fileAt(o, countBelow(o.hist, m), null, f === -1 ? -Infinity : o.flushes[f]);
            },
          ),
        });
      }
    }
    return out;
  }
}

const dataHashes = new WeakMap();

/** A hash naming a tree's content (paths, types, bytes). */
function treeHash(tree) {
  const h = crypto.createHash('sha256');
  for (const [p, e] of [...tree].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    h.update(`${p}\0${e.type}\0`);
    if (e.type === 'file') {
      let d = dataHashes.get(e.data);
      if (!d) {
        d = crypto.createHash('sha256').update(e.data).digest();
        dataHashes.set(e.data, d);
      }
      h.update(d);
    }
    if (e.type === 'symlink') h.update(e.target);
    h.update('\0');
  }
  return h.digest('hex');
}

module.exports = { parseTrace, Recording, treeHash, rng, sample, applyData, applyEntry };
