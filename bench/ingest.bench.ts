/**
 * Dataset ingest: upload + analysis of a generated CSV through the built API (real PostgreSQL), against
 * pandas `read_csv` + the same per-column statistics, side by side in the same run.
 *
 *   npm run bench:ingest                 10 MB and 130 MB
 *   npm run bench:ingest -- --gb         also 1 GB
 *   npm run bench:ingest -- --sizes 10   only 10 MB (sizes in MB)
 *
 * For each size: ours (POST /v1/datasets until the 201 with the statistics) then pandas, `--rounds` times;
 * medians are reported. The upload is sent by `curl -F`, as a user would send it (`--client fetch` sends it with
 * Node's fetch instead: on this 2-core machine that client's own CPU, ~1.5 s for 130 MB, is taken from the API).
 * The API's RSS is sampled every 20 ms: growth over its idle RSS, peak, and the peak of the API and its child
 * processes together (the analysis runs in a child process).
 * Writes bench/results/ingest.json.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openAsBlob, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { datasetFile } from '#libs/domain/datasets';

import { TestStack } from '../test/support/stack.js';
import { generateIngestCsv } from './ingest/generate-csv.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PYTHON = '/usr/bin/python3';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

/** Direct and indirect children of a process (the analysis child and anything it starts). */
function descendants(pid: number): number[] {
  const all: number[] = [];
  for (const task of safeList(`/proc/${pid}/task`)) {
    const text = safeRead(`/proc/${pid}/task/${task}/children`).trim();
    for (const child of text ? text.split(/\s+/).map(Number) : []) all.push(child, ...descendants(child));
  }
  return all;
}

const safeList = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};
const safeRead = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

function hasCurl(): boolean {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

interface OursRound {
  seconds: number;
  mbPerSec: number;
  apiRssBeforeMB: number;
  apiRssPeakMB: number;
  apiRssGrowthMB: number;
  treeRssPeakMB: number;
}

type UploadClient = 'curl' | 'fetch';
type Posted = { status: number; dataset: Record<string, any> };

async function postWithCurl(stack: TestStack, path: string): Promise<Posted> {
  const { stdout } = await promisify(execFile)(
    'curl',
    ['-s', '-w', '\\n%{http_code}', '-F', `file=@${path};filename=ingest.csv`, `${stack.url}/v1/datasets`],
    { maxBuffer: 1 << 24 },
  );
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), dataset: JSON.parse(stdout.slice(0, cut)) };
}

async function postWithFetch(stack: TestStack, path: string): Promise<Posted> {
  const form = new FormData();
  form.append('file', await openAsBlob(path), 'ingest.csv');
  const response = await fetch(`${stack.url}/v1/datasets`, { method: 'POST', body: form });
  return { status: response.status, dataset: (await response.json()) as Record<string, any> };
}

async function uploadOnce(
  stack: TestStack,
  path: string,
  client: UploadClient,
): Promise<OursRound & { dataset: Record<string, any> }> {
  const pid = stack.api!.child.pid!;
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKiB(pid);
  let peak = before;
  let treePeak = before;
  const sampler = setInterval(() => {
    const api = rssKiB(pid);
    peak = Math.max(peak, api);
    treePeak = Math.max(treePeak, api + descendants(pid).reduce((sum, child) => sum + rssKiB(child), 0));
  }, 20);
  const started = performance.now();
  const { status, dataset } = await (client === 'curl' ? postWithCurl : postWithFetch)(stack, path);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (status !== 201) throw new Error(`upload failed (${status}): ${JSON.stringify(dataset)}`);
  // Stored datasets would fill the disk at 1 GB; the row is kept, the file goes.
  rmSync(datasetFile(stack.dataDir, dataset.id), { force: true });
  const mb = statSync(path).size / 1e6;
  return {
    dataset,
    seconds,
    mbPerSec: mb / seconds,
    apiRssBeforeMB: before / 1024,
    apiRssPeakMB: peak / 1024,
    apiRssGrowthMB: (peak - before) / 1024,
    treeRssPeakMB: treePeak / 1024,
  };
}

