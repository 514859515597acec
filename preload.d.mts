import * as preload from './preload.js';

export * from './preload.js';
export default preload;
