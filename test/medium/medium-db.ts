import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type AppConfig, loadConfig } from '#libs/core/config';
import {
  applyMigrations,
  type Prisma,
  PrismaService,
  type Run as RunRow,
  RunEventsRepository,
  type RunStatus,
} from '#libs/core/db';
import { PgBossJobQueue, type TrainRunJob } from '#libs/core/queue';
import { DatasetFilesRepository, DatasetsRepository, DatasetsService } from '#libs/domain/datasets';
import { ModelsRepository, ModelsService } from '#libs/domain/models';
import { RunLifecycle, RunLifecycleRepository, RunsRepository, RunsService } from '#libs/domain/runs';
import { SweepScheduler, SweepsRepository, SweepsService } from '#libs/domain/sweeps';
import { analyzeDataset } from '#libs/pure/data';

import { irisCsv } from '../support/fixtures.js';
import { IRIS_MLP } from '../support/graphql.js';
import { databaseUrl, dropDatabase } from '../support/postgres.js';

/** The training config a run of the iris MLP is stored with (as planRun writes it). */
export const IRIS_TRAINING = { target: 'Species', epochs: 5, batchSize: 16, validationSplit: 0.2, seed: 1 };

/**
 * The medium tier's world: one fresh PostgreSQL database (the real migrations), and the domain services wired by hand
 * over their real repositories and a real queue (pg-boss on the same database), all in the test's own process.
 */
export class MediumDb {
  readonly name = `tas_medium_${randomBytes(4).toString('hex')}`;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'tas-medium-'));
  readonly config: AppConfig;
  readonly prisma: PrismaService;
  readonly events: RunEventsRepository;
  readonly lifecycle: RunLifecycle;
  readonly runsRepository: RunsRepository;
  readonly queue: PgBossJobQueue;
  readonly scheduler: SweepScheduler;
  readonly datasets: DatasetsService;
  readonly models: ModelsService;
  readonly runs: RunsService;
  readonly sweeps: SweepsService;

  private constructor(env: NodeJS.ProcessEnv) {
    this.config = loadConfig({
      DATABASE_URL: databaseUrl(this.name),
      DATA_DIR: this.dataDir,
      QUEUE_NAME: 'training',
      ...env,
    });
    this.prisma = new PrismaService(this.config);
    this.events = new RunEventsRepository(this.prisma, this.config);
    this.lifecycle = new RunLifecycle(new RunLifecycleRepository(this.prisma), this.events);
    this.runsRepository = new RunsRepository(this.prisma);
    this.queue = new PgBossJobQueue({ databaseUrl: this.config.databaseUrl, queueName: this.config.queue.name });
    this.scheduler = new SweepScheduler(this.prisma, this.events, this.queue, this.config, this.lifecycle);
    this.datasets = new DatasetsService(
      new DatasetsRepository(this.prisma),
      new DatasetFilesRepository(this.config),
      this.config,
    );
    this.models = new ModelsService(new ModelsRepository(this.prisma), this.config);
    this.runs = new RunsService(
      this.runsRepository,
      this.lifecycle,
      this.datasets,
      this.models,
      this.scheduler,
      this.queue,
      this.config,
    );
    this.sweeps = new SweepsService(
      new SweepsRepository(this.prisma),
      this.datasets,
      this.models,
      this.scheduler,
      this.config,
    );
  }

  /** `env` as the processes read it (WORKER_HEARTBEAT_TIMEOUT, MAX_ATTEMPTS, MAX_MODEL_PARAMS, ...). */
  static async create(env: NodeJS.ProcessEnv = {}): Promise<MediumDb> {
    const db = new MediumDb(env);
    await applyMigrations(db.config.databaseUrl);
    await db.queue.start();
    return db;
  }

  /** The real Iris data analysed as an upload is, and the iris MLP: what every run here trains on. */
  async seedIris(): Promise<{ datasetId: string; modelId: string }> {
    const csv = irisCsv();
    const path = join(this.dataDir, 'iris.csv');
    writeFileSync(path, csv);
    const analysis = await analyzeDataset(path, 'csv');
    const dataset = await new DatasetsRepository(this.prisma).create({
      id: randomUUID(),
      name: 'iris',
      format: 'csv',
      sizeBytes: Buffer.byteLength(csv),
      rowCount: analysis.rowCount,
      columns: analysis.columns,
      warnings: [],
    });
    const model = await this.models.create('iris-mlp', IRIS_MLP);
    return { datasetId: dataset.id, modelId: model.id };
  }

  /** A run put straight into `status`, as an earlier transition would have left it. */
  async runIn(
    status: RunStatus,
    seed: { datasetId: string; modelId: string },
    fields: Partial<Prisma.RunUncheckedCreateInput> = {},
  ): Promise<RunRow> {
    return this.prisma.run.create({
      data: {
        id: randomUUID(),
        status,
        datasetId: seed.datasetId,
        modelId: seed.modelId,
        hyperparameters: { hidden: 8, lr: 0.01 },
        training: IRIS_TRAINING,
        ...(status === 'RUNNING' ? { workerId: 'worker-1', heartbeatAt: new Date(), startedAt: new Date() } : {}),
        ...fields,
      },
    });
  }

  run(id: string): Promise<RunRow> {
    return this.prisma.run.findUniqueOrThrow({ where: { id } });
  }

  /** The jobs waiting on the queue, read from pg-boss's own table. */
  async waitingJobs(): Promise<TrainRunJob[]> {
    const rows = await this.prisma.$queryRaw<{ data: TrainRunJob }[]>`
      SELECT data FROM pgboss.job WHERE name = ${this.config.queue.name} AND state IN ('created', 'retry')`;
    return rows.map((row) => ({ runId: row.data.runId, attempt: row.data.attempt }));
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    await this.events.onModuleDestroy();
    await this.prisma.onModuleDestroy();
    await dropDatabase(this.name).catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A checkpoint as the worker's snapshotModel hands it over: the bytes are stored, never read here. */
export function checkpointArtifacts(values: number[]) {
  const weights = new Float32Array(values);
  return {
    modelTopology: { class_name: 'Sequential', config: { layers: [] } },
    weightSpecs: [{ name: 'dense/kernel', shape: [values.length], dtype: 'float32' as const }],
    weights: weights.buffer,
    optimizerSpecs: [],
    optimizerWeights: new ArrayBuffer(0),
  };
}
