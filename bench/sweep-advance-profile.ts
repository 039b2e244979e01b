/**
 * Where `SweepScheduler.advance` spends its time on a sweep of N trials, without running them:
 *
 *   npm run build && node dist/bench/sweep-advance-profile.js [N=5000] [ROUNDS=30]
 *
 * A TPE sweep (the bench:sweep space and options) is created through the API, then N settled trials are written
 * straight into its trial store (random parameters; 85 % pruned, the rest succeeded, objectives from the bench's
 * synthetic loss), and `advance` is timed ROUNDS times, each new trial settled before the next. Also timed apart:
 * reading every trial (what the full-history path does) and TPE's suggestion on the whole history.
 */
import { performance } from 'node:perf_hooks';

import {
  observedTrials,
  settleTrials,
  tpeWindowRows,
  trialProgress,
  trialRecord,
  trialRows,
} from '#libs/domain/sweeps';
import { rngFor } from '#libs/pure/random';
import { type SearchSpace, suggest, suggestOptions, tpeWindow } from '#libs/pure/search';

import { irisCsv } from '../test/support/fixtures.js';
import { CREATE_MODEL, IRIS_MLP } from '../test/support/graphql.js';
import { TestStack } from '../test/support/stack.js';
import { benchSweepInput, CREATE_SWEEP, inProcessServices } from './sweep-support.js';

/** bench:sweep's synthetic objective (importing sweep.bench.js would run that bench). */
function syntheticValLoss(params: { lr: number; hidden: number }, epoch: number, noise: number): number {
  const bowl = (Math.log10(params.lr) + 2) ** 2 + ((params.hidden - 24) / 16) ** 2;
  return 0.1 + bowl + 1 / epoch + 0.02 * noise;
}

const N = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 30);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number(sorted[Math.floor(sorted.length / 2)]!.toFixed(2));
}

async function main(): Promise<void> {
  const stack = new TestStack();
  try {
    await stack.start({ workers: 0 });
    const { body: dataset } = await stack.upload(irisCsv(), 'iris.csv', { name: 'iris' });
    const { createModel } = await stack.gqlOk(CREATE_MODEL, { input: { name: 'iris-mlp', spec: IRIS_MLP } });
    const { createSweep: sweep } = await stack.gqlOk(CREATE_SWEEP, {
      input: benchSweepInput({
        name: 'profile',
        datasetId: dataset.id,
        modelId: createModel.id,
        maxTrials: N + ROUNDS + 10,
        epochs: 5,
        seed: 11,
      }),
    });
    const { prisma, queue, scheduler } = await inProcessServices(stack);
    // The sweep's first trial was asked at creation: it stays, settled like the others.
    const rng = rngFor(5, 0);
    const rows: string[] = [];
    for (let index = 1; index < N; index++) {
      const lr = Math.exp(Math.log(1e-4) + rng() * (Math.log(0.1) - Math.log(1e-4)));
      const hidden = 8 + 8 * Math.floor(rng() * 8);
      const pruned = rng() < 0.85;
      const value = syntheticValLoss({ lr, hidden }, pruned ? 2 : 5, rng());
      rows.push(`('${sweep.id}', ${index}, gen_random_uuid(), '${pruned ? 'PRUNED' : 'SUCCEEDED'}', ${value},
        ARRAY[${hidden}, ${lr}]::float8[])`);
    }
    await prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL session_replication_role = replica`); // no runs behind these trials
      await tx.$executeRawUnsafe(
        `INSERT INTO sweep_trials (sweep_id, trial_index, run_id, outcome, objective, params) VALUES ${rows.join(',')}`,
      );
    });
    const settle = () =>
      prisma.$executeRaw`UPDATE sweep_trials SET outcome = 'PRUNED', objective = 2.5
        WHERE sweep_id = ${sweep.id}::uuid AND outcome IS NULL`;
    await settle();
    await prisma.$executeRawUnsafe('ANALYZE sweep_trials');
    const advance: number[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const began = performance.now();
      const used = process.cpuUsage();
      await scheduler.advance(sweep.id);
      const spent = process.cpuUsage(used);
      advance.push(performance.now() - began);
      cpu.push((spent.user + spent.system) / 1000);
      await settle();
    }
    const read: number[] = [];
    const fit: number[] = [];
    const stored = await prisma.sweep.findUniqueOrThrow({ where: { id: sweep.id } });
    const space = stored.searchSpace as unknown as SearchSpace;
    for (let round = 0; round < 10; round++) {
      let began = performance.now();
      const history = (await trialRows(prisma, sweep.id)).map((row) => trialRecord(row, space));
      read.push(performance.now() - began);
      began = performance.now();
      suggest({
        strategy: stored.strategy,
        space,
        goal: stored.goal,
        seed: stored.seed,
        trialIndex: history.length,
        history,
        maxTrials: stored.maxTrials,
        ...suggestOptions(stored.strategy, stored.options),
      });
      fit.push(performance.now() - began);
    }
    // advance's reads one by one (the window ones when the sweep's options bound g(x))
    const window = tpeWindow(suggestOptions(stored.strategy, stored.options).tpe, stored.maxTrials);
    const reads: Record<string, () => Promise<unknown>> = {
      settleTrials: () => settleTrials(prisma, stored),
      trialProgress: () => trialProgress(prisma, sweep.id, 5),
      ...(window
        ? {
            tpeWindowRows: () => tpeWindowRows(prisma, sweep.id, stored.goal, window),
            observedTrials: () => observedTrials(prisma, sweep.id, window.observedCap),
          }
        : {}),
    };
    const readMs: Record<string, number> = {};
    for (const [name, read] of Object.entries(reads)) {
      const times: number[] = [];
      for (let round = 0; round < 12; round++) {
        const began = performance.now();
        await read();
        if (round >= 2) times.push(performance.now() - began);
      }
      readMs[name] = median(times);
    }
    console.log(
      JSON.stringify({
        readMs,
        trials: N,
        advanceMs: median(advance),
        advanceCpuMs: median(cpu),
        readAllTrialsMs: median(read),
        tpeOnAllTrialsMs: median(fit),
        options: stored.options,
      }),
    );
    await queue.close();
    await prisma.onModuleDestroy();
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
