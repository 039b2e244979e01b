/**
 * A sweep's trials as the scheduler and the pruning rules read them, kept beside the runs so that neither reads
 * every run of the sweep (with its JSON) per suggestion or per epoch:
 *
 * - sweep_trials: one compact row per trial (outcome, objective, parameters as numbers), written when the trial is
 *   asked and settled by the scheduler once its run has finished ({@link settleTrials}, under the sweep's lock);
 * - sweep_epoch_values: the objective at each epoch of the trials the sweep's pruning rule compares against
 *   (median: the complete and pruned trials, added when they settle; asha and hyperband: every trial that is not
 *   failed, at its rungs, added when it reports them);
 * - sweep_epoch_medians: for the median rule, the median of those values at each epoch as its two middle elements
 *   (epoch-median.ts), so that a check reads one row whatever the number of trials.
 *
 * Every function takes the client to use (the scheduler's transaction or the service's pool).
 */
import { Prisma } from '#libs/core/db';
import { ACTIVE_RUN_STATUSES } from '#libs/domain/runs';
import {
  type EarlyStoppingRule,
  type Goal,
  gridSize,
  medianRulePrunes,
  type Params,
  ruleChecksAt,
  type SearchSpace,
  shouldPrune,
  tpeDraws,
  type TpeInput,
  type tpeWindow,
  type TrialRecord,
} from '#libs/pure/search';

import { addToMedian, type EpochMedian, medianValue, type RankedValue } from './epoch-median.js';
import { encodeParams, type SweepTrialRow, trialRecord, type TrialRunStatus, trialState } from './sweep-history.js';

type Db = Prisma.TransactionClient;

/** What the functions here need of a sweep. */
export interface SweepKeys {
  id: string;
  metric: string;
  earlyStopping: unknown;
}

/** Keeps a trial just asked, in the transaction that creates its run: `outcome` FAILED for one failed at once. */
export async function keepTrial(
  db: Db,
  trial: { sweepId: string; trialIndex: number; runId: string; space: SearchSpace; params: Params; failed: boolean },
): Promise<void> {
  const params = encodeParams(trial.space, trial.params);
  await db.$executeRaw`
    INSERT INTO sweep_trials (sweep_id, trial_index, run_id, outcome, params)
    VALUES (${trial.sweepId}::uuid, ${trial.trialIndex}, ${trial.runId}::uuid,
            ${trial.failed ? 'FAILED' : null}::"RunStatus", ${floatArray(params)}::float8[])`;
}

/**
 * Settles the trials whose runs have finished since the scheduler last looked: their outcome and objective, and
 * the pruning rule's values. Only the unsettled trials are read (at most the sweep's parallelism of them, through
 * a partial index), never the sweep's history. Call it under the sweep's lock, before reading the trials.
 */
export async function settleTrials(db: Db, sweep: SweepKeys): Promise<void> {
  // The objective as objectiveValue takes it from the summary: a JSON number (never NaN or infinite).
  const settled = await db.$queryRaw<
    { trialIndex: number; runId: string; status: TrialRunStatus; objective: number | null }[]
  >`
    UPDATE sweep_trials t
    SET outcome = r.status,
        objective = CASE WHEN jsonb_typeof(r.summary -> ${sweep.metric}) = 'number'
                         THEN (r.summary ->> ${sweep.metric})::float8 END
    FROM runs r
    WHERE t.sweep_id = ${sweep.id}::uuid AND t.outcome IS NULL
      AND r.id = t.run_id AND r.status::text <> ALL(${ACTIVE_RUN_STATUSES}::text[])
    RETURNING t.trial_index AS "trialIndex", t.run_id AS "runId", t.outcome::text AS status, t.objective`;
  const rule = sweep.earlyStopping as EarlyStoppingRule | null;
  if (!rule) return;
  for (const trial of settled.sort((a, b) => a.trialIndex - b.trialIndex)) {
    const state = trialState(trial.status, trial.objective);
    const counts = state === 'complete' || state === 'pruned';
    if (rule.rule === 'median') {
      if (counts) await addFinishedValues(db, sweep, trial);
    } else if (counts) {
      await addRungValues(db, sweep, rule, trial);
    } else {
      await db.$executeRaw`
        DELETE FROM sweep_epoch_values WHERE sweep_id = ${sweep.id}::uuid AND trial_index = ${trial.trialIndex}`;
    }
  }
}

