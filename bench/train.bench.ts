/**
 * Training throughput benchmark: tf.layers models on the best TF.js backend vs a PyTorch peer.
 *
 *   npm run bench:train [-- --backend wasm|cpu|webgpu] [--samples 8192] [--epochs 2] [--models mlp,cnn]
 *                          [--fit engine|model] [--no-peer] [--threads N] [--wasm-threads N] [--help]
 * --threads: torch.set_num_threads for the PyTorch peer (default 2).
 * --wasm-threads: XNNPACK pool size for the wasm backend (default 1; >1 uses wasm-kernels/threads.ts).
 * --fit: `engine` (default) trains through the service's own engine (buildModel + trainModel from libs/pure/training,
 *   exactly what a worker runs, per-epoch metrics and checkpoint included); `model` trains the same model on the same
 *   data with TF.js's LayersModel.fit, the library's loop, for comparison.
 * --batch N: one batch size for every model, ours and the peer's (default: the per-model sizes below).
 * --webgpu-tuning on|off: with --backend webgpu, apply libs/pure/training/webgpu.ts's tuning (default on) or run
 *   stock tfjs-backend-webgpu + Dawn defaults (the "before" numbers).
 * --out FILE: results file (default bench/results/train.json, or train-gpu.json with --backend webgpu).
 * --python PATH: interpreter for the peer (default $BENCH_PYTHON, /usr/bin/python3, then python3 on PATH).
 * --rounds N: rounds of (ours, peer) back to back (default 3); reported figures are medians over rounds.
 * --native on|off: the wasm backend's native SIMD kernels (default on; off = the JS kernels, to compare).
 * --native-threads N: threads for the native conv kernels (default one per CPU, at most 4; 1 = no pool).
 *
 * Synthetic data of MNIST shape (784 floats / 28x28x1, 10 classes). Models:
 *   mlp: 784-128(relu)-10(softmax), batch 128
 *   cnn: conv3x3x16(relu)-maxpool2-conv3x3x32(relu)-maxpool2-flatten-dense10(softmax), batch 64
 *   lstm (only with --models ...,lstm): the 784 inputs as 49 steps of 16 -> LSTM(32) -> dense10, batch 64
 *   transformer (only with --models transformer): 64 token ids (vocabulary 1000) -> token + position
 *     embedding (64) -> 2 x transformerEncoder (4 heads, ff 128, dropout 0.1) -> mean pool -> dense10, batch 64;
 *     the peer is nn.Embedding + a learned position table + nn.TransformerEncoder of the same sizes
 * Adam(1e-3) + sparseCategoricalCrossentropy. One warm-up epoch, then `epochs` timed epochs.
 * The peer (bench/torch_peer.py) runs when `/usr/bin/python3 -c 'import torch'` works.
 * Results: bench/results/train.json (one object per model) and a table on stdout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs';

import { setupWebgpu, type WebgpuSetup, webgpuTuningFromEnv } from '#libs/pure/training';
import { registerWasmTrainingKernels } from '#libs/pure/training';
import { activeNativeKernels, setNativeKernelsEnabled } from '#libs/pure/training';
import { nativePool, setNativePoolThreads } from '#libs/pure/training';
import { enableWasmThreads } from '#libs/pure/training';

import { ENGINE_BATCH, type EngineModelName, engineRun, timedEngineRun, timedModelFit } from './engine-fixture.js';

type ModelName = EngineModelName;
type Backend = 'wasm' | 'cpu' | 'webgpu';

interface Options {
  backend: Backend;
  samples: number;
  epochs: number;
  models: ModelName[];
  fit: 'engine' | 'model';
  peer: boolean;
  threads: number;
  wasmThreads: number;
  webgpuTuning: boolean;
  out: string | undefined;
  python: string | undefined;
  rounds: number;
  native: boolean;
  nativeThreads: number | undefined;
}

export interface BenchRow {
  model: ModelName;
  backend: string;
  batchSize: number;
  samplesPerSec: number;
  peer: string | null;
  peerSamplesPerSec: number | null;
  ratio: number | null;
  /** Each round's figures (ours, then the peer, back to back); the fields above are their medians. */
  rounds: Array<{ samplesPerSec: number; peerSamplesPerSec: number | null; ratio: number | null }>;
}

// --batch N overrides every model's batch size (ours and the peer's).
const BATCH: Record<ModelName, number> = { ...ENGINE_BATCH };

// Source layout: bench/train.bench.ts; compiled: dist/bench/train.bench.js. Find the repo root either way.
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = here.includes(`${join('dist', 'bench')}`) ? join(here, '..', '..') : join(here, '..');

/** The usage: this file's header comment, as the compiled file keeps it (a minified bundle does not). */
function usage(): string {
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const header = /^\/\*\*\n([\s\S]*?)\n \*\//.exec(source)?.[1];
  return header ? header.replace(/^ \* ?/gm, '') : 'usage: see the header of bench/train.bench.ts';
}

