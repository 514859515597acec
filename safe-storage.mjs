import safeStorage from './safe-storage.js';

export const { safeStorageKey, safeStorageKeySync, rotateSafeStorageKey, rotateSafeStorageKeySync, safeStorageKeyPath } = safeStorage;
export default safeStorage;
