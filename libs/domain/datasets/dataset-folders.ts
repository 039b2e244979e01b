import { join } from 'node:path';

// Where dataset files live under DATA_DIR: the one place their folders are named.

/** Uploads being received (and any a crashed process left behind), each named by a fresh id. */
export function uploadsFolder(dataDir: string): string {
  return join(dataDir, 'uploads');
}

/** Stored dataset files, each named by its dataset's id alone: a name from an upload never reaches a path. */
export function datasetsFolder(dataDir: string): string {
  return join(dataDir, 'datasets');
}

/** The stored file of a dataset. */
export function datasetFile(dataDir: string, datasetId: string): string {
  return join(datasetsFolder(dataDir), datasetId);
}
