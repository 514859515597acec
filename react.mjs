import react from './react.js';

export const { useStore, useStoreBulk, useStoreClient, StoreProvider, createStoreHooks } = react;
export default react;
