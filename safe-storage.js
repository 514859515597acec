'use strict';

/** `require('tad-store/safe-storage')`: a `secretKeys` key sealed by Electron's safeStorage (see lib/safe-storage.js and safe-storage.d.ts). */
const { safeStorageKey, safeStorageKeySync, rotateSafeStorageKey, rotateSafeStorageKeySync, safeStorageKeyPath } = require('./lib/safe-storage.js');

module.exports = { safeStorageKey, safeStorageKeySync, rotateSafeStorageKey, rotateSafeStorageKeySync, safeStorageKeyPath };
