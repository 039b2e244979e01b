import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from './config.js';

describe('TRAINING_CACHE_MB', () => {
  it('defaults to 1024 MiB of decoded training images and takes a positive integer', () => {
    expect(loadConfig({}).worker.trainingCacheMb).toBe(1024);
    expect(loadConfig({ TRAINING_CACHE_MB: '64' }).worker.trainingCacheMb).toBe(64);
    expect(() => loadConfig({ TRAINING_CACHE_MB: '0' })).toThrow(
      new ConfigError('TRAINING_CACHE_MB must be an integer ≥ 1, got "0"'),
    );
  });
});
