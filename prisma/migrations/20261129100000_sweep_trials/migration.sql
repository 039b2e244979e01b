-- A sweep's trials as the scheduler and the pruning rules read them (libs/domain/sweeps/sweep-trials.ts), so that
-- neither reads every run of a sweep, with its JSON, for each suggestion or each epoch.

-- One compact row per trial: the run's final status once the scheduler has settled it (NULL while queued or
-- running), the objective (the run's summary value of the sweep's metric, when a number) and the parameters as
-- numbers, ordered by the UTF-8 bytes of their names, a choice as the index of its value.
CREATE TABLE "sweep_trials" (
    "sweep_id" UUID NOT NULL,
    "trial_index" INTEGER NOT NULL,
    "run_id" UUID NOT NULL,
    "outcome" "RunStatus",
    "objective" DOUBLE PRECISION,
    "params" DOUBLE PRECISION[] NOT NULL,

    CONSTRAINT "sweep_trials_pkey" PRIMARY KEY ("sweep_id", "trial_index")
);
CREATE UNIQUE INDEX "sweep_trials_run_id_key" ON "sweep_trials"("run_id");
-- The trials not yet settled: at most a sweep's parallelism of them, whatever its size.
CREATE INDEX "sweep_trials_unsettled_idx" ON "sweep_trials"("sweep_id") WHERE "outcome" IS NULL;
ALTER TABLE "sweep_trials" ADD CONSTRAINT "sweep_trials_sweep_id_fkey"
    FOREIGN KEY ("sweep_id") REFERENCES "sweeps"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "sweep_trials" ADD CONSTRAINT "sweep_trials_run_id_fkey"
    FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The objective at each epoch of the trials a sweep's pruning rule compares against (never NaN: the rules ignore
-- it). Median: the complete and pruned trials. Asha and hyperband: every trial not failed, at its rungs.
CREATE TABLE "sweep_epoch_values" (
    "sweep_id" UUID NOT NULL,
    "trial_index" INTEGER NOT NULL,
    "epoch" INTEGER NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "sweep_epoch_values_pkey" PRIMARY KEY ("sweep_id", "trial_index", "epoch")
);
-- One epoch's values in order, ties by trial: the running median's neighbours are one seek away.
CREATE INDEX "sweep_epoch_values_order_idx" ON "sweep_epoch_values"("sweep_id", "epoch", "value", "trial_index");
ALTER TABLE "sweep_epoch_values" ADD CONSTRAINT "sweep_epoch_values_sweep_id_trial_index_fkey"
    FOREIGN KEY ("sweep_id", "trial_index") REFERENCES "sweep_trials"("sweep_id", "trial_index")
    ON DELETE CASCADE ON UPDATE CASCADE;

-- The median rule's summary of each epoch: how many values, and the two middle ones ordered by (value, trial)
-- (the same element when the count is odd), low at rank floor((count + 1) / 2), high at rank floor(count / 2) + 1.
CREATE TABLE "sweep_epoch_medians" (
    "sweep_id" UUID NOT NULL,
    "epoch" INTEGER NOT NULL,
    "count" INTEGER NOT NULL,
    "low_value" DOUBLE PRECISION NOT NULL,
    "low_trial" INTEGER NOT NULL,
    "high_value" DOUBLE PRECISION NOT NULL,
    "high_trial" INTEGER NOT NULL,

    CONSTRAINT "sweep_epoch_medians_pkey" PRIMARY KEY ("sweep_id", "epoch")
);
ALTER TABLE "sweep_epoch_medians" ADD CONSTRAINT "sweep_epoch_medians_sweep_id_fkey"
    FOREIGN KEY ("sweep_id") REFERENCES "sweeps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill, as the scheduler would have kept them (sweep-history.ts: objectiveValue, trialState, encodeParams).
INSERT INTO "sweep_trials" ("sweep_id", "trial_index", "run_id", "outcome", "objective", "params")
SELECT r."sweep_id", r."trial_index", r."id",
       CASE WHEN r."status" IN ('QUEUED', 'RUNNING') THEN NULL ELSE r."status" END,
       CASE WHEN jsonb_typeof(r."summary" -> s."metric") = 'number' THEN (r."summary" ->> s."metric")::float8 END,
       ARRAY(
         SELECT CASE
                  WHEN p.spec ->> 'type' = 'choice' THEN (
                    SELECT c.position - 1
                    FROM jsonb_array_elements(p.spec -> 'values') WITH ORDINALITY AS c(value, position)
                    WHERE c.value = r."hyperparameters" -> p.name ORDER BY c.position LIMIT 1)::float8
                  WHEN jsonb_typeof(r."hyperparameters" -> p.name) = 'number'
                    THEN (r."hyperparameters" ->> p.name)::float8
                END
         FROM jsonb_each(s."search_space") AS p(name, spec)
         ORDER BY p.name COLLATE "C")
FROM "runs" r JOIN "sweeps" s ON s."id" = r."sweep_id"
WHERE r."trial_index" IS NOT NULL;

INSERT INTO "sweep_epoch_values" ("sweep_id", "trial_index", "epoch", "value")
SELECT t."sweep_id", t."trial_index", p."epoch", p."value"
FROM "sweep_trials" t
JOIN "sweeps" s ON s."id" = t."sweep_id"
JOIN "metric_points" p ON p."run_id" = t."run_id" AND p."name" = s."metric" AND p."epoch" = p."step"
WHERE p."value" <> 'NaN' AND CASE
    -- median: the complete and pruned trials
    WHEN s."early_stopping" ->> 'rule' = 'median'
      THEN t."outcome" = 'PRUNED' OR (t."outcome" = 'SUCCEEDED' AND t."objective" IS NOT NULL)
    -- asha, hyperband: every trial not failed, at every epoch (not only its rungs: a check reads only its rung,
    -- where these are the trials that reached it)
    WHEN s."early_stopping" ->> 'rule' IN ('asha', 'hyperband')
      THEN t."outcome" IS NULL OR t."outcome" = 'PRUNED' OR (t."outcome" = 'SUCCEEDED' AND t."objective" IS NOT NULL)
    ELSE false
  END;

INSERT INTO "sweep_epoch_medians" ("sweep_id", "epoch", "count", "low_value", "low_trial", "high_value", "high_trial")
SELECT ranked."sweep_id", ranked."epoch", ranked.n,
       (array_agg(ranked."value") FILTER (WHERE ranked.rank = (ranked.n + 1) / 2))[1],
       (array_agg(ranked."trial_index") FILTER (WHERE ranked.rank = (ranked.n + 1) / 2))[1],
       (array_agg(ranked."value") FILTER (WHERE ranked.rank = ranked.n / 2 + 1))[1],
       (array_agg(ranked."trial_index") FILTER (WHERE ranked.rank = ranked.n / 2 + 1))[1]
FROM (
  SELECT v.*, count(*) OVER per_epoch AS n, row_number() OVER (per_epoch ORDER BY v."value", v."trial_index") AS rank
  FROM "sweep_epoch_values" v JOIN "sweeps" s ON s."id" = v."sweep_id"
  WHERE s."early_stopping" ->> 'rule' = 'median'
  WINDOW per_epoch AS (PARTITION BY v."sweep_id", v."epoch")
) ranked
GROUP BY ranked."sweep_id", ranked."epoch", ranked.n;
