import * as renderer from './renderer.js';

export * from './renderer.js';
export default renderer;
