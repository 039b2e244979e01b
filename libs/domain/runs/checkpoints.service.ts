import { Injectable } from '@nestjs/common';

import type { Checkpoint as CheckpointRow } from '#libs/core/db';
import { AppError, isUuid } from '#libs/core/errors';

import { RunsRepository } from './runs.repository.js';

/** The TF.js layers-format model.json of a checkpoint: its manifest points at weights.bin beside it. */
export interface LayersModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown }[];
  userDefinedMetadata: { preprocessing: unknown; runId: string; epoch: number; metrics: unknown };
}

@Injectable()
export class CheckpointsService {
  constructor(private readonly runs: RunsRepository) {}

  async get(id: string): Promise<CheckpointRow> {
    const checkpoint = isUuid(id) ? await this.runs.checkpointWithWeights(id) : null;
    if (!checkpoint) throw AppError.notFound('checkpoint', id);
    return checkpoint;
  }

  async modelJson(checkpoint: CheckpointRow): Promise<LayersModelJson> {
    const run = await this.runs.preprocessingOf(checkpoint.runId);
    return {
      format: 'layers-model',
      generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
      convertedBy: null,
      modelTopology: checkpoint.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: checkpoint.weightSpecs }],
      userDefinedMetadata: {
        preprocessing: run?.preprocessing ?? null,
        runId: checkpoint.runId,
        epoch: checkpoint.epoch,
        metrics: checkpoint.metrics,
      },
    };
  }
}
