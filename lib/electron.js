'use strict';

/**
 * Electron, when tad-store runs in it (no dependency on the `electron`
 * package): its `app`, the `userData` directory and app version the main
 * thread shares with worker threads (through the addon), and
 * electron-store's `initRenderer()`.
 */

// node:worker_threads on first use (the first store opened), not at require
let mainThread = null;
const isMainThread = () => (mainThread === null ? (mainThread = require('node:worker_threads').isMainThread) : mainThread);

const binding = require('./loader.js');

function electronApp() {
  if (!process.versions.electron) return null;
  try {
    const electron = require('electron');
    return electron && electron.app ? electron : null;
  } catch {
    return null;
  }
}

/**
 * Electron's `userData` directory and the app's version: `{ userData,
 * appVersion }`, or null outside Electron. Only the main thread can ask
 * Electron's `app`; it shares them (process-wide, through the addon) with
 * worker threads, which get null when the main thread has not loaded
 * tad-store (then `cwd` must be given: see normalizeOptions).
 */
function electronDefaults(electron) {
  if (electron) {
    const found = { userData: electron.app.getPath('userData'), appVersion: electron.app.getVersion() };
    if (isMainThread()) binding.setMainThreadDefaults(JSON.stringify(found));
    return found;
  }
  if (isMainThread()) return null;
  // a worker thread of a process whose main thread runs Electron's app
  const shared = binding.mainThreadDefaults();
  return shared === null ? null : JSON.parse(shared);
}

if (process.versions.electron && isMainThread()) {
  // shared with worker threads from the start, and again once the app is
  // ready (an app sets its `userData` path before then)
  const electron = electronApp();
  if (electron) {
    try {
      electronDefaults(electron);
      if (typeof electron.app.on === 'function') electron.app.on('ready', () => electronDefaults(electron));
    } catch {}
  }
}

let rendererInitialized = false;

/**
 * electron-store 8's `Store.initRenderer()`: in Electron's main process it
 * answers the renderer-side `new Store()`'s synchronous
 * 'electron-store-get-data' request ({ defaultCwd, appVersion }), as
 * electron-store does. Outside Electron there is nothing to set up.
 */
function initRenderer() {
  const electron = electronApp();
  if (!electron) return undefined;
  const { app, ipcMain } = electron;
  if (!ipcMain) throw new Error('Electron Store: You need to call `.initRenderer()` from the main process.');
  const appData = { defaultCwd: app.getPath('userData'), appVersion: app.getVersion() };
  if (!rendererInitialized) {
    ipcMain.on('electron-store-get-data', event => {
      event.returnValue = appData;
    });
    rendererInitialized = true;
  }
  return appData;
}

module.exports = { electronApp, electronDefaults, initRenderer };
