-- GP search strategy; the strategy's own options (createSweep.options), stored resolved with the sweep
ALTER TYPE "SearchStrategy" ADD VALUE IF NOT EXISTS 'GP';

ALTER TABLE "sweeps" ADD COLUMN "options" JSONB;
