// GP's cost per suggestion at 500 finished random trials, 9 repeats per function (run after npm run build):
//   node bench/gp-cost.mjs
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
const { suggest, sampleRandom } = await import('../dist/libs/pure/search/index.js');
const { mulberry32 } = await import('../dist/libs/pure/random/index.js');
const { OBJECTIVES } = await import('../dist/bench/search-objectives.js');
for (const obj of OBJECTIVES) {
  const rng = mulberry32(42);
  const history = Array.from({ length: 500 }, (_, i) => {
    const params = sampleRandom(obj.space, rng);
    return { index: i, params, state: 'complete', value: obj.f(params) };
  });
  const cpu = [],
    wall = [];
  for (let r = 0; r < 9; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    suggest({ strategy: 'GP', space: obj.space, goal: 'MINIMIZE', seed: r, trialIndex: 500, history, maxTrials: 1000 });
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  console.log(
    obj.name,
    'GP @500: cpu median',
    cpu[4].toFixed(0),
    'ms min',
    cpu[0].toFixed(0),
    '| wall median',
    wall[4].toFixed(0),
    'min',
    wall[0].toFixed(0),
    '| load',
    loadavg()[0].toFixed(1),
  );
}
