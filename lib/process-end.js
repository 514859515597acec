'use strict';

/**
 * The end of the process (or of a worker thread): every change to this
 * environment's open stores made durable and in their files before it ends —
 * on 'exit', on Electron's 'before-quit' / 'will-quit', and on the signals
 * that end a Node process when nothing else listens. The Store tracks its
 * open instances here (`track` / `untrack`) and asks `isExiting()` (then a
 * change is made durable before its call returns).
 */

const binding = require('./loader.js');
const { electronApp } = require('./electron.js');

/** This environment's open Store instances. */
const openStores = new Set();

// Set when the process (or this worker) emits 'exit': no turn of the event
// loop is left for the writer thread, so from then on every change is made
// durable before the call returns. Stores are not closed on exit: 'exit'
// handlers registered after tad-store's still write to them.
let exiting = false;
let exitHookInstalled = false;
/** The Store method that readies a store for the process's end (see prepareAllToEnd). */
const ENDING = Symbol('tad-store ending');

/** Makes every change to this environment's stores durable and in their files now. */
function flushAll(when) {
  for (const store of [...openStores]) flushReporting(store, when);
}

/** The process ends: backups that are due are taken, and everything is written. */
function prepareAllToEnd(when) {
  exiting = true;
  for (const store of [...openStores]) store[ENDING](when);
}

function flushReporting(store, when) {
  try {
    // the process ends: the JSON file is made current too (another program,
    // or electron-store after a downgrade, may read it)
    store.flushSync({ file: true });
  } catch (error) {
    process.stderr.write(`tad-store: could not write ${store.path} ${when} (${error.code}): ${error.message}\n`);
  }
}

function onExit() {
  prepareAllToEnd('on exit');
}

/**
 * Signals that end a Node process when nothing listens. With no listener of
 * the app's, tad-store's flushes and then ends the process by the same signal
 * (as Node would have, exit status included); with one, it only flushes and
 * the app decides. (Electron quits on them itself, through 'before-quit' and
 * 'will-quit', where tad-store flushes: no listener there.)
 */
const SIGNALS = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Listeners signal-exit (v3, v4) installed: like tad-store's, they end the
 * process only when nothing else listens, so they do not count as the app's
 * (else each would leave it to the other and a SIGTERM would end nothing).
 */
function passiveSignalListeners() {
  let count = 0;
  for (const e of [globalThis[Symbol.for('signal-exit emitter')], process.__signal_exit_emitter__]) {
    if (e !== null && typeof e === 'object' && typeof e.count === 'number') count += e.count;
  }
  return count;
}

function onSignal(signal) {
  if (process.listenerCount(signal) - 1 > passiveSignalListeners()) {
    // the app decides what the signal means
    flushAll(`on ${signal}`);
    return;
  }
  prepareAllToEnd(`on ${signal}`);
  // and the files only worker threads have open (no cleanup of theirs will run)
  for (const f of binding.flushProcess()) {
    process.stderr.write(`tad-store: could not write ${f.path} on ${signal} (${f.code}): ${f.message}\n`);
  }
  // no handler of the app's: end by the signal, as without tad-store (a
  // signal-exit listener left sees it again, alone now, and ends it)
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', onExit);
  const electron = electronApp();
  if (electron) {
    electron.app.on('before-quit', () => flushAll('before quitting'));
    electron.app.on('will-quit', () => flushAll('before quitting'));
  } else if (!process.versions.electron && require('node:worker_threads').isMainThread) {
    for (const s of SIGNALS) process.on(s, onSignal);
  }
}

/** An open instance: flushed when the process ends (the hooks are installed with the first). */
function track(store) {
  openStores.add(store);
  installExitHook();
}

/** A closed instance. */
function untrack(store) {
  openStores.delete(store);
}

/** Whether the process (or this worker) is ending: no turn of the event loop is left. */
function isExiting() {
  return exiting;
}

module.exports = { ENDING, track, untrack, isExiting, flushReporting };
