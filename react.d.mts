import * as react from './react.js';

export * from './react.js';
export default react;