/** The median rule's population grows by a finished trial: its values, and each epoch's median moved past them. */
async function addFinishedValues(
  db: Db,
  sweep: SweepKeys,
  trial: { trialIndex: number; runId: string },
): Promise<void> {
  // The values join the epochs' sets; the seeks in the same statement still see each set as it was, which is
  // what addToMedian takes: the current middle of each epoch and the elements just outside it.
  const added = await db.$queryRaw<AddedValueRow[]>`
    WITH added AS (
      INSERT INTO sweep_epoch_values (sweep_id, trial_index, epoch, value)
      SELECT ${sweep.id}::uuid, ${trial.trialIndex}, p.epoch, p.value
      FROM metric_points p
      WHERE p.run_id = ${trial.runId}::uuid AND p.name = ${sweep.metric} AND p.epoch = p.step AND p.value <> 'NaN'
      ON CONFLICT DO NOTHING
      RETURNING epoch, value
    )
    SELECT a.epoch, a.value, m.count, m.low_value AS "lowValue", m.low_trial AS "lowTrial",
           m.high_value AS "highValue", m.high_trial AS "highTrial",
           below.value AS "belowValue", below.trial_index AS "belowTrial",
           above.value AS "aboveValue", above.trial_index AS "aboveTrial"
    FROM added a
    LEFT JOIN sweep_epoch_medians m ON m.sweep_id = ${sweep.id}::uuid AND m.epoch = a.epoch
    LEFT JOIN LATERAL (
      SELECT v.value, v.trial_index FROM sweep_epoch_values v
      WHERE v.sweep_id = ${sweep.id}::uuid AND v.epoch = a.epoch
        AND (v.value, v.trial_index) < (m.low_value, m.low_trial)
      ORDER BY v.value DESC, v.trial_index DESC LIMIT 1
    ) below ON true
    LEFT JOIN LATERAL (
      SELECT v.value, v.trial_index FROM sweep_epoch_values v
      WHERE v.sweep_id = ${sweep.id}::uuid AND v.epoch = a.epoch
        AND (v.value, v.trial_index) > (m.high_value, m.high_trial)
      ORDER BY v.value, v.trial_index LIMIT 1
    ) above ON true`;
  if (added.length === 0) return;
  const next = added.map((row) => {
    const current: EpochMedian | null =
      row.count === null
        ? null
        : { count: row.count, low: ranked(row.lowValue, row.lowTrial)!, high: ranked(row.highValue, row.highTrial)! };
    const neighbours = { below: ranked(row.belowValue, row.belowTrial), above: ranked(row.aboveValue, row.aboveTrial) };
    const median = addToMedian(current, { value: row.value, trial: trial.trialIndex }, neighbours);
    return { epoch: row.epoch, median };
  });
  await db.$executeRaw`
    INSERT INTO sweep_epoch_medians (sweep_id, epoch, count, low_value, low_trial, high_value, high_trial)
    SELECT ${sweep.id}::uuid, m.* FROM unnest(
      ${next.map((row) => row.epoch)}::int[], ${next.map((row) => row.median.count)}::int[],
      ${floatArray(next.map((row) => row.median.low.value))}::float8[],
      ${next.map((row) => row.median.low.trial)}::int[],
      ${floatArray(next.map((row) => row.median.high.value))}::float8[],
      ${next.map((row) => row.median.high.trial)}::int[]
    ) AS m(epoch, count, low_value, low_trial, high_value, high_trial)
    ON CONFLICT (sweep_id, epoch) DO UPDATE SET count = EXCLUDED.count,
      low_value = EXCLUDED.low_value, low_trial = EXCLUDED.low_trial,
      high_value = EXCLUDED.high_value, high_trial = EXCLUDED.high_trial`;
}

interface AddedValueRow {
  epoch: number;
  value: number;
  count: number | null;
  lowValue: number | null;
  lowTrial: number | null;
  highValue: number | null;
  highTrial: number | null;
  belowValue: number | null;
  belowTrial: number | null;
  aboveValue: number | null;
  aboveTrial: number | null;
}

function ranked(value: number | null, trial: number | null): RankedValue | null {
  return value === null || trial === null ? null : { value, trial };
}

/**
 * A trial that ends complete or pruned keeps its values at its rungs: each was added when the trial reported it,
 * and is taken again from the metric points here in case a lost worker reported an epoch without checking it.
 */
