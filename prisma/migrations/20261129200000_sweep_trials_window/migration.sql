-- What a TPE sweep with a bounded g(x) reads of its trials per suggestion (libs/domain/sweeps/sweep-trials.ts,
-- tpeWindowRows), each an index range that does not grow with the sweep.

-- The best complete and the best pruned trials, by objective then trial (a pruned trial without an objective
-- after those with one): one range per outcome. Also counts the observed trials, up to a bound.
CREATE INDEX "sweep_trials_ranked_idx" ON "sweep_trials"("sweep_id", "outcome", "objective", "trial_index")
    WHERE "outcome" IN ('SUCCEEDED', 'PRUNED');

-- Whether a point is taken by a trial that is not failed (queued, running, complete with an objective, pruned):
-- TPE never proposes it again.
CREATE INDEX "sweep_trials_taken_idx" ON "sweep_trials"("sweep_id", "params")
    WHERE "outcome" IS NULL OR "outcome" = 'PRUNED' OR ("outcome" = 'SUCCEEDED' AND "objective" IS NOT NULL);
