'use strict';

/** `require('tad-store/react')`: the `useStore` hook (see lib/react.js and react.d.ts). React >= 18 is a peer dependency. */
module.exports = require('./lib/react.js');
