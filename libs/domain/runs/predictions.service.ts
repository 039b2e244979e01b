// Registers the service's own layer classes with this tf, so checkpoints that use them load.
import '#libs/pure/training';

import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import * as tf from '@tensorflow/tfjs';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import type { Checkpoint as CheckpointRow } from '#libs/core/db';
import { AppError } from '#libs/core/errors';
import { decodeOutputs, encodeRows, type Preprocessing, selectBackend } from '#libs/pure/training';

import { CheckpointsService } from './checkpoints.service.js';
import { RunsService } from './runs.service.js';

const CACHED_MODELS = 8;

/** Inference on a run's best checkpoint, in the API process: small batches, no training. */
@Injectable()
export class PredictionsService implements OnModuleInit {
  private readonly logger = new Logger(PredictionsService.name);
  private readonly cache = new Map<string, Promise<tf.LayersModel>>();

  constructor(
    private readonly runs: RunsService,
    private readonly checkpoints: CheckpointsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const { backend } = await selectBackend('wasm').catch(() => selectBackend('cpu'));
    this.logger.log(`inference backend: ${backend}`);
  }

  /** Refuses a request whose predict fields ask for more rows in all than one call may. */
  checkRowsPerRequest(total: number, rows: number): void {
    const limit = this.config.limits.maxPredictRows;
    if (rows > limit) throw AppError.badInput(`rows: at most ${limit} rows per predict call, got ${rows}`);
    if (total > limit) {
      throw AppError.badInput(`rows: at most ${limit} rows per request (all predict fields together), got ${total}`);
    }
  }

  async predict(runId: string, rows: unknown[]): Promise<unknown[]> {
    if (rows.length > this.config.limits.maxPredictRows) {
      throw AppError.badInput(
        `rows: at most ${this.config.limits.maxPredictRows} rows per predict call, got ${rows.length}`,
      );
    }
    const run = await this.runs.get(runId);
    const best = await this.runs.bestCheckpoint(run);
    if (!best || !run.preprocessing)
      throw AppError.conflict(`run "${runId}" has no checkpoint yet (status ${run.status})`);
    if (rows.length === 0) return [];
    const preprocessing = run.preprocessing as unknown as Preprocessing;
    const input = encodeRows(preprocessing, rows);
    const model = await this.model(best.id);
    // Token ids ([sequenceLength]) and images ([height, width, channels]) have their own input shape.
    const shape = preprocessing.inputShape ?? [preprocessing.inputSize];
    const output = tf.tidy(() => model.predict(tf.tensor(input, [rows.length, ...shape])) as tf.Tensor2D);
    const values = (await output.data()) as Float32Array;
    const width = output.shape[1];
    output.dispose();
    return decodeOutputs(preprocessing, values, width);
  }

  /** A checkpoint's model, loaded once and kept among the last CACHED_MODELS used. */
  model(checkpointId: string): Promise<tf.LayersModel> {
    let model = this.cache.get(checkpointId);
    if (!model) {
      model = this.checkpoints.get(checkpointId).then((checkpoint: CheckpointRow) =>
        tf.loadLayersModel(
          tf.io.fromMemory({
            modelTopology: checkpoint.modelTopology as object,
            weightSpecs: checkpoint.weightSpecs as unknown as tf.io.WeightsManifestEntry[],
            weightData: new Uint8Array(checkpoint.weights).buffer,
          }),
        ),
      );
      model.catch(() => this.cache.delete(checkpointId));
      this.cache.set(checkpointId, model);
      if (this.cache.size > CACHED_MODELS) {
        const [oldest, evicted] = this.cache.entries().next().value!;
        this.cache.delete(oldest);
        void evicted.then((m) => m.dispose()).catch(() => undefined);
      }
    }
    return model;
  }
}
