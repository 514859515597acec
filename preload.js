'use strict';

/** `require('tad-store/preload')`: the seed's `window.storeAPI` in one call (see lib/preload.js and preload.d.ts). */
module.exports = require('./lib/preload.js');
