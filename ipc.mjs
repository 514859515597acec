import ipc from './lib/ipc.js';

export const { registerStoreIpc, CHANNELS } = ipc;
export default ipc;
