-- Dataset.warnings (contract 2): what an import skipped or doubts, e.g. a ZIP entry that is not an image.
ALTER TABLE "datasets" ADD COLUMN "warnings" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
