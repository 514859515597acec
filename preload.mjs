import preload from './preload.js';

export const { exposeStoreAPI, createStoreAPI } = preload;
export default preload;
