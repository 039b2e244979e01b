import type { RunStatus } from '#libs/core/db';
import {
  type Goal,
  isBetter,
  type Params,
  type ParamValue,
  type SearchSpace,
  type TrialRecord,
  type TrialState,
} from '#libs/pure/search';

export type TrialRunStatus = RunStatus;

export interface TrialRunRow {
  id: string;
  status: TrialRunStatus;
  trialIndex: number | null;
  hyperparameters: unknown;
  summary: unknown;
}

/**
 * A trial as the scheduler keeps it (table sweep_trials): the run's final status once the scheduler has seen it
 * (null while queued or running), its objective, and its parameters encoded by {@link encodeParams}.
 */
export interface SweepTrialRow {
  trialIndex: number;
  outcome: TrialRunStatus | null;
  objective: number | null;
  params: (number | null)[];
}

/** The objective of a run: its summary's value of the metric, when it is a finite number. */
export function objectiveValue(summary: unknown, metric: string): number | undefined {
  const value = (summary as Record<string, unknown> | null)?.[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * A run's state as the search algorithms see it. A finished run without the objective in its summary counts as
 * failed: it tells the sampler nothing about where the optimum is.
 */
export function trialState(status: TrialRunStatus, objective: number | null | undefined): TrialState {
  switch (status) {
    case 'QUEUED':
    case 'RUNNING':
      return 'pending';
    case 'SUCCEEDED':
      return objective === undefined || objective === null ? 'failed' : 'complete';
    case 'PRUNED':
      return 'pruned';
    default:
      return 'failed';
  }
}

function record(index: number, params: Params, status: TrialRunStatus, value: number | undefined): TrialRecord {
  const state = trialState(status, value);
  return state === 'complete' || state === 'pruned' ? { index, params, state, value } : { index, params, state };
}

/** A sweep's runs as the search algorithms see them, in trial order. */
export function trialHistory(runs: TrialRunRow[], metric: string): TrialRecord[] {
  return runs
    .filter((run) => run.trialIndex !== null)
    .map((run) =>
      record(run.trialIndex!, run.hyperparameters as Params, run.status, objectiveValue(run.summary, metric)),
    )
    .sort((a, b) => a.index - b.index);
}

/** A kept trial as the search algorithms see it: the same record {@link trialHistory} makes of its run. */
export function trialRecord(row: SweepTrialRow, space: SearchSpace): TrialRecord {
  return record(row.trialIndex, decodeParams(space, row.params), row.outcome ?? 'QUEUED', row.objective ?? undefined);
}

/**
 * The order in which a trial's parameters are kept: by the UTF-8 bytes of their names, which is how PostgreSQL's
 * "C" collation orders them too (the migration that filled sweep_trials from the runs relies on it). Not the
 * space's own key order: JSON objects and JavaScript objects may disagree on it (integer-like names).
 */
export function paramOrder(space: SearchSpace): string[] {
  return Object.keys(space).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/**
 * Parameters as numbers in {@link paramOrder}: a number as itself (float8 keeps every JavaScript number exactly),
 * a choice as the index of its value. A value the space does not have becomes null, which the samplers treat as
 * missing, as they treat a value outside the space.
 */
export function encodeParams(space: SearchSpace, params: Params): (number | null)[] {
  return paramOrder(space).map((name) => {
    const spec = space[name]!;
    const value = params[name];
    if (spec.type === 'choice') {
      const index = spec.values.indexOf(value as ParamValue);
      return index < 0 ? null : index;
    }
    return typeof value === 'number' ? value : null;
  });
}

export function decodeParams(space: SearchSpace, encoded: readonly (number | null)[]): Params {
  const params: Params = {};
  paramOrder(space).forEach((name, position) => {
    const spec = space[name]!;
    const number = encoded[position];
    if (number === null || number === undefined) return;
    if (spec.type !== 'choice') params[name] = number;
    else if (Number.isInteger(number) && number >= 0 && number < spec.values.length)
      params[name] = spec.values[number]!;
  });
  return params;
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
  const names = [
    'loss',
    ...(Array.isArray(specMetrics)
      ? specMetrics.filter((m): m is string => typeof m === 'string' && !m.startsWith('$'))
      : []),
  ];
  return validationSplit > 0 ? [...names, ...names.map((name) => `val_${name}`), 'lr'] : [...names, 'lr'];
}
