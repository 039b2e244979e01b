-- Keyset pages, newest first: every *Page query seeks on (created_at, id) descending, with the
-- filter it takes in front (runs by status, runs of a sweep), so a page never scans what came before it.
CREATE INDEX "datasets_created_at_id_idx" ON "datasets"("created_at" DESC, "id" DESC);
CREATE INDEX "model_definitions_created_at_id_idx" ON "model_definitions"("created_at" DESC, "id" DESC);
CREATE INDEX "sweeps_created_at_id_idx" ON "sweeps"("created_at" DESC, "id" DESC);
CREATE INDEX "runs_created_at_id_idx" ON "runs"("created_at" DESC, "id" DESC);
CREATE INDEX "runs_status_created_at_id_idx" ON "runs"("status", "created_at" DESC, "id" DESC);
CREATE INDEX "runs_sweep_id_created_at_id_idx" ON "runs"("sweep_id", "created_at" DESC, "id" DESC);
