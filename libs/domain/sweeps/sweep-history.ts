import { type Goal, isBetter, type Params, type TrialRecord } from '#libs/pure/search';

export interface TrialRunRow {
  id: string;
  status: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'PRUNED';
  trialIndex: number | null;
  hyperparameters: unknown;
  summary: unknown;
}

/** The objective of a run: its summary's value of the metric, when it is a finite number. */
export function objectiveValue(summary: unknown, metric: string): number | undefined {
  const value = (summary as Record<string, unknown> | null)?.[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * A sweep's runs as the search algorithms see them. A finished run without the objective in its
 * summary counts as failed: it tells the sampler nothing about where the optimum is.
 */
export function trialHistory(runs: TrialRunRow[], metric: string, intermediates: Map<string, Record<number, number>> = new Map()): TrialRecord[] {
  return runs
    .filter((run) => run.trialIndex !== null)
    .map((run) => {
      const value = objectiveValue(run.summary, metric);
      const intermediate = intermediates.get(run.id);
      const base = { index: run.trialIndex!, params: run.hyperparameters as Params, intermediate };
      switch (run.status) {
        case 'QUEUED':
        case 'RUNNING':
          return { ...base, state: 'pending' as const };
        case 'SUCCEEDED':
          return value === undefined ? { ...base, state: 'failed' as const } : { ...base, state: 'complete' as const, value };
        case 'PRUNED':
          return { ...base, state: 'pruned' as const, value };
        default:
          return { ...base, state: 'failed' as const };
      }
    })
    .sort((a, b) => a.index - b.index);
}

/** The succeeded run with the best objective; ties go to the first in `runs`. Null if none. */
export function bestRunId(runs: TrialRunRow[], metric: string, goal: Goal): string | null {
  let best: { id: string; value: number } | null = null;
  for (const run of runs) {
    if (run.status !== 'SUCCEEDED') continue;
    const value = objectiveValue(run.summary, metric);
    if (value === undefined) continue;
    if (isBetter(value, best?.value, goal)) best = { id: run.id, value };
  }
  return best?.id ?? null;
}

/** The metrics a run of this spec reports, for checking a sweep's objective before it starts. */
export function reportedMetrics(specMetrics: unknown, validationSplit: number): string[] {
  const names = ['loss', ...(Array.isArray(specMetrics) ? specMetrics.filter((m): m is string => typeof m === 'string' && !m.startsWith('$')) : [])];
  return validationSplit > 0 ? [...names, ...names.map((name) => `val_${name}`), 'lr'] : [...names, 'lr'];
}
