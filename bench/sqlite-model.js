'use strict';

// SQLite used the way an Electron app keeps its settings in it (VS Code's state DB,
// the apps that moved from electron-store to better-sqlite3): one row per top-level
// key, the value as JSON text, WAL, prepared statements.
//
//   synchronous=FULL    durable: every commit fsyncs the WAL before it returns
//   synchronous=NORMAL  deferred: a commit is appended to the WAL without an fsync;
//                       it becomes durable at the next checkpoint (which fsyncs the WAL,
//                       copies the pages into the database and fsyncs that)
//
// get('a.b.c') reads row `a` and walks the parsed JSON. set('a.b.c', v) is a
// read-modify-write of row `a` inside one `BEGIN IMMEDIATE` transaction (without it,
// two processes changing the same top-level key lose each other's updates, like conf);
// a top-level set is one upsert (autocommit). Nothing is cached in JS: every get
// reads SQLite (its page cache makes that a B-tree lookup in memory).

function segments(key) {
  return String(key).split('.');
}

class SqliteSettings {
  /**
   * @param {Function} Database better-sqlite3's constructor
   * @param {string} file the database file
   * @param {{ synchronous?: 'FULL' | 'NORMAL', timeout?: number }} [options]
   */
  constructor(Database, file, { synchronous = 'NORMAL', timeout = 60000 } = {}) {
    // `timeout`: better-sqlite3's busy timeout (sqlite3_busy_timeout: SQLite's busy
    // handler sleeps 1, 2, 5, 10 … 100 ms between tries while another process writes)
    const db = new Database(file, { timeout });
    this.db = db;
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)');
    this.sGet = db.prepare('SELECT value FROM kv WHERE key = ?').pluck();
    this.sPut = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.sAll = db.prepare('SELECT key, value FROM kv');
    const nested = db.transaction((top, rest, value) => {
      const text = this.sGet.get(top);
      let root = text === undefined ? {} : JSON.parse(text);
      if (root === null || typeof root !== 'object') root = {};
      let node = root;
      for (let i = 0; i < rest.length - 1; i++) {
        const k = rest[i];
        if (node[k] === null || typeof node[k] !== 'object') node[k] = {};
        node = node[k];
      }
      node[rest[rest.length - 1]] = value;
      this.sPut.run(top, JSON.stringify(root));
    });
    this.setNested = nested.immediate;
  }

  get(key) {
    const [top, ...rest] = segments(key);
    const text = this.sGet.get(top);
    if (text === undefined) return undefined;
    let v = JSON.parse(text);
    for (const k of rest) {
      if (v === null || typeof v !== 'object') return undefined;
      v = v[k];
    }
    return v;
  }

  set(key, value) {
    const [top, ...rest] = segments(key);
    if (rest.length === 0) this.sPut.run(top, JSON.stringify(value));
    else this.setNested(top, rest, value);
  }

  /** The whole store as one object (conf's / tad's `store` getter). */
  get store() {
    const out = {};
    for (const { key, value } of this.sAll.iterate()) out[key] = JSON.parse(value);
    return out;
  }

  /** What makes NORMAL-mode commits durable: a checkpoint (fsync WAL, copy pages, fsync database). */
  checkpoint() {
    return this.db.pragma('wal_checkpoint(PASSIVE)')[0];
  }

  close() {
    this.db.close();
  }

  /** Writes `doc` as one row per top-level key into a new database `file` (then checkpointed: no WAL left). */
  static create(Database, file, doc) {
    const s = new SqliteSettings(Database, file, { synchronous: 'NORMAL' });
    s.db.transaction(() => {
      for (const [k, v] of Object.entries(doc)) s.sPut.run(k, JSON.stringify(v));
    })();
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    s.close();
  }
}

module.exports = { SqliteSettings };
