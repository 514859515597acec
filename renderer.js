'use strict';

/** `require('tad-store/renderer')`: the renderer-side client (see lib/renderer.js and renderer.d.ts). */
const { StoreClient, createStoreClient, getDefaultClient } = require('./lib/renderer.js');

module.exports = { StoreClient, StoreService: StoreClient, createStoreClient, getDefaultClient, storeService: getDefaultClient() };
