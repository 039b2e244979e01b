import { checkpointScore, type TrainingConfig } from '#libs/pure/training';

type Ranked = { epoch: number; metrics: unknown };

/**
 * Checkpoints best first by the run's monitored metric, the later epoch first on a tie. One order for both the
 * API's best checkpoint and the worker's pruning; with no checkpoint carrying the metric, the latest comes first.
 */
export function rankCheckpoints<T extends Ranked>(checkpoints: T[], training: Pick<TrainingConfig, 'checkpoint'>): T[] {
  const scored = checkpoints.map((checkpoint) => ({
    checkpoint,
    score: checkpointScore(checkpoint.metrics, training.checkpoint),
  }));
  scored.sort((a, b) => (a.score < b.score ? -1 : a.score > b.score ? 1 : b.checkpoint.epoch - a.checkpoint.epoch));
  return scored.map((entry) => entry.checkpoint);
}

export function pickBestCheckpoint<T extends Ranked>(
  checkpoints: T[],
  training: Pick<TrainingConfig, 'checkpoint'>,
): T | null {
  return rankCheckpoints(checkpoints, training)[0] ?? null;
}
