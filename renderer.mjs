import renderer from './renderer.js';

export const { StoreClient, StoreService, createStoreClient, getDefaultClient, storeService } = renderer;
export default renderer;