async function addRungValues(
  db: Db,
  sweep: SweepKeys,
  rule: EarlyStoppingRule,
  trial: { trialIndex: number; runId: string },
): Promise<void> {
  const points = await db.$queryRaw<{ epoch: number; value: number }[]>`
    SELECT p.epoch, p.value FROM metric_points p
    WHERE p.run_id = ${trial.runId}::uuid AND p.name = ${sweep.metric} AND p.epoch = p.step AND p.value <> 'NaN'`;
  const rungs = points.filter((point) => ruleChecksAt(rule, trial.trialIndex, point.epoch));
  if (rungs.length === 0) return;
  await db.$executeRaw`
    INSERT INTO sweep_epoch_values (sweep_id, trial_index, epoch, value)
    SELECT ${sweep.id}::uuid, ${trial.trialIndex}, v.epoch, v.value
    FROM unnest(${rungs.map((point) => point.epoch)}::int[], ${floatArray(rungs.map((point) => point.value))}::float8[])
      AS v(epoch, value)
    ON CONFLICT (sweep_id, trial_index, epoch) DO UPDATE SET value = EXCLUDED.value`;
}

/** Every trial of the sweep in trial order, compact: what TPE and GP fit. */
export function trialRows(db: Db, sweepId: string): Promise<SweepTrialRow[]> {
  return db.$queryRaw<SweepTrialRow[]>`
    SELECT trial_index AS "trialIndex", outcome::text AS outcome, objective, params
    FROM sweep_trials WHERE sweep_id = ${sweepId}::uuid ORDER BY trial_index`;
}

/** Where a sweep stands: trials asked, trials still queued or running, the outcomes of the first `firstCount`. */
export interface TrialProgress {
  asked: number;
  active: number;
  first: (TrialRunStatus | null)[];
}

/** The progress read from the rows a model-based strategy reads anyway. */
export function progressOf(rows: SweepTrialRow[], firstCount: number): TrialProgress {
  return {
    asked: rows.length,
    active: rows.filter((row) => row.outcome === null).length,
    first: rows.filter((row) => row.trialIndex < firstCount).map((row) => row.outcome),
  };
}

/** The progress alone, for the strategies that need no history: one seek, a partial index, a short range. */
export async function trialProgress(db: Db, sweepId: string, firstCount: number): Promise<TrialProgress> {
  const [progress] = await db.$queryRaw<TrialProgress[]>`
    SELECT coalesce((SELECT max(trial_index) + 1 FROM sweep_trials WHERE sweep_id = ${sweepId}::uuid), 0)::int AS asked,
           (SELECT count(*) FROM sweep_trials WHERE sweep_id = ${sweepId}::uuid AND outcome IS NULL)::int AS active,
           ARRAY(SELECT outcome::text FROM sweep_trials
                 WHERE sweep_id = ${sweepId}::uuid AND trial_index < ${firstCount} ORDER BY trial_index) AS first`;
  return progress!;
}

/** What the sweep's first trial's run said when it failed. */
export async function firstTrialError(db: Db, sweepId: string): Promise<string | null> {
  const [row] = await db.$queryRaw<{ error: string | null }[]>`
    SELECT r.error FROM sweep_trials t JOIN runs r ON r.id = t.run_id
    WHERE t.sweep_id = ${sweepId}::uuid ORDER BY t.trial_index LIMIT 1`;
  return row?.error ?? null;
}

