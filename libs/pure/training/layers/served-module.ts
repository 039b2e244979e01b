/** The entry of GET /v1/layers.js: bundled with no imports, it exports registerLayers(tf) for the caller's tf. */
export { defineLayers, registerLayers } from './define-layers.js';
