import ipc from './lib/ipc.js';

export const { registerStoreIpc, CHANNELS, ATOMIC_CHANNEL } = ipc;
export default ipc;
