import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has working defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.embeddedDatabase).toBe(true);
    expect(config.redisUrl).toBeUndefined();
    expect(config.worker).toMatchObject({
      concurrency: 1,
      maxAttempts: 3,
      backend: undefined,
      wasmNativeKernels: true,
      wasmThreads: undefined,
    });
  });

  it('reads the wasm training switches', () => {
    expect(loadConfig({ TRAINING_WASM_NATIVE: '0', TRAINING_WASM_THREADS: '1' }).worker).toMatchObject({
      wasmNativeKernels: false,
      wasmThreads: 1,
    });
    expect(loadConfig({ TRAINING_WASM_NATIVE: 'on', TRAINING_WASM_THREADS: '3' }).worker).toMatchObject({
      wasmNativeKernels: true,
      wasmThreads: 3,
    });
  });

  it('names the variable and the value it refuses', () => {
    expect(() => loadConfig({ TRAINING_WASM_THREADS: '0' })).toThrow(
      new ConfigError('TRAINING_WASM_THREADS must be an integer ≥ 1, got "0"'),
    );
    expect(() => loadConfig({ TRAINING_WASM_NATIVE: 'maybe' })).toThrow(
      /TRAINING_WASM_NATIVE must be 1\/true\/on or 0\/false\/off, got "maybe"/,
    );
    expect(() => loadConfig({ WORKER_CONCURRENCY: '1.5' })).toThrow(
      /WORKER_CONCURRENCY must be an integer ≥ 1, got "1.5"/,
    );
  });

  it('refuses a heartbeat timeout at or below the interval, naming both', () => {
    for (const timeout of ['5000', '4000']) {
      expect(() => loadConfig({ WORKER_HEARTBEAT_INTERVAL: '5000', WORKER_HEARTBEAT_TIMEOUT: timeout })).toThrow(
        /WORKER_HEARTBEAT_TIMEOUT \(\d+ ms\) must be longer than WORKER_HEARTBEAT_INTERVAL \(5000 ms\)/,
      );
    }
    expect(() => loadConfig({ WORKER_HEARTBEAT_INTERVAL: '600' })).not.toThrow();
    expect(() => loadConfig({ WORKER_HEARTBEAT_INTERVAL: '30000' })).toThrow(/WORKER_HEARTBEAT_TIMEOUT \(30000 ms\)/);
  });
});
