import * as ipc from './ipc.js';

export * from './ipc.js';
export default ipc;
