import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type JobQueue, openJobQueue, type TrainRunJob } from '#libs/core/queue';

import { ADMIN_URL, adminQuery, databaseUrl, dropDatabase } from './support/postgres.js';

/**
 * The one contract every queue driver keeps, run against BullMQ on a real Redis and pg-boss on a
 * real PostgreSQL (a database made for this file and dropped after it). Each queue is opened as the
 * service opens its own: openJobQueue with a config, REDIS_URL set or not.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const tag = randomBytes(4).toString('hex');

interface Driver {
  name: string;
  setup(): Promise<void>;
  /** A queue of its own for one test. */
  make(): Promise<JobQueue>;
  teardown(): Promise<void>;
}

function bullmqDriver(): Driver {
  const prefix = `tas_qc_${tag}`;
  let n = 0;
  return {
    name: 'bullmq',
    async setup() {},
    make: () => openJobQueue({ redisUrl: REDIS_URL, databaseUrl: ADMIN_URL, queue: { name: `q${n++}`, prefix } }),
    async teardown() {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

function pgBossDriver(): Driver {
  const database = `tas_qc_${tag}`;
  let n = 0;
  return {
    name: 'pg-boss',
    setup: () => adminQuery(`CREATE DATABASE "${database}"`),
    make: () =>
      openJobQueue({ redisUrl: undefined, databaseUrl: databaseUrl(database), queue: { name: `q${n++}`, prefix: '' } }),
    teardown: () => dropDatabase(database),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(25);
  }
}

const job = (runId: string, attempt = 1): TrainRunJob => ({ runId, attempt });

for (const driver of [bullmqDriver(), pgBossDriver()]) {
  describe(`JobQueue contract: ${driver.name}`, () => {
    let queues: JobQueue[] = [];
    const make = async () => {
      const queue = await driver.make();
      queues.push(queue);
      return queue;
    };

    beforeAll(() => driver.setup());
    afterEach(async () => {
      for (const queue of queues) await queue.close();
      queues = [];
    });
    afterAll(() => driver.teardown());

    it('names its driver and answers ping', async () => {
      const queue = await make();
      expect(queue.driver).toBe(driver.name);
      await expect(queue.ping()).resolves.toBeUndefined();
    });

    it('hands an enqueued job to the consumer', async () => {
      const queue = await make();
      const seen: TrainRunJob[] = [];
      await queue.consume(async (j) => void seen.push(j), 1);
      await queue.enqueue(job('run-a', 2));
      await until(() => seen.length === 1);
      expect(seen[0]).toEqual({ runId: 'run-a', attempt: 2 });
    });

    it('queues a job once however often it is enqueued; another attempt is another job', async () => {
      const queue = await make();
      await queue.enqueue(job('run-a'));
      await queue.enqueue(job('run-a'));
      await queue.enqueue(job('run-a'), { priority: 3 });
      await queue.enqueue(job('run-a', 2));
      expect(await queue.depth()).toEqual({ waiting: 2, active: 0 });
      const seen: string[] = [];
      await queue.consume(async (j) => void seen.push(`${j.runId}/${j.attempt}`), 1);
      await until(() => seen.length === 2);
      await sleep(700);
      expect(seen.sort()).toEqual(['run-a/1', 'run-a/2']);
    });

    it('removes a job that has not started, and ignores one it does not know', async () => {
      const queue = await make();
      await queue.enqueue(job('run-a'));
      await queue.enqueue(job('run-b'));
      await queue.remove(job('run-a'));
      await queue.remove(job('never-queued'));
      expect(await queue.depth()).toEqual({ waiting: 1, active: 0 });
      const seen: string[] = [];
      await queue.consume(async (j) => void seen.push(j.runId), 1);
      await until(() => seen.length === 1);
      await sleep(700);
      expect(seen).toEqual(['run-b']);
    });

    it('leaves a running job alone on remove', async () => {
      const queue = await make();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const seen: string[] = [];
      await queue.consume(async (j) => {
        seen.push(j.runId);
        await held;
      }, 1);
      await queue.enqueue(job('run-a'));
      await until(() => seen.length === 1);
      await queue.remove(job('run-a'));
      expect((await queue.depth()).active).toBe(1);
      release();
      await until(async () => (await queue.depth()).active === 0);
    });

    it('runs jobs with no priority first, then lower priority numbers first', async () => {
      const queue = await make();
      await queue.enqueue(job('p5'), { priority: 5 });
      await queue.enqueue(job('p1'), { priority: 1 });
      await queue.enqueue(job('none'));
      await queue.enqueue(job('p3'), { priority: 3 });
      const seen: string[] = [];
      await queue.consume(async (j) => void seen.push(j.runId), 1);
      await until(() => seen.length === 4);
      expect(seen).toEqual(['none', 'p1', 'p3', 'p5']);
    });

    it('never runs more handlers at once than the concurrency asked for', async () => {
      const queue = await make();
      for (let i = 0; i < 6; i++) await queue.enqueue(job(`run-${i}`));
      let running = 0;
      let most = 0;
      let done = 0;
      await queue.consume(async () => {
        running++;
        most = Math.max(most, running);
        await sleep(400);
        running--;
        done++;
      }, 2);
      await until(() => done === 6, 20_000);
      expect(most).toBe(2);
    });

    it('stopConsuming waits for the running handler and takes no further job', async () => {
      const queue = await make();
      await queue.enqueue(job('run-a'));
      await queue.enqueue(job('run-b'));
      const started: string[] = [];
      let finished = false;
      await queue.consume(async (j) => {
        started.push(j.runId);
        await sleep(1_000);
        finished = true;
      }, 1);
      await until(() => started.length === 1);
      await queue.stopConsuming();
      expect(finished).toBe(true);
      await sleep(700);
      expect(started).toEqual(['run-a']);
      expect(await queue.depth()).toEqual({ waiting: 1, active: 0 });
    });

    it('counts waiting and active jobs', async () => {
      const queue = await make();
      expect(await queue.depth()).toEqual({ waiting: 0, active: 0 });
      for (const id of ['a', 'b', 'c']) await queue.enqueue(job(id), id === 'c' ? { priority: 2 } : {});
      expect(await queue.depth()).toEqual({ waiting: 3, active: 0 });
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let taken = 0;
      await queue.consume(async () => {
        taken++;
        await held;
      }, 1);
      await until(() => taken === 1);
      await until(async () => (await queue.depth()).active === 1);
      expect(await queue.depth()).toEqual({ waiting: 2, active: 1 });
      release();
      await until(() => taken === 3);
      await until(async () => JSON.stringify(await queue.depth()) === JSON.stringify({ waiting: 0, active: 0 }));
    });

    it('does not run a failed job again on its own', async () => {
      const queue = await make();
      let calls = 0;
      await queue.consume(async () => {
        calls++;
        throw new Error('boom');
      }, 1);
      await queue.enqueue(job('run-a'));
      await until(() => calls === 1);
      await sleep(1_200);
      expect(calls).toBe(1);
      expect(await queue.depth()).toEqual({ waiting: 0, active: 0 });
    });
  });
}
