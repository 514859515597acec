import Store from './index.js';

export { Store };
export default Store;
