-- Keys get a role: admin (keys and deletes), write (uploads, models, runs, sweeps, cancels), read (queries,
-- subscriptions, downloads, predict). Keys made before roles existed could do everything: they stay admin.
ALTER TABLE "api_keys" ADD COLUMN "role" TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_role_check" CHECK ("role" IN ('admin', 'write', 'read'));
