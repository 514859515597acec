'use strict';

/** `require('tad-store/ipc')`: the renderer bridge (see lib/ipc.js and ipc.d.ts). */
module.exports = require('./lib/ipc.js');