/** Whether every trial of the sweep settled as FAILED (false when there is none). */
export async function allTrialsFailed(db: Db, sweepId: string): Promise<boolean> {
  const [row] = await db.$queryRaw<{ failed: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM sweep_trials WHERE sweep_id = ${sweepId}::uuid)
       AND NOT EXISTS (
         SELECT 1 FROM sweep_trials WHERE sweep_id = ${sweepId}::uuid AND outcome IS DISTINCT FROM 'FAILED'
       ) AS failed`;
  return row!.failed;
}

/**
 * Whether the sweep's early-stopping rule stops this trial after `epoch`. What is read does not grow with the
 * sweep: the trial's own series, and for the median rule one summary row of the other trials at this epoch. For
 * asha and hyperband the trial's value joins the epoch's values first (at its rungs only), then the values there
 * are compared: one indexed range of the trials that reached this rung.
 */
export async function pruneCheck(db: Db, runId: string, sweepId: string, epoch: number): Promise<boolean> {
  const [found] = await db.$queryRaw<PruneCheckRow[]>`
    SELECT s.early_stopping AS "earlyStopping", s.goal::text AS goal, t.trial_index AS "trialIndex",
           own.epochs, own.values, m.count, m.low_value AS "lowValue", m.low_trial AS "lowTrial",
           m.high_value AS "highValue", m.high_trial AS "highTrial"
    FROM sweep_trials t
    JOIN sweeps s ON s.id = t.sweep_id
    LEFT JOIN LATERAL (
      SELECT array_agg(p.epoch ORDER BY p.step) AS epochs, array_agg(p.value ORDER BY p.step) AS values
      FROM metric_points p WHERE p.run_id = t.run_id AND p.name = s.metric AND p.epoch <= ${epoch}
    ) own ON true
    LEFT JOIN sweep_epoch_medians m ON m.sweep_id = t.sweep_id AND m.epoch = ${epoch}
    WHERE t.run_id = ${runId}::uuid AND t.sweep_id = ${sweepId}::uuid`;
  if (!found || !found.earlyStopping) return false;
  const rule = found.earlyStopping as EarlyStoppingRule;
  if (!ruleChecksAt(rule, found.trialIndex, epoch)) return false;
  const trial = ownRecord(found.trialIndex, found.epochs ?? [], found.values ?? []);
  if (rule.rule === 'median') {
    const others =
      found.count === null
        ? { count: 0, median: NaN }
        : {
            count: found.count,
            median: medianValue({
              count: found.count,
              low: ranked(found.lowValue, found.lowTrial)!,
              high: ranked(found.highValue, found.highTrial)!,
            }),
          };
    return medianRulePrunes(rule, found.goal, epoch, trial, others);
  }
  const value = trial.intermediate?.[epoch];
  if (value === undefined) return false;
  if (Number.isNaN(value)) return shouldPrune(rule, { goal: found.goal, trial, epoch, history: [trial] });
  const competitors = await db.$queryRaw<{ trialIndex: number; value: number }[]>`
    WITH own AS (
      INSERT INTO sweep_epoch_values (sweep_id, trial_index, epoch, value)
      VALUES (${sweepId}::uuid, ${found.trialIndex}, ${epoch}, ${String(value)}::float8)
      ON CONFLICT (sweep_id, trial_index, epoch) DO UPDATE SET value = EXCLUDED.value
    )
    SELECT trial_index AS "trialIndex", value FROM sweep_epoch_values
    WHERE sweep_id = ${sweepId}::uuid AND epoch = ${epoch} AND trial_index <> ${found.trialIndex}`;
  // A failed trial's values go when it settles: every value here competes (asha leaves out only failed trials).
  const history: TrialRecord[] = competitors.map((row) => ({
    index: row.trialIndex,
    params: {},
    state: 'pending',
    intermediate: { [epoch]: row.value },
  }));
  return shouldPrune(rule, { goal: found.goal, trial, epoch, history: [...history, trial] });
}

interface PruneCheckRow {
  earlyStopping: unknown;
  goal: Goal;
  trialIndex: number;
  epochs: number[] | null;
  values: number[] | null;
  count: number | null;
  lowValue: number | null;
  lowTrial: number | null;
  highValue: number | null;
  highTrial: number | null;
}

/** The trial's own series as the pruning rules take it: value by epoch (the last point of an epoch wins). */
function ownRecord(index: number, epochs: number[], values: number[]): TrialRecord {
  const intermediate: Record<number, number> = {};
  epochs.forEach((epoch, position) => (intermediate[epoch] = values[position]!));
  return { index, params: {}, state: 'pending', intermediate };
}

/**
 * Numbers for a float8[] parameter, as text: Prisma sends parameters as JSON, where NaN and the infinities become
 * null; String gives the shortest text that reads back as the same double, and those three by name.
 */
function floatArray(values: readonly (number | null)[]): string[] | (string | null)[] {
  return values.map((value) => (value === null ? null : String(value)));
}

/** Not failed, as the search algorithms see a trial: queued or running, complete with an objective, or pruned. */
const NOT_FAILED = Prisma.sql`
  (outcome IS NULL OR outcome = 'PRUNED' OR (outcome = 'SUCCEEDED' AND objective IS NOT NULL))`;

/**
 * The trials a TPE suggestion with a bounded g(x) depends on (tpeWindow in libs/pure/search/tpe.ts), in trial
 * order: the best complete and best pruned ones and the newest ones not failed, each an index range
 * (prisma/migrations/20261129200000_sweep_trials_window) whatever the sweep's size.
 */
export async function tpeWindowRows(
  db: Db,
  sweepId: string,
  goal: Goal,
  window: { bestComplete: number; bestPruned: number; newest: number },
): Promise<SweepTrialRow[]> {
  // Ranked as splitTrials ranks them: better objective first, ties by trial; a pruned trial without one last.
  const order = Prisma.raw(goal === 'MAXIMIZE' ? 'DESC' : 'ASC');
  const read = (where: Prisma.Sql, orderBy: Prisma.Sql, limit: number) =>
    limit <= 0
      ? Promise.resolve([])
      : db.$queryRaw<SweepTrialRow[]>`
          SELECT trial_index AS "trialIndex", outcome::text AS outcome, objective, params FROM sweep_trials
          WHERE sweep_id = ${sweepId}::uuid AND ${where} ORDER BY ${orderBy} LIMIT ${limit}`;
  const complete = await read(
    Prisma.sql`outcome = 'SUCCEEDED' AND objective IS NOT NULL`,
    Prisma.sql`objective ${order}, trial_index`,
    window.bestComplete,
  );
  const pruned = await read(
    Prisma.sql`outcome = 'PRUNED' AND objective IS NOT NULL`,
    Prisma.sql`objective ${order}, trial_index`,
    window.bestPruned,
  );
  // those without an objective rank after every pruned trial with one
  const unranked = await read(
    Prisma.sql`outcome = 'PRUNED' AND objective IS NULL`,
    Prisma.sql`trial_index`,
    window.bestPruned - pruned.length,
  );
  const newest = await read(NOT_FAILED, Prisma.sql`trial_index DESC`, window.newest);
  const byIndex = new Map<number, SweepTrialRow>();
  for (const row of [...complete, ...pruned, ...unranked, ...newest]) byIndex.set(row.trialIndex, row);
  return [...byIndex.values()].sort((a, b) => a.trialIndex - b.trialIndex);
}

/** The sweep's complete and pruned trials, counted up to `cap` (past it the count changes no suggestion). */
export async function observedTrials(db: Db, sweepId: string, cap: number): Promise<number> {
  const [row] = await db.$queryRaw<{ observed: number }[]>`
    SELECT (
      (SELECT count(*) FROM (
        SELECT 1 FROM sweep_trials
        WHERE sweep_id = ${sweepId}::uuid AND outcome = 'SUCCEEDED' AND objective IS NOT NULL LIMIT ${cap}) c)
      + (SELECT count(*) FROM (
        SELECT 1 FROM sweep_trials WHERE sweep_id = ${sweepId}::uuid AND outcome = 'PRUNED' LIMIT ${cap}) p)
    )::int AS observed`;
  return Math.min(row!.observed, cap);
}

/** Whether a trial that is not failed has these parameters (encoded as the trial store keeps them). */
async function pointTaken(db: Db, sweepId: string, params: (number | null)[]): Promise<boolean> {
  const [row] = await db.$queryRaw<{ taken: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM sweep_trials
      WHERE sweep_id = ${sweepId}::uuid AND params = ${floatArray(params)}::float8[] AND ${NOT_FAILED}
    ) AS taken`;
  return row!.taken;
}

