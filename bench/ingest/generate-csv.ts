/**
 * The CSV of issue 13's ingest benchmark: 14 columns (6 floats with 3% missing, 3 ints, 3 categories,
 * 2 dates), about 110 bytes a row, so 1.2M rows ≈ 130 MB. Seeded, so every run reads the same bytes.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

import { mulberry32 } from '#libs/pure/random';

export const INGEST_COLUMNS = [
  'temp',
  'pressure',
  'humidity',
  'wind speed',
  'score (0-1)',
  'price$',
  'count',
  'year',
  'user_id',
  'city',
  'device',
  'plan',
  'signup_date',
  'last_seen',
] as const;

const CITIES = [
  'Berlin',
  'Paris',
  'Lagos',
  'Lima',
  'Osaka',
  'Austin',
  'Oslo',
  'Delhi',
  'Quito',
  'Perth',
  'Cairo',
  'Seoul',
];
const DEVICES = ['ios', 'android', 'web', 'desktop'];
const PLANS = ['free', 'pro', 'team', 'enterprise', 'trial'];
const DAY_MS = 86_400_000;
const EPOCH_2015 = Date.UTC(2015, 0, 1);

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Writes about `targetBytes` of CSV (whole rows, at most `maxRows`) to `path`; returns the rows written. */
export async function generateIngestCsv(
  path: string,
  targetBytes: number,
  seed = 13,
  maxRows = Infinity,
): Promise<number> {
  const random = mulberry32(seed);
  const out = createWriteStream(path);
  const float = (scale: number, offset: number, digits: number) =>
    random() < 0.03 ? (random() < 0.5 ? '' : 'NA') : (offset + random() * scale).toFixed(digits);
  let bytes = 0;
  let rows = 0;
  let chunk = INGEST_COLUMNS.map((name) => (/[ ,$()]/.test(name) ? `"${name}"` : name)).join(',') + '\n';
  while (bytes + chunk.length < targetBytes && rows < maxRows) {
    const line = [
      float(60, -20, 3),
      float(100, 950, 2),
      float(1, 0, 4),
      float(40, 0, 2),
      float(1, 0, 6),
      float(1000, 1, 2),
      String(Math.floor(random() * 1000)),
      String(1990 + Math.floor(random() * 35)),
      String(Math.floor(random() * 5_000_000)),
      CITIES[Math.floor(random() * CITIES.length)],
      DEVICES[Math.floor(random() * DEVICES.length)],
      PLANS[Math.floor(random() * PLANS.length)],
      isoDate(EPOCH_2015 + Math.floor(random() * 3650) * DAY_MS),
      isoDate(EPOCH_2015 + Math.floor(random() * 4000) * DAY_MS),
    ].join(',');
    chunk += line + '\n';
    rows++;
    if (chunk.length > 1 << 20) {
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return rows;
}
