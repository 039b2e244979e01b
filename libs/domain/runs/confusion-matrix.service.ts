import { Injectable } from '@nestjs/common';
import * as tf from '@tensorflow/tfjs';

import { DatasetFilesRepository } from '#libs/domain/datasets';
import { DatasetsService } from '#libs/domain/datasets';
import { ModelsService } from '#libs/domain/models';
import { type Cell, type ColumnStats, type DatasetFormat, readDatasetRows } from '#libs/pure/data';
import { planStoredRun, prepareData, type TrainingConfig } from '#libs/pure/training';

import { PredictionsService } from './predictions.service.js';
import { RunsService } from './runs.service.js';

/** Rows of the validation split predicted at most (the split is already shuffled, so these are a fair sample). */
export const MAX_CONFUSION_ROWS = 20_000;
const CACHED_MATRICES = 16;
const PREDICT_BATCH = 2048;

export interface ConfusionMatrix {
  /** Class labels, in the order of the matrix's rows (true class) and columns (predicted class). */
  labels: string[];
  matrix: number[][];
  /** Validation rows counted, and how many the split holds. */
  rows: number;
  validationRows: number;
  accuracy: number;
  checkpointId: string;
  epoch: number;
}

/**
 * The confusion matrix of a classification run's best checkpoint on its validation split: the dataset is read and
 * prepared exactly as the worker prepared it for training (same plan, same seeded split, same encoding), so the
 * rows counted are the rows the run validated on. Computed once per checkpoint and kept.
 */
/** Formats read row by row (an images dataset is a ZIP scanned otherwise). */
const ROW_FORMATS: readonly DatasetFormat[] = ['csv', 'jsonl'];

@Injectable()
export class ConfusionMatrixService {
  private readonly cache = new Map<string, Promise<ConfusionMatrix | null>>();

  constructor(
    private readonly runs: RunsService,
    private readonly datasets: DatasetsService,
    private readonly files: DatasetFilesRepository,
    private readonly models: ModelsService,
    private readonly predictions: PredictionsService,
  ) {}

  async forRun(run: {
    id: string;
    datasetId: string;
    modelId: string;
    hyperparameters: unknown;
    training: unknown;
  }): Promise<ConfusionMatrix | null> {
    const best = await this.runs.bestCheckpoint(run);
    if (!best) return null;
    let matrix = this.cache.get(best.id);
    if (!matrix) {
      matrix = this.compute(run, best);
      matrix.catch(() => this.cache.delete(best.id));
      this.cache.set(best.id, matrix);
      if (this.cache.size > CACHED_MATRICES) this.cache.delete(this.cache.keys().next().value!);
    }
    return matrix;
  }

  private async compute(
    run: { datasetId: string; modelId: string; hyperparameters: unknown; training: unknown },
    checkpoint: { id: string; epoch: number },
  ): Promise<ConfusionMatrix | null> {
    const dataset = await this.datasets.get(run.datasetId);
    if (!ROW_FORMATS.includes(dataset.format as DatasetFormat)) return null;
    const definition = await this.models.get(run.modelId);
    const columns = dataset.columns as unknown as ColumnStats[];
    const stored = run.training as TrainingConfig;
    // Exactly the worker's path (training.processor.ts): plan from the stored config, read, prepare.
    const plan = planStoredRun(
      definition.spec,
      (run.hyperparameters ?? {}) as Record<string, unknown>,
      stored,
      columns,
    );
    const used = [...plan.training.features, plan.training.target];
    const rows: Record<string, Cell>[] = [];
    for await (const row of readDatasetRows(this.files.pathOf(dataset.id), dataset.format as DatasetFormat)) {
      const picked: Record<string, Cell> = {};
      for (const column of used) picked[column] = row.cells[column] ?? null;
      rows.push(picked);
    }
    const data = prepareData(rows, columns, plan.training, plan.spec.loss);
    const target = data.preprocessing.target;
    if (target.task !== 'classification' || data.validationRows === 0) return null;
    const classes = target.labels.length;
    const count = Math.min(data.validationRows, MAX_CONFUSION_ROWS);
    // Token ids ([sequenceLength]) have their own input shape; a row is still `width` numbers of x.
    const shape = data.preprocessing.inputShape ?? [data.preprocessing.inputSize];
    const width = shape.reduce((product, size) => product * size, 1);
    const model = await this.predictions.model(checkpoint.id);
    const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
    let correct = 0;
    for (let start = 0; start < count; start += PREDICT_BATCH) {
      const size = Math.min(PREDICT_BATCH, count - start);
      const first = data.trainRows + start;
      const input = data.x.subarray(first * width, (first + size) * width);
      const output = tf.tidy(() => model.predict(tf.tensor(input, [size, ...shape])) as tf.Tensor2D);
      const values = (await output.data()) as Float32Array;
      const outputs = output.shape[1];
      output.dispose();
      for (let i = 0; i < size; i++) {
        const predicted = outputs === 1 ? Number(values[i] >= 0.5) : argmax(values, i * outputs, outputs);
        const actual = data.yWidth > 1 ? argmax(data.y, (first + i) * data.yWidth, data.yWidth) : data.y[first + i];
        matrix[actual][predicted]++;
        if (actual === predicted) correct++;
      }
    }
    return {
      labels: target.labels.map(String),
      matrix,
      rows: count,
      validationRows: data.validationRows,
      accuracy: count ? correct / count : 0,
      checkpointId: checkpoint.id,
      epoch: checkpoint.epoch,
    };
  }
}

function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}
