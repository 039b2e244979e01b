/** The shapes the page's documents (graphql/*.graphql) select; the build checks those documents against the schema. */
export interface DatasetColumn {
  name: string;
  type: string;
  missing: number;
  distinct: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}
export interface Dataset {
  id: string;
  name: string;
  format: string;
  status: string;
  sizeBytes: number;
  rowCount: number | null;
  error?: string | null;
  warnings?: string[];
  createdAt: string;
  columns?: DatasetColumn[];
}
export interface Model {
  id: string;
  name: string;
  version: number;
  spec: unknown;
  createdAt: string;
}
export interface Checkpoint {
  id: string;
  epoch: number;
  metrics: Record<string, number> | null;
  sizeBytes: number;
  modelUrl: string;
  createdAt: string;
}
export interface Point {
  step: number;
  epoch?: number | null;
  value: number;
}
export interface MetricSeries {
  name: string;
  points: Point[];
}
export interface Run {
  id: string;
  status: string;
  device: string | null;
  attempt: number;
  epochsCompleted: number;
  hyperparameters: Record<string, unknown>;
  training: Record<string, unknown>;
  summary: Record<string, number> | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  dataset: { id: string; name: string };
  model: { id: string; name: string; version: number };
  sweep: { id: string; name: string } | null;
  checkpoints: Checkpoint[];
  bestCheckpoint: { id: string; epoch: number } | null;
}
export type RunListItem = Pick<
  Run,
  'id' | 'status' | 'device' | 'attempt' | 'epochsCompleted' | 'summary' | 'createdAt' | 'dataset' | 'model' | 'sweep'
>;
export interface Trial {
  id: string;
  status: string;
  hyperparameters: Record<string, unknown>;
  summary: Record<string, number> | null;
  epochsCompleted: number;
  createdAt: string;
}
export interface Sweep {
  id: string;
  name: string;
  status: string;
  strategy: string;
  searchSpace: Record<string, { type: string; min?: number; max?: number; values?: unknown[] }>;
  maxTrials: number;
  parallelism: number;
  createdAt: string;
  finishedAt: string | null;
  error?: string | null;
  objective: { metric: string; goal: 'MINIMIZE' | 'MAXIMIZE' };
  bestRun: { id: string } | null;
  /** PED-ANOVA shares summing to 1; null below 10 finished trials. */
  importance: Record<string, number> | null;
}
export type SweepListItem = Pick<
  Sweep,
  'id' | 'name' | 'status' | 'strategy' | 'maxTrials' | 'createdAt' | 'finishedAt' | 'objective'
>;
