/** `npm run build` step: writes the self-contained /v1/layers.js module beside the compiled layers (esbuild: dev). */
import { writeFile } from 'node:fs/promises';
import { LAYERS_BUNDLE_PATH, bundleLayersModule } from './bundle.js';

await writeFile(LAYERS_BUNDLE_PATH, await bundleLayersModule());