function pandasOnce(
  path: string,
): { seconds: number; mbPerSec: number; version: string; columns: Record<string, any> } | null {
  if (!existsSync(PYTHON)) return null;
  try {
    const out = JSON.parse(
      execFileSync(PYTHON, [join(ROOT, 'bench/ingest/pandas_peer.py'), path], { encoding: 'utf8', maxBuffer: 1 << 24 }),
    );
    return {
      seconds: out.seconds,
      mbPerSec: statSync(path).size / 1e6 / out.seconds,
      version: out.pandas,
      columns: out.columns,
    };
  } catch (error) {
    console.error(`pandas peer unavailable: ${(error as Error).message.split('\n')[0]}`);
    return null;
  }
}

async function main(): Promise<void> {
  const sizes = (argument('sizes') ?? '10,130').split(',').map(Number);
  if (process.argv.includes('--gb') && !sizes.includes(1000)) sizes.push(1000);
  const rounds = Number(argument('rounds') ?? 2);
  const label = argument('label') ?? 'current';
  const client = (argument('client') ?? (hasCurl() ? 'curl' : 'fetch')) as UploadClient;
  if (client !== 'curl' && client !== 'fetch') throw new Error(`--client must be curl or fetch, not ${client}`);
  const workDir = join(tmpdir(), 'bench-ingest');
  mkdirSync(workDir, { recursive: true });
  const stack = new TestStack();
  await stack.start({ workers: 0 });
  const results = [];
  try {
    for (const sizeMB of sizes) {
      const path = join(workDir, `ingest-${sizeMB}mb.csv`);
      if (!existsSync(path) || Math.abs(statSync(path).size - sizeMB * 1e6) > 1e6)
        await generateIngestCsv(path, sizeMB * 1e6);
      const ours: OursRound[] = [];
      const peers: number[] = [];
      let dataset: Record<string, any> = {};
      let pandasVersion: string | null = null;
      let pandasColumns: Record<string, any> | null = null;
      for (let round = 0; round < rounds; round++) {
        const { dataset: answer, ...figures } = await uploadOnce(stack, path, client);
        dataset = answer;
        ours.push(figures);
        // pandas would need ~10x the file in memory at 1 GB; it runs at the smaller sizes only.
        const peer = sizeMB <= 200 ? pandasOnce(path) : null;
        if (peer) {
          peers.push(peer.seconds);
          pandasVersion = peer.version;
          pandasColumns = peer.columns;
        }
        console.log(
          `${sizeMB} MB round ${round + 1}: ours ${figures.seconds.toFixed(2)} s ` +
            `(${figures.mbPerSec.toFixed(1)} MB/s, ` +
            `API +${figures.apiRssGrowthMB.toFixed(0)} MB, peak ${figures.apiRssPeakMB.toFixed(0)} MB, ` +
            `with children ${figures.treeRssPeakMB.toFixed(0)} MB)` +
            (peer ? `, pandas ${peer.seconds.toFixed(2)} s (${peer.mbPerSec.toFixed(1)} MB/s)` : ', pandas n/a'),
        );
      }
      const mb = statSync(path).size / 1e6;
      const oursSeconds = median(ours.map((r) => r.seconds));
      const pandasSeconds = peers.length ? median(peers) : null;
      results.push({
        sizeMB: Number(mb.toFixed(1)),
        client,
        rows: dataset.rowCount,
        columns: dataset.columns?.length,
        oursSeconds,
        oursMBPerSec: mb / oursSeconds,
        pandasSeconds,
        pandasMBPerSec: pandasSeconds ? mb / pandasSeconds : null,
        ratio: pandasSeconds ? pandasSeconds / oursSeconds : null,
        apiRssGrowthMB: Math.max(...ours.map((r) => r.apiRssGrowthMB)),
        apiRssPeakMB: Math.max(...ours.map((r) => r.apiRssPeakMB)),
        apiAndChildrenRssPeakMB: Math.max(...ours.map((r) => r.treeRssPeakMB)),
        pandas: pandasVersion,
        rounds: ours.map((r, i) => ({ ...r, pandasSeconds: peers[i] ?? null })),
        statistics: { ours: dataset.columns, pandas: pandasColumns },
      });
    }
  } finally {
    await stack.stop();
  }
  const file = resolve(ROOT, 'bench/results/ingest.json');
  mkdirSync(dirname(file), { recursive: true });
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  writeFileSync(
    file,
    JSON.stringify({ ...previous, [label]: { date: new Date().toISOString(), results } }, null, 2) + '\n',
  );
  console.table(results.map(({ rounds: _r, statistics: _s, ...row }) => row));
}

await main();
