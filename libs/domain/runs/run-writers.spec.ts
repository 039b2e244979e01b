import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const OWNER = 'libs/domain/runs/run-lifecycle.repository.ts';
/** A write to the runs table, through Prisma or in SQL (deleting an ended run changes no status). */
const RUN_WRITE = /\.run\.(create|createMany|update|updateMany|upsert)\(|\bUPDATE\s+runs\b|\bINSERT\s+INTO\s+runs\b/i;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' || entry.name === 'node_modules' ? [] : sources(path);
    return /\.ts$/.test(entry.name) && !/\.(spec|e2e|medium|check)\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe('the run lifecycle has one writer', () => {
  it(`finds no write to the runs table in apps/ or libs/ outside ${OWNER}`, () => {
    const files = [...sources(join(ROOT, 'apps')), ...sources(join(ROOT, 'libs'))];
    expect(files.map((file) => relative(ROOT, file))).toContain(OWNER);
    const writers = files
      .filter((file) => relative(ROOT, file) !== OWNER)
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line, index) => ({ where: `${relative(ROOT, file)}:${index + 1}`, line }))
          .filter(({ line }) => RUN_WRITE.test(line)),
      );
    expect(writers).toEqual([]);
  });
});
