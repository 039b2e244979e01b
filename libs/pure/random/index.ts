export { mulberry32, rngFor, type Rng } from './rng.js';
export { deriveSeed, hashSeed, hashString } from './seed-hash.js';
export { seededPermutation, shuffleInPlace } from './shuffle.js';
