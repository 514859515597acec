'use strict';

/**
 * The names the store gives its directories and kept files, defined once in
 * the core (core/src/names.rs) and read from it once at load:
 * `{ historyDir: 'storeHistory', backupDir: 'backups', corruptInfix:
 * '.corrupt-', dataSuffix: '.data.json' }`.
 */
module.exports = Object.freeze(require('./loader.js').fileNames());
