/** `npm run build` step: writes the self-contained /v1/layers.js module beside the compiled layers (esbuild: dev). */
import { writeFile } from 'node:fs/promises';

import { bundleLayersModule, LAYERS_BUNDLE_PATH } from './bundle.js';

await writeFile(LAYERS_BUNDLE_PATH, await bundleLayersModule());
