import { hostname } from 'node:os';

import { Inject, Injectable, Logger } from '@nestjs/common';
import type * as tf from '@tensorflow/tfjs';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { withRetry } from '#libs/core/db';
import { JobName, type TrainRunJob } from '#libs/core/queue';
import { loadDatasetRows, loadDatasetTable } from '#libs/domain/datasets';
import { loadImageDataset } from '#libs/domain/datasets';
import { type RunFinishEvent, RunLifecycle, RunsRepository, transitionOf } from '#libs/domain/runs';
import { SweepScheduler } from '#libs/domain/sweeps';
import type { ColumnStats, DatasetFormat } from '#libs/pure/data';
import { UserInputError } from '#libs/pure/errors';
import {
  buildModel,
  expectedOutputUnits,
  planStoredRun,
  prepareData,
  type PreparedData,
  prepareTable,
  restoreCheckpoint,
  snapshotModel,
  SpecError,
  type TrainingConfig,
  trainModel,
} from '#libs/pure/training';

import { OnJob } from '../jobs/on-job.decorator.js';
import { TrainingBackend } from './training-backend.js';

/** Says what went wrong in words a user can act on; internal stacks stay in the worker's log. */
function failureMessage(error: unknown): string {
  if (error instanceof UserInputError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `training failed: ${message}`;
}

@Injectable()
export class TrainingProcessor {
  private readonly logger = new Logger(TrainingProcessor.name);
  readonly workerId = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private shuttingDown = false;
  /** Runs this worker returned to the queue while shutting down; re-enqueued once their jobs have completed. */
  readonly handedBack: TrainRunJob[] = [];

  constructor(
    private readonly lifecycle: RunLifecycle,
    private readonly runs: RunsRepository,
    private readonly backend: TrainingBackend,
    private readonly sweeps: SweepScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** SIGTERM: every run in hand stops after its current batch and goes back to the queue. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  @OnJob(JobName.TrainRun)
  async trainRun(job: TrainRunJob): Promise<void> {
    if (this.shuttingDown) return;
    const run = await this.lifecycle.claim(job.runId, job.attempt, this.workerId, this.backend.device);
    if (!run) return; // cancelled, taken by another worker, or superseded by a later attempt
    const log = new Logger(`run ${run.id}`);
    const retry = <T>(what: string, fn: () => Promise<T>) =>
      withRetry(what, fn, {
        onRetry: (error, delay) => log.warn(`${what} failed (${error.message}); retrying in ${delay} ms`),
      });
    let stop = false;
    let pruned = false;
    const heartbeat = setInterval(() => {
      this.lifecycle
        .heartbeat(run.id, this.workerId)
        .then((state) => (stop ||= state.stop))
        .catch((error: Error) => log.warn(`heartbeat failed: ${error.message}`));
    }, this.config.worker.heartbeatIntervalMs);
    let model: tf.LayersModel | undefined;
    let images: Awaited<ReturnType<typeof loadImageDataset>> | undefined;
    let handedBack = false;
    try {
      const [dataset, definition] = await this.runs.trainingContext(run);
      const columns = dataset.columns as unknown as ColumnStats[];
      const stored = run.training as unknown as TrainingConfig;
      const plan = planStoredRun(
        definition.spec,
        (run.hyperparameters ?? {}) as Record<string, unknown>,
        stored,
        columns,
      );
      const training = plan.training;
      images = training.image
        ? await loadImageDataset(this.config, dataset.id, dataset.rowCount ?? 0, training.image, (message) =>
            log.log(message),
          )
        : undefined;
      // Tabular data is loaded column by column into typed arrays; a text feature goes row by row to the tokenizer,
      // and an image dataset's rows come with its image store.
      let data: PreparedData;
      if (images) data = prepareData(images.rows, columns, training, plan.spec.loss, images.store);
      else if (training.text) {
        const rows = await loadDatasetRows(this.config.dataDir, dataset.id, dataset.format as DatasetFormat, [
          ...training.features,
          training.target,
        ]);
        data = prepareData(rows, columns, training, plan.spec.loss);
      } else {
        const used = new Set([...training.features, training.target]);
        const table = await loadDatasetTable(
          this.config.dataDir,
          dataset,
          columns.filter((column) => used.has(column.name)),
        );
        data = prepareTable(table, columns, training, plan.spec.loss);
      }
      await this.lifecycle.savePreprocessing(run.id, this.workerId, data.preprocessing);
      model = buildModel(
        plan.spec,
        data.preprocessing.inputShape ?? data.preprocessing.inputSize,
        expectedOutputUnits(data.preprocessing),
      );
      const params = model.countParams();
      if (params > this.config.limits.maxModelParams) {
        throw new SpecError(
          `the model has ${params} parameters; at most ${this.config.limits.maxModelParams} are allowed`,
        );
      }

      // A run seen before (a lost worker, a stopped one) continues from its latest checkpoint.
      let initialEpoch = 0;
      const latest = await this.runs.latestCheckpoint(run.id);
      if (latest) {
        const state = latest.trainingState as { optimizerSpecs?: tf.io.WeightsManifestEntry[] } | null;
        await restoreCheckpoint(model, {
          weightSpecs: latest.weightSpecs as unknown as tf.io.WeightsManifestEntry[],
          weights: new Uint8Array(latest.weights).buffer,
          optimizerSpecs: state?.optimizerSpecs,
          optimizerWeights: latest.optimizerState ? new Uint8Array(latest.optimizerState).buffer : undefined,
        });
        initialEpoch = latest.epoch;
        await this.lifecycle.rewindTo(run.id, this.workerId, initialEpoch);
      }
      log.log(
        `started (attempt ${run.attempt}) on ` +
          `${this.backend.device}${latest ? `, resuming after epoch ${initialEpoch}` : ''}`,
      );

      const result = await trainModel({
        model,
        spec: plan.spec,
        data,
        training,
        initialEpoch,
        hooks: {
          shouldStop: () => stop || this.shuttingDown,
          onEpoch: async (report) => {
            if (!Number.isFinite(report.metrics.loss)) {
              throw new Error(
                `the loss became ${report.metrics.loss} at epoch ${report.epoch}; lower the learning rate or ` +
                  `normalise the data`,
              );
            }
            const state = await retry(`recording epoch ${report.epoch}`, () =>
              this.lifecycle.recordEpoch({
                runId: run.id,
                workerId: this.workerId,
                epoch: report.epoch,
                metrics: report.metrics,
                checkpoint: report.checkpoint,
                training,
              }),
            );
            stop ||= state.stop;
            if (!stop && run.sweepId && (await this.sweeps.shouldPruneTrial(run.id, run.sweepId, report.epoch))) {
              log.log(`pruned by the sweep's early stopping at epoch ${report.epoch}`);
              pruned = stop = true;
            }
          },
          onInterrupted: async ({ lastCompletedEpoch, checkpoint }) => {
            if (!this.shuttingDown || stop) return;
            handedBack = await retry('handing the run back', () =>
              this.lifecycle.handBack(run.id, this.workerId, lastCompletedEpoch, checkpoint, training),
            );
          },
        },
      });
      if (
        this.shuttingDown &&
        !stop &&
        !handedBack &&
        result.stopReason === 'stopped' &&
        result.epochsCompleted < training.epochs
      ) {
        // Stopped exactly at an epoch's end: that epoch's checkpoint may not exist, so save one now.
        const checkpoint = await snapshotModel(model);
        handedBack = await retry('handing the run back', () =>
          this.lifecycle.handBack(run.id, this.workerId, result.epochsCompleted, checkpoint, training),
        );
      }
      if (handedBack) {
        this.handedBack.push({ runId: run.id, attempt: run.attempt });
        log.log(`handed back to the queue after epoch ${result.epochsCompleted} (worker stopping)`);
        return;
      }
      const outcome: RunFinishEvent = pruned ? 'prune' : result.stopReason === 'stopped' ? 'stop' : 'succeed';
      await retry('finishing the run', () =>
        this.lifecycle.finish(
          run.id,
          this.workerId,
          outcome,
          outcome === 'stop' ? `cancelled after ${result.epochsCompleted} epoch(s)` : null,
        ),
      );
      log.log(`${transitionOf(outcome).to.toLowerCase()} after ${result.epochsCompleted} epoch(s)`);
    } catch (error) {
      log.warn(error instanceof Error ? (error.stack ?? error.message) : String(error));
      await retry('recording the failure', () =>
        this.lifecycle.finish(run.id, this.workerId, stop ? 'stop' : 'fail', failureMessage(error)),
      ).catch((finishError: Error) => log.error(`could not record the failure: ${finishError.message}`));
    } finally {
      clearInterval(heartbeat);
      model?.dispose();
      await images?.store
        .close?.()
        .catch((error: Error) => log.warn(`closing the image store failed: ${error.message}`));
    }
    // The trial's slot is free: the sweep asks for its next trial (or ends).
    if (run.sweepId && !handedBack)
      await this.sweeps
        .advance(run.sweepId)
        .catch((error: Error) => log.warn(`sweep advance failed: ${error.message}`));
  }
}
