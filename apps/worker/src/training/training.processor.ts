import { hostname } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type * as tf from '@tensorflow/tfjs';
import { APP_CONFIG, type AppConfig } from '../../../../libs/config/src/index.js';
import type { ColumnStats, DatasetFormat } from '../../../../libs/datasets/src/index.js';
import { JobName, type TrainRunJob } from '../../../../libs/queue/src/index.js';
import {
  SpecError,
  type TrainingConfig,
  buildModel,
  expectedOutputUnits,
  planRun,
  prepareData,
  trainModel,
} from '../../../../libs/training/src/index.js';
import { SweepScheduler } from '../../../../libs/sweeps/src/index.js';
import { OnJob } from '../jobs/on-job.decorator.js';
import { loadDatasetRows } from './dataset-loader.js';
import { TrainingBackend } from './training-backend.js';
import { TrainingRunsRepository } from './training-runs.repository.js';

/** Says what went wrong in words a user can act on; internal stacks stay in the worker's log. */
function failureMessage(error: unknown): string {
  if (error instanceof SpecError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `training failed: ${message}`;
}

@Injectable()
export class TrainingProcessor {
  private readonly logger = new Logger(TrainingProcessor.name);
  readonly workerId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    private readonly runs: TrainingRunsRepository,
    private readonly backend: TrainingBackend,
    private readonly sweeps: SweepScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @OnJob(JobName.TrainRun)
  async trainRun(job: TrainRunJob): Promise<void> {
    const run = await this.runs.claim(job.runId, job.attempt, this.workerId, this.backend.device);
    if (!run) return; // cancelled, taken by another worker, or superseded by a later attempt
    const log = new Logger(`run ${run.id}`);
    log.log(`started (attempt ${run.attempt}) on ${this.backend.device}`);
    let stop = false;
    let pruned = false;
    const heartbeat = setInterval(() => {
      this.runs
        .heartbeat(run.id, this.workerId)
        .then((state) => (stop ||= state.stop))
        .catch((error: Error) => log.warn(`heartbeat failed: ${error.message}`));
    }, this.config.worker.heartbeatIntervalMs);
    let model: tf.LayersModel | undefined;
    try {
      const [dataset, definition] = await this.runs.loadContext(run);
      const columns = dataset.columns as unknown as ColumnStats[];
      const stored = run.training as unknown as TrainingConfig;
      const plan = planRun(definition.spec, run.hyperparameters, stored, columns, stored.seed);
      const training = plan.training;
      const rows = await loadDatasetRows(this.config.dataDir, dataset.id, dataset.format as DatasetFormat, [...training.features, training.target]);
      const data = prepareData(rows, columns, training, plan.spec.loss);
      await this.runs.savePreprocessing(run.id, this.workerId, data.preprocessing);
      model = buildModel(plan.spec, data.preprocessing.inputSize, expectedOutputUnits(data.preprocessing));
      const params = model.countParams();
      if (params > this.config.limits.maxModelParams) {
        throw new SpecError(`the model has ${params} parameters; at most ${this.config.limits.maxModelParams} are allowed`);
      }
      const result = await trainModel({
        model,
        spec: plan.spec,
        data,
        training,
        hooks: {
          shouldStop: () => stop,
          onEpoch: async (report) => {
            if (!Number.isFinite(report.metrics.loss)) {
              throw new Error(`the loss became ${report.metrics.loss} at epoch ${report.epoch}; lower the learning rate or normalise the data`);
            }
            const state = await this.runs.recordEpoch({ runId: run.id, workerId: this.workerId, epoch: report.epoch, metrics: report.metrics, checkpoint: report.checkpoint, training });
            stop ||= state.stop;
            if (!stop && run.sweepId && (await this.sweeps.shouldPruneTrial(run.id, run.sweepId, report.epoch))) {
              log.log(`pruned by the sweep's early stopping at epoch ${report.epoch}`);
              pruned = stop = true;
            }
          },
        },
      });
      const status = pruned ? 'PRUNED' : result.stopReason === 'stopped' ? 'CANCELLED' : 'SUCCEEDED';
      await this.runs.finish(run.id, this.workerId, status, status === 'CANCELLED' ? `cancelled after ${result.epochsCompleted} epoch(s)` : null);
      log.log(`${status.toLowerCase()} after ${result.epochsCompleted} epoch(s)`);
    } catch (error) {
      log.warn(error instanceof Error ? (error.stack ?? error.message) : String(error));
      await this.runs.finish(run.id, this.workerId, stop ? 'CANCELLED' : 'FAILED', failureMessage(error));
    } finally {
      clearInterval(heartbeat);
      model?.dispose();
    }
    // The trial's slot is free: the sweep asks for its next trial (or ends).
    if (run.sweepId) await this.sweeps.advance(run.sweepId).catch((error: Error) => log.warn(`sweep advance failed: ${error.message}`));
  }
}
