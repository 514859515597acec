'use strict';

// What conf's test file imports as `Conf`: tad-store's Store, or conf 10.2
// itself when CONF_SUITE_TARGET=conf (run.js checks the AVA shim with it: conf
// passes its own suite). Required from here, so the "parent module" both use
// to find the app's package.json is this file.

const crypto = require('node:crypto');
const { legacyCreateDecipher } = require('./legacy-decipher.js');

if (process.env.CONF_SUITE_TARGET === 'conf') {
  if (typeof crypto.createDecipher !== 'function') crypto.createDecipher = legacyCreateDecipher;
  module.exports = require('conf');
} else {
  module.exports = require('../../index.js');
}
