import * as safeStorage from './safe-storage.js';

export * from './safe-storage.js';
export default safeStorage;
