import { loadConfig } from '#libs/core/config';
import { PrismaService, RunEventsRepository } from '#libs/core/db';
import { openJobQueue } from '#libs/core/queue';
import { RunLifecycle, RunLifecycleRepository } from '#libs/domain/runs';
import { SweepScheduler } from '#libs/domain/sweeps';

import type { TestStack } from '../test/support/stack.js';

/** The worker's and scheduler's own services, in this process, on a TestStack's database and queue. */
export async function inProcessServices(stack: TestStack) {
  const config = loadConfig({ ...process.env, ...stack.env(), DATABASE_URL: stack.databaseUrl });
  const prisma = new PrismaService(config);
  const events = new RunEventsRepository(prisma, config);
  const queue = await openJobQueue(config);
  const runs = new RunLifecycle(new RunLifecycleRepository(prisma), events);
  const scheduler = new SweepScheduler(prisma, events, queue, config, runs);
  return { config, prisma, events, queue, runs, scheduler };
}

/**
 * The sweep both sweep benches create (bench:sweep and sweep-advance-profile): TPE over an MLP's width and learning
 * rate on Iris, median pruning, one trial at a time.
 */
export function benchSweepInput(options: {
  name: string;
  datasetId: string;
  modelId: string;
  maxTrials: number;
  epochs: number;
  seed: number;
}): Record<string, unknown> {
  return {
    name: options.name,
    datasetId: options.datasetId,
    modelId: options.modelId,
    strategy: 'TPE',
    searchSpace: {
      hidden: { type: 'int', min: 8, max: 64, step: 8 },
      lr: { type: 'loguniform', min: 0.0001, max: 0.1 },
    },
    objective: { metric: 'val_loss', goal: 'MINIMIZE' },
    maxTrials: options.maxTrials,
    parallelism: 1,
    earlyStopping: { rule: 'median', minTrials: 5, warmupEpochs: 1 },
    training: { target: 'Species', epochs: options.epochs, batchSize: 16, seed: 3 },
    seed: options.seed,
  };
}

export const CREATE_SWEEP = `mutation($input: CreateSweepInput!) { createSweep(input: $input) { id } }`;