/** How many distinct points the trials that are not failed hold. */
async function pointsTaken(db: Db, sweepId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ points: number }[]>`
    SELECT count(DISTINCT params)::int AS points FROM sweep_trials WHERE sweep_id = ${sweepId}::uuid AND ${NOT_FAILED}`;
  return row!.points;
}

/**
 * TPE's suggestion for a sweep whose stored options bound g(x), reading only the window of its trials the
 * suggestion depends on and asking the trial store whether a candidate is taken: the same parameters as
 * suggestTpe on the sweep's whole history (test/medium/sweep-tpe-window.medium.ts holds the two together).
 */
export async function suggestTpeFromStore(
  db: Db,
  input: Omit<TpeInput, 'history' | 'observed'>,
  sweepId: string,
  window: NonNullable<ReturnType<typeof tpeWindow>>,
): Promise<Params> {
  const rows = await tpeWindowRows(db, sweepId, input.goal, window);
  const observed = await observedTrials(db, sweepId, window.observedCap);
  const history = rows.map((row) => trialRecord(row, input.space));
  const points = gridSize(input.space);
  let last: Params | undefined;
  // The choice suggestTpe makes among the same candidates, with the store in place of the history's set of points.
  for (const params of tpeDraws({ ...input, history, observed })) {
    if (!(await pointTaken(db, sweepId, encodeParams(input.space, params)))) return params;
    if (last === undefined && Number.isFinite(points) && (await pointsTaken(db, sweepId)) >= points) return params;
    last = params;
  }
  return last!;
}
