-- What a TPE sweep with a bounded g(x) reads of its trials per suggestion (libs/domain/sweeps/sweep-trials.ts,
-- tpeWindowRows), each an index range that does not grow with the sweep. One index per read, its predicate the
-- read's own and its keys the read's order, so that no plan needs a sort or a filter whatever the planner's
-- statistics say (a sweep's rows are often newer than the last ANALYZE).

-- The best complete trials by objective, ties by trial; also counts them, up to a bound.
CREATE INDEX "sweep_trials_complete_idx" ON "sweep_trials"("sweep_id", "objective", "trial_index")
    WHERE "outcome" = 'SUCCEEDED' AND "objective" IS NOT NULL;

-- The best pruned trials the same way, those without an objective last (NULLs sort last), in trial order.
CREATE INDEX "sweep_trials_pruned_idx" ON "sweep_trials"("sweep_id", "objective", "trial_index")
    WHERE "outcome" = 'PRUNED';

-- Not failed (queued, running, complete with an objective, pruned): the newest ones, and whether a point is
-- taken (TPE never proposes a taken point again).
CREATE INDEX "sweep_trials_not_failed_idx" ON "sweep_trials"("sweep_id", "trial_index")
    WHERE "outcome" IS NULL OR "outcome" = 'PRUNED' OR ("outcome" = 'SUCCEEDED' AND "objective" IS NOT NULL);
CREATE INDEX "sweep_trials_taken_idx" ON "sweep_trials"("sweep_id", "params")
    WHERE "outcome" IS NULL OR "outcome" = 'PRUNED' OR ("outcome" = 'SUCCEEDED' AND "objective" IS NOT NULL);