const OPTIONS = [
  'backend',
  'samples',
  'epochs',
  'models',
  'fit',
  'no-peer',
  'threads',
  'wasm-threads',
  'batch',
  'webgpu-tuning',
  'out',
  'python',
  'rounds',
  'native',
  'native-threads',
  'help',
];

function parseArgs(argv: string[]): Options {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    process.exit(0);
  }
  for (const arg of argv) {
    const name = /^--([\w-]+)/.exec(arg)?.[1];
    if (arg.startsWith('-') && (!name || !OPTIONS.includes(name))) {
      throw new Error(`unknown option ${arg} (--help lists them)`);
    }
  }
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    return eq?.slice(name.length + 3);
  };
  const backend = (get('backend') ?? 'wasm') as Backend;
  if (!['wasm', 'cpu', 'webgpu'].includes(backend))
    throw new Error(`--backend must be wasm|cpu|webgpu, got ${backend}`);
  const models = (get('models') ?? 'mlp,cnn').split(',').filter(Boolean) as ModelName[];
  for (const m of models) if (!(m in BATCH)) throw new Error(`unknown model ${m}`);
  const batch = get('batch');
  if (batch != null) {
    if (!(Number(batch) >= 1 && Number.isInteger(Number(batch))))
      throw new Error(`--batch must be an integer >= 1, got ${batch}`);
    for (const m of Object.keys(BATCH) as ModelName[]) BATCH[m] = Number(batch);
  }
  const fit = (get('fit') ?? 'engine') as Options['fit'];
  if (!['engine', 'model'].includes(fit)) throw new Error(`--fit must be engine|model, got ${fit}`);
  return {
    backend,
    samples: Number(get('samples') ?? 8192),
    epochs: Math.max(2, Number(get('epochs') ?? 2)),
    models,
    fit,
    peer: !argv.includes('--no-peer'),
    threads: Number(get('threads') ?? 2),
    wasmThreads: Number(get('wasm-threads') ?? 1),
    webgpuTuning: (get('webgpu-tuning') ?? 'on') !== 'off',
    out: get('out'),
    python: get('python'),
    rounds: Math.max(1, Number(get('rounds') ?? 3)),
    native: (get('native') ?? 'on') !== 'off',
    nativeThreads: get('native-threads') ? Number(get('native-threads')) : undefined,
  };
}

let webgpuInfo: WebgpuSetup | undefined;

async function setupBackend(backend: Backend, threads: number, o: Options): Promise<string> {
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    setNativeKernelsEnabled(o.native);
    setNativePoolThreads(o.nativeThreads);
    if (threads > 1) {
      // Opt-in: multi-threaded XNNPACK (see wasm-kernels/threads.ts). On the 2-vCPU bench machine it is SLOWER
      // (the pool's spinning workers compete with the JS thread), hence the default of 1.
      const restore = enableWasmThreads(threads);
      let ok: boolean;
      try {
        ok = await tf.setBackend('wasm');
      } catch {
        ok = false;
      } finally {
        restore();
      }
      if (!ok) throw new Error('wasm backend with threads failed to initialize; retry with --threads 1');
      await tf.ready();
      return `wasm ${wasm.getThreadsCount()}T`;
    }
  } else if (backend === 'webgpu') {
    // Dawn-based WebGPU for Node (npm `webgpu`), then the tfjs webgpu backend (libs/pure/training/webgpu.ts).
    const setup = await setupWebgpu(webgpuTuningFromEnv(o.webgpuTuning));
    if (!setup) {
      throw new Error('--backend webgpu: no WebGPU adapter found (no GPU / Vulkan driver on this machine)');
    }
    webgpuInfo = setup;
  }
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  if (backend !== 'wasm') return tf.getBackend();
  // XNNPACK runs on one thread; the native conv kernels run on the pool (wasm-kernels/native-pool.ts).
  const native = activeNativeKernels();
  const pool = native ? nativePool() : null;
  return `wasm 1T${native ? ' + native' : ''}${pool ? ` + conv pool ${pool.threads}T` : ''}`;
}

/** Samples per second over the timed epochs (after one warm-up epoch) of the worker's loop, or of model.fit. */
async function benchModel(name: ModelName, o: Options): Promise<number> {
  const run = engineRun(name, o.samples, o.epochs, BATCH[name]);
  try {
    return (await (o.fit === 'engine' ? timedEngineRun(run) : timedModelFit(run))).samplesPerSec;
  } finally {
    run.model.dispose();
  }
}

interface PeerResult {
  torch: string;
  device: string;
  threads: number;
  results: Array<{ model: ModelName; batchSize: number; samplesPerSec: number }>;
}

