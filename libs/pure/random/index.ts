export { mulberry32, type Rng, rngFor } from './rng.js';
export { deriveSeed, hashSeed, hashString } from './seed-hash.js';
export { seededPermutation, shuffleInPlace } from './shuffle.js';
