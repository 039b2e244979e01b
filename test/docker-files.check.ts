import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** Static checks of docker/: no Docker daemon is needed (nor, here, available). */
const ROOT = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const out: Instruction[] = [];
  let stage = -1;
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const op = match[1].toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: match[2].trim(), stage });
  }
  return out;
}

function checkDockerfile(path: string, expectedCmd: string[]) {
  const steps = instructions(read(path));
  const froms = steps.filter((s) => s.op === 'FROM');
  const finalStage = froms.length - 1;
  const final = steps.filter((s) => s.stage === finalStage);
  return { steps, froms, final, expectedCmd };
}

describe('docker/Dockerfile', () => {
  const { steps, froms, final } = checkDockerfile('docker/Dockerfile', []);

  it('is multi-stage: a build stage with all dependencies, then a runtime stage', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms.some((f) => /\bAS\s+build\b/i.test(f.args))).toBe(true);
    const build = steps.filter((s) => s.stage === froms.findIndex((f) => /\bAS\s+build\b/i.test(f.args)));
    expect(build.some((s) => s.op === 'RUN' && /npm ci\b/.test(s.args) && !/--omit=dev/.test(s.args))).toBe(true);
    expect(build.some((s) => s.op === 'RUN' && /npm run build/.test(s.args))).toBe(true);
  });

  it('installs production dependencies only in the runtime stage and copies dist/ from the build', () => {
    expect(final.some((s) => s.op === 'RUN' && /npm ci\b.*--omit=dev/.test(s.args))).toBe(true);
    expect(final.some((s) => s.op === 'COPY' && /--from=build\b.*dist/.test(s.args))).toBe(true);
    expect(final.some((s) => s.op === 'COPY' && /prisma/.test(s.args))).toBe(true);
  });

  it('runs as a non-root user, combined launcher by default, port 3000 with a health check', () => {
    const users = final.filter((s) => s.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    expect(JSON.parse(final.find((s) => s.op === 'CMD')!.args)).toEqual(['node', 'dist/apps/main.js']);
    expect(final.some((s) => s.op === 'EXPOSE' && s.args.split(/\s+/).includes('3000'))).toBe(true);
    expect(final.some((s) => s.op === 'HEALTHCHECK' && /\/health/.test(s.args))).toBe(true);
  });

  it(
    'listens on every interface inside the container (the API ' + 'binds 127.0.0.1 elsewhere) on the current Node LTS',
    () => {
      expect(final.some((s) => s.op === 'ENV' && /\bHOST=0\.0\.0\.0\b/.test(s.args))).toBe(true);
      expect(read('docker/Dockerfile')).toMatch(/ARG NODE_IMAGE=node:24-/);
    },
  );
});

describe('docker/Dockerfile.gpu', () => {
  const { steps, froms, final } = checkDockerfile('docker/Dockerfile.gpu', []);
  const text = read('docker/Dockerfile.gpu');

  it('builds in one stage and runs the worker on a CUDA + cuDNN base as a non-root user', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(steps.some((s) => s.op === 'RUN' && /npm run build/.test(s.args))).toBe(true);
    const cudaArg = /ARG CUDA_IMAGE=(\S+)/.exec(text)?.[1] ?? froms.at(-1)!.args;
    expect(cudaArg).toMatch(/^nvidia\/cuda:.*cudnn.*runtime/);
    expect(final.some((s) => s.op === 'RUN' && /npm ci\b.*--omit=dev/.test(s.args))).toBe(true);
    expect(final.some((s) => s.op === 'RUN' && /@tensorflow\/tfjs-node-gpu/.test(s.args))).toBe(true);
    expect(final.some((s) => s.op === 'COPY' && /\/usr\/local\/bin\/node/.test(s.args))).toBe(true);
    const users = final.filter((s) => s.op === 'USER');
    expect(users.at(-1)?.args).toBeTruthy();
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    expect(JSON.parse(final.find((s) => s.op === 'CMD')!.args)).toEqual(['node', 'dist/apps/worker/src/main.js']);
  });
});

describe('docker/compose.yml', () => {
  const compose = parse(read('docker/compose.yml'), { merge: true }) as {
    services: Record<string, any>;
    volumes?: Record<string, unknown>;
  };
  const { services } = compose;

  it('has postgres, redis, api and worker', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'postgres', 'redis', 'worker']);
  });

  it('keeps PostgreSQL on a named volume and checks both stores for health', () => {
    const volume = (services.postgres.volumes as string[]).find((v) => v.endsWith(':/var/lib/postgresql/data'));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume!.split(':')[0]);
    expect(services.postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(services.redis.healthcheck.test.join(' ')).toMatch(/redis-cli.*ping/);
  });

  it(
    "publishes the API on 3000, on the host's loopback unless " + 'PUBLISH_HOST says otherwise, with a health check',
    () => {
      expect(services.api.ports).toContain('${PUBLISH_HOST:-127.0.0.1}:3000:3000');
      // The key is passed through from the host's environment (README and the file's header say how).
      expect(services.api.environment.API_KEY).toBe('${API_KEY:-}');
      expect(services.api.healthcheck.test.join(' ')).toMatch(/:3000\/health/);
      expect(services.api.command).toEqual(['node', 'dist/apps/api/src/main.js']);
      expect(services.worker.command).toEqual(['node', 'dist/apps/worker/src/main.js']);
    },
  );

  it('starts the API and worker only once PostgreSQL and Redis are healthy, with their URLs', () => {
    for (const name of ['api', 'worker']) {
      const service = services[name];
      expect(service.depends_on.postgres.condition).toBe('service_healthy');
      expect(service.depends_on.redis.condition).toBe('service_healthy');
      expect(service.environment.DATABASE_URL).toMatch(/^postgresql:\/\/[^@]+@postgres:5432\//);
      expect(service.environment.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
      // API and workers share DATA_DIR (uploaded datasets).
      expect(service.volumes).toContain('trainer-data:/data');
    }
    expect(services.api.build.dockerfile).toBe('docker/Dockerfile');
  });

  it('builds the trainer image for both services and never tries to pull it', () => {
    for (const name of ['api', 'worker']) {
      expect(services[name].image).toBe('trainer:latest');
      expect(services[name].build.dockerfile).toBe('docker/Dockerfile');
      expect(services[name].pull_policy).toBe('build');
    }
  });
});

describe('.dockerignore', () => {
  it('keeps local state and dependencies out of the build context', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.data', '.git']) expect(lines).toContain(entry);
  });
});