function runPeer(o: Options): PeerResult | null {
  const candidates = o.python
    ? [o.python]
    : [process.env.BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  const py = candidates.find((p) => {
    const probe = spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' });
    return !probe.error && probe.status === 0;
  });
  if (!py) {
    console.warn(`peer: PyTorch not available (\`${candidates.join(' / ')} -c "import torch"\` failed); peer = null`);
    return null;
  }
  let device = 'cpu';
  if (o.backend === 'webgpu') {
    const cuda = spawnSync(py, ['-c', 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'], {
      stdio: 'ignore',
    });
    if (cuda.status === 0) device = 'cuda';
  }
  const args = [
    join(repoRoot, 'bench', 'torch_peer.py'),
    '--models',
    o.models.join(','),
    '--samples',
    String(o.samples),
    '--epochs',
    String(o.epochs),
    '--threads',
    String(o.threads),
    '--device',
    device,
    '--mlp-batch',
    String(BATCH.mlp),
    '--cnn-batch',
    String(BATCH.cnn),
    '--lstm-batch',
    String(BATCH.lstm),
    '--transformer-batch',
    String(BATCH.transformer),
  ];
  const r = spawnSync(py, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) {
    console.warn(`peer: torch_peer.py failed (${r.status}): ${r.stderr}`);
    return null;
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as PeerResult;
}

function printTable(rows: BenchRow[]): void {
  const head = ['model', 'backend', 'batch', 'samples/s', 'peer', 'peer samples/s', 'ratio', 'ratio per round'];
  const body = rows.map((r) => [
    r.model,
    r.backend,
    String(r.batchSize),
    r.samplesPerSec.toFixed(0),
    r.peer ?? '-',
    r.peerSamplesPerSec == null ? '-' : r.peerSamplesPerSec.toFixed(0),
    r.ratio == null ? '-' : r.ratio.toFixed(2),
    r.rounds.map((x) => (x.ratio == null ? '-' : x.ratio.toFixed(2))).join(' '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(fmt(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const b of body) console.log(fmt(b));
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const backend = await setupBackend(o.backend, o.wasmThreads, o);
  if (webgpuInfo)
    console.log(
      `webgpu adapter: ${JSON.stringify(webgpuInfo.adapterInfo)}, tuning: ${JSON.stringify(webgpuInfo.tuning)}`,
    );
  const tuning = webgpuInfo ? (o.webgpuTuning ? ' tuned' : ' stock') : '';
  const backendLabel = `${backend}${tuning} (${o.fit === 'model' ? 'model.fit' : 'engine'})`;
  console.log(`backend: ${backend}, samples: ${o.samples}, timed epochs: ${o.epochs}, fit: ${o.fit}`);
  // Rounds of (ours, then the peer) back to back, reported as medians: on a shared VM the speed of both sides
  // drifts by tens of percent over minutes, and a ratio of two runs minutes apart measures the drift.
  const rounds: Array<{ ours: Partial<Record<ModelName, number>>; peer: PeerResult | null }> = [];
  for (let round = 1; round <= o.rounds; round++) {
    const ours: Partial<Record<ModelName, number>> = {};
    for (const m of o.models) {
      ours[m] = await benchModel(m, o);
      console.log(`round ${round}/${o.rounds} ${m}: ${ours[m]!.toFixed(0)} samples/s`);
    }
    const peer = o.peer ? runPeer(o) : null;
    for (const r of peer?.results ?? [])
      console.log(`round ${round}/${o.rounds} ${r.model} peer: ${r.samplesPerSec.toFixed(0)} samples/s`);
    rounds.push({ ours, peer });
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const peerInfo = rounds.find((r) => r.peer)?.peer ?? null;
  const rows: BenchRow[] = o.models.map((m) => {
    const perRound = rounds.map(({ ours, peer }) => {
      const p = peer?.results.find((r) => r.model === m)?.samplesPerSec ?? null;
      return { samplesPerSec: ours[m]!, peerSamplesPerSec: p, ratio: p ? ours[m]! / p : null };
    });
    const peerValues = perRound.map((r) => r.peerSamplesPerSec).filter((v): v is number => v != null);
    const ratios = perRound.map((r) => r.ratio).filter((v): v is number => v != null);
    return {
      model: m,
      backend: backendLabel,
      batchSize: BATCH[m],
      samplesPerSec: median(perRound.map((r) => r.samplesPerSec)),
      peer: peerInfo
        ? `pytorch ${peerInfo.torch} ` +
          `${peerInfo.device}${peerInfo.device === 'cpu' ? ` ${peerInfo.threads} threads` : ''}`
        : null,
      peerSamplesPerSec: peerValues.length ? median(peerValues) : null,
      ratio: ratios.length ? median(ratios) : null,
      rounds: perRound,
    };
  });
  const outDir = join(repoRoot, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = o.out ?? join(outDir, o.backend === 'webgpu' ? 'train-gpu.json' : 'train.json');
  // The rows of models this run did not measure stay (e.g. --models transformer keeps the mlp and cnn rows).
  const previous = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as BenchRow[]) : [];
  const kept = previous.filter((row) => !o.models.includes(row.model));
  writeFileSync(outFile, JSON.stringify([...kept, ...rows], null, 2) + '\n');
  printTable(rows);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
