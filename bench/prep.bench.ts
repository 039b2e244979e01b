/**
 * The worker's data preparation at scale: a 1,000,000-row, 14-column CSV (bench/ingest/generate-csv.ts) from
 * the file to training tensors, the way a run does it: load the used columns, fit and apply the preprocessing
 * (one-hot categories, standardised numbers and dates), tf.tensor2d of x and y.
 *
 *   npm run bench:prep                    the typed-column path (DuckDB → typed arrays → prepareTable)
 *   npm run bench:prep -- --before        also the row path (csv-parse → an object a row → prepareData)
 *   npm run bench:prep -- --rows 200000
 *
 * Each path runs in a fresh process; its seconds and peak RSS (VmHWM) are reported.
 * Writes bench/results/prep.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import * as tf from '@tensorflow/tfjs';

import {
  analyzeCsvWithDuckDB,
  type Cell,
  type DatasetAnalysis,
  loadTableWithDuckDB,
  readDatasetRows,
} from '#libs/pure/data';
import { prepareData, prepareTable, resolveTrainingConfig } from '#libs/pure/training';

import { generateIngestCsv } from './ingest/generate-csv.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function peakRssMB(): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
}

/** One path in this process: prints its figures as JSON on the last line. */
async function measure(path: string, mode: 'table' | 'rows', analysisFile: string): Promise<void> {
  await tf.setBackend('cpu');
  // The upload's analysis (done once by the parent, as the API does it) is what a run starts from.
  const analysis = JSON.parse(readFileSync(analysisFile, 'utf8')) as DatasetAnalysis;
  const columns = analysis.columns;
  const training = resolveTrainingConfig({ target: 'plan', validationSplit: 0.1, seed: 1 }, columns, 1);
  const baseline = peakRssMB();
  const started = performance.now();
  let data;
  if (mode === 'table') {
    const table = await loadTableWithDuckDB(path, 'csv', columns, analysis.rowCount);
    data = prepareTable(table, columns, training, 'sparseCategoricalCrossentropy');
  } else {
    const rows: Record<string, Cell>[] = [];
    for await (const row of readDatasetRows(path, 'csv')) rows.push(row.cells);
    data = prepareData(rows, columns, training, 'sparseCategoricalCrossentropy');
  }
  const rowsUsed = data.trainRows + data.validationRows;
  const x = tf.tensor2d(data.x, [rowsUsed, data.preprocessing.inputSize]);
  const y = tf.tensor2d(data.y, [rowsUsed, data.yWidth]);
  const seconds = (performance.now() - started) / 1000;
  x.dispose();
  y.dispose();
  console.log(
    JSON.stringify({
      mode,
      seconds,
      peakRssMB: peakRssMB(),
      rssBeforeMB: baseline,
      rows: analysis.rowCount,
      rowsUsed,
      inputSize: data.preprocessing.inputSize,
    }),
  );
}

async function main(): Promise<void> {
  const rows = Number(argument('rows') ?? 1_000_000);
  const dir = join(tmpdir(), 'bench-ingest');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `prep-${rows}.csv`);
  if (!existsSync(path)) await generateIngestCsv(path, Infinity, 13, rows);
  const analysisFile = `${path}.analysis.json`;
  writeFileSync(analysisFile, JSON.stringify(await analyzeCsvWithDuckDB(path)));
  const modes: ('table' | 'rows')[] = process.argv.includes('--before') ? ['table', 'rows'] : ['table'];
  const results = [];
  for (const mode of modes) {
    const out = execFileSync(
      process.execPath,
      [
        '--max-old-space-size=8192',
        import.meta.filename,
        '--measure',
        mode,
        '--file',
        path,
        '--analysis',
        analysisFile,
      ],
      { encoding: 'utf8' },
    );
    const result = JSON.parse(out.trim().split('\n').at(-1)!);
    console.log(
      `${mode}: ${result.seconds.toFixed(2)} s, peak RSS ${result.peakRssMB.toFixed(0)} MB ` +
        `(${result.rows} rows, ${result.rowsUsed} used, ${result.inputSize} inputs)`,
    );
    results.push(result);
  }
  const file = resolve(ROOT, 'bench/results/prep.json');
  mkdirSync(dirname(file), { recursive: true });
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  writeFileSync(
    file,
    JSON.stringify({ ...previous, date: new Date().toISOString(), columns: 14, results }, null, 2) + '\n',
  );
}

const mode = argument('measure');
if (mode) await measure(argument('file')!, mode as 'table' | 'rows', argument('analysis')!);
else await main();
