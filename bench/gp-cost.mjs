// GP's cost per suggestion at N finished random trials, as createSweep stores a GP sweep:
//   npm run build && node bench/gp-cost.mjs              (N = 500; repeats 9)
//   GP_COST_TRIALS=500,1000,2000 GP_COST_REPEATS=3 node bench/gp-cost.mjs
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

const { parseStrategyOptions, suggest, suggestOptions, sampleRandom } =
  await import('../dist/libs/pure/search/index.js');
const { mulberry32 } = await import('../dist/libs/pure/random/index.js');
const { OBJECTIVES } = await import('../dist/bench/search-objectives.js');

const sizes = (process.env.GP_COST_TRIALS ?? '500').split(',').map(Number);
const repeats = Number(process.env.GP_COST_REPEATS ?? 9);

for (const n of sizes) {
  const variants = { asStored: suggestOptions('GP', parseStrategyOptions({}, 'GP', 1000)) };
  for (const obj of OBJECTIVES) {
    const rng = mulberry32(42);
    const history = Array.from({ length: n }, (_, i) => {
      const params = sampleRandom(obj.space, rng);
      return { index: i, params, state: 'complete', value: obj.f(params) };
    });
    for (const [variant, options] of Object.entries(variants)) {
      const cpu = [];
      const wall = [];
      for (let r = 0; r < repeats; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        suggest({
          ...options,
          strategy: 'GP',
          space: obj.space,
          goal: 'MINIMIZE',
          seed: r,
          trialIndex: n,
          history,
          maxTrials: 10_000,
        });
        wall.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      cpu.sort((a, b) => a - b);
      wall.sort((a, b) => a - b);
      const mid = Math.floor((repeats - 1) / 2);
      console.log(
        `${obj.name} GP @${n} ${variant}: cpu median ${cpu[mid].toFixed(0)} ms min ${cpu[0].toFixed(0)}` +
          ` | wall median ${wall[mid].toFixed(0)} min ${wall[0].toFixed(0)} | load ${loadavg()[0].toFixed(1)}`,
      );
    }
  }
}
