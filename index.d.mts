import Store from './index.js';

export * from './index.js';
export default Store;
