'use strict';

/**
 * Automatic backups of one Store instance: at start when the content changed
 * since the newest backup, on a timer, and after changes to critical keys,
 * coalesced. The backups themselves are the core's (verified, pruned); this
 * module only decides when.
 */

const path = require('node:path');

const FILE_NAMES = require('./names.js');

const DAY = 24 * 60 * 60 * 1000;

/** The `backups` option: `false` turns the automatic backups off. */
function normalizeBackups(b, cwd) {
  if (b === undefined || b === null || b === true) b = {};
  if (b === false) b = { onStart: false, interval: 0, criticalKeys: [] };
  if (typeof b !== 'object' || Array.isArray(b)) throw new TypeError('Expected `backups` to be an object or false');
  const out = {
    directory: b.directory ? path.resolve(cwd, b.directory) : path.join(cwd, FILE_NAMES.backupDir),
    maxBackups: b.maxBackups === undefined ? 10 : b.maxBackups,
    interval: b.interval === undefined ? DAY : b.interval,
    onStart: b.onStart === undefined ? true : Boolean(b.onStart),
    criticalKeys: b.criticalKeys === undefined ? [] : b.criticalKeys,
    coalesceMs: b.coalesceMs === undefined ? 2000 : b.coalesceMs,
  };
  if (!Number.isInteger(out.maxBackups) || out.maxBackups < 1) throw new TypeError('Expected `backups.maxBackups` to be a positive integer');
  if (out.interval === false) out.interval = 0;
  if (typeof out.interval !== 'number' || !(out.interval >= 0) || out.interval > 2 ** 31 - 1) {
    throw new TypeError('Expected `backups.interval` to be a number of milliseconds (0 or false: no scheduled backups)');
  }
  if (!Array.isArray(out.criticalKeys) || out.criticalKeys.some(k => typeof k !== 'string' || k === '')) {
    throw new TypeError('Expected `backups.criticalKeys` to be an array of keys');
  }
  if (typeof out.coalesceMs !== 'number' || !(out.coalesceMs >= 0)) throw new TypeError('Expected `backups.coalesceMs` to be a number of milliseconds');
  return out;
}

function isCritical(critical, key, literal) {
  for (const ck of critical) {
    if (literal) {
      if (ck === key || ck.startsWith(`${key}.`)) return true;
    } else if (key === ck || key.startsWith(`${ck}.`) || ck.startsWith(`${key}.`)) {
      return true;
    }
  }
  return false;
}

class AutomaticBackups {
  #native;
  #options;
  #report;
  #closed;
  #timer = null;
  #critical = null;

  /**
   * `options`: the resolved `backups` option; `report(error)`: where a failed
   * backup goes; `closed()`: whether the store was closed since.
   */
  constructor(native, options, report, closed) {
    this.#native = native;
    this.#options = options;
    this.#report = report;
    this.#closed = closed;
  }

  /** The backup at start (when the store holds keys: `size`, or asked) and the timer. */
  start(size) {
    if (this.#options.onStart && (size ?? this.#native.size()) > 0) {
      this.#native.createBackup('application-start', true).catch(this.#report);
    }
    this.startTimer();
  }

  /** Starts the scheduled backups (again, after a close() that failed). */
  startTimer() {
    if (this.#options.interval > 0 && !this.#timer) {
      this.#timer = setInterval(() => {
        this.#native.createBackup('scheduled', true).catch(this.#report);
      }, this.#options.interval);
      this.#timer.unref();
    }
  }

  /** A change to a critical key: one backup after the burst, not one per write (`exiting`: now). */
  noteCritical(entries, literal, exiting) {
    const critical = this.#options.criticalKeys;
    if (critical.length === 0 || this.#critical || this.#closed()) return;
    if (!entries.some(e => isCritical(critical, e.k, literal))) return;
    if (exiting) {
      // no timer will fire: the backup is taken now (when the state differs
      // from the newest backup's)
      try {
        this.#native.createBackupSync('critical-data-change', true);
      } catch (error) {
        this.#report(error);
      }
      return;
    }
    this.#critical = setTimeout(() => {
      this.#critical = null;
      if (this.#closed()) return;
      this.#native.createBackup('critical-data-change', true).catch(this.#report);
    }, this.#options.coalesceMs);
    this.#critical.unref();
  }

  /** Stops the timers; a critical-key backup still due is taken now (`takeDue`). */
  stop(takeDue) {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#critical) {
      clearTimeout(this.#critical);
      this.#critical = null;
      if (takeDue) {
        try {
          this.#native.createBackupSync('critical-data-change', true);
        } catch (error) {
          this.#report(error);
        }
      }
    }
  }
}

module.exports = { AutomaticBackups, normalizeBackups, isCritical };
