import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Beside the compiled layers: written by `npm run build` (bundle.cli.js), read by the API. */
export const LAYERS_BUNDLE_PATH = join(here, 'layers.bundle.js');

const BANNER = `// The service's own TF.js layers.
// Usage: import { registerLayers } from '<api>/v1/layers.js'; registerLayers(tf);
// then tf.loadLayersModel('<api>/v1/checkpoints/<id>/model.json'). No imports: the layers use the tf you pass.`;

/**
 * Bundles served-module (registerLayers and the layer classes) into one self-contained ES module with esbuild:
 * the layer code only imports types, so the bundle has no import statement. Works from the sources (tests) and
 * from the compiled dist (the build).
 */
export async function bundleLayersModule(): Promise<string> {
  const { build } = await import('esbuild');
  const extension = fileURLToPath(import.meta.url).endsWith('.ts') ? '.ts' : '.js';
  const result = await build({
    entryPoints: [join(here, `served-module${extension}`)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    write: false,
    sourcemap: false,
    legalComments: 'none',
    banner: { js: BANNER },
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

let served: Promise<string> | undefined;

/** The module GET /v1/layers.js answers: the bundle the build wrote, else (a source checkout) bundled now, once. */
export function servedLayersModule(): Promise<string> {
  served ??= readFile(LAYERS_BUNDLE_PATH, 'utf8').catch(() => bundleLayersModule());
  served.catch(() => (served = undefined));
  return served;
}
