export * from './ipc.js';
