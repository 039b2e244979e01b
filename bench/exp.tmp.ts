import { OBJECTIVES, runSweep, median } from './search-objectives.js';
const variants: Record<string, any> = JSON.parse(process.argv[2]!);
for (const [vn, opts] of Object.entries(variants)) {
  const row = [vn];
  for (const obj of OBJECTIVES) {
    const r = Array.from({ length: 20 }, (_, s) => runSweep(obj, opts, 1000 + s, 50, opts.par ?? 1).regret);
    row.push(`${obj.name}=${median(r).toFixed(4)}`);
  }
  console.log(row.join('  '));
}
