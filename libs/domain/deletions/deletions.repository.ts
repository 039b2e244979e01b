import { Injectable } from '@nestjs/common';

import { PrismaService } from '#libs/core/db';
import { ACTIVE_RUN_STATUSES } from '#libs/domain/runs';

/** What a delete found: nothing, work still going on, history it would take along (without force), or done. */
export type DeleteOutcome =
  | { kind: 'missing' }
  | { kind: 'busy'; activeRuns: number; runningSweeps: number }
  | { kind: 'used'; runs: number; sweeps: number }
  | { kind: 'deleted'; runs: number; sweeps: number };

type Owner = { table: 'datasets'; column: 'dataset_id' } | { table: 'model_definitions'; column: 'model_id' };

interface Uses {
  activeRuns: number;
  runs: number;
  runningSweeps: number;
  sweeps: number;
}

// The statuses are enum names from the lifecycle table, never user input, so they are written into the SQL.
const ACTIVE_RUN = `status IN (${ACTIVE_RUN_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/**
 * Deletes with their history, each in one transaction that first locks the row deleted: a run started meanwhile
 * either is seen here (and the delete is refused) or waits on the lock and then finds its dataset or model gone
 * (a foreign-key failure, answered as CONFLICT by the exception filter). Metric points and checkpoints go with
 * their runs (ON DELETE CASCADE).
 */
@Injectable()
export class DeletionsRepository {
  constructor(private readonly prisma: PrismaService) {}

  deleteDataset(id: string, force: boolean): Promise<DeleteOutcome> {
    return this.deleteOwner({ table: 'datasets', column: 'dataset_id' }, id, force);
  }

  deleteModel(id: string, force: boolean): Promise<DeleteOutcome> {
    return this.deleteOwner({ table: 'model_definitions', column: 'model_id' }, id, force);
  }

  private deleteOwner(owner: Owner, id: string, force: boolean): Promise<DeleteOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const found = await tx.$queryRawUnsafe<unknown[]>(
        `SELECT id FROM ${owner.table} WHERE id = $1::uuid FOR UPDATE`,
        id,
      );
      if (found.length === 0) return { kind: 'missing' };
      const [uses] = await tx.$queryRawUnsafe<Uses[]>(
        `SELECT (SELECT count(*) FROM runs WHERE ${owner.column} = $1::uuid AND ${ACTIVE_RUN})::int AS "activeRuns",
                (SELECT count(*) FROM runs WHERE ${owner.column} = $1::uuid)::int AS runs,
                (SELECT count(*) FROM sweeps WHERE ${owner.column} = $1::uuid AND status = 'RUNNING')::int
                  AS "runningSweeps",
                (SELECT count(*) FROM sweeps WHERE ${owner.column} = $1::uuid)::int AS sweeps`,
        id,
      );
      if (uses.activeRuns > 0 || uses.runningSweeps > 0)
        return { kind: 'busy', activeRuns: uses.activeRuns, runningSweeps: uses.runningSweeps };
      if (!force && (uses.runs > 0 || uses.sweeps > 0)) return { kind: 'used', runs: uses.runs, sweeps: uses.sweeps };
      await tx.$executeRawUnsafe(`DELETE FROM runs WHERE ${owner.column} = $1::uuid`, id);
      await tx.$executeRawUnsafe(`DELETE FROM sweeps WHERE ${owner.column} = $1::uuid`, id);
      await tx.$executeRawUnsafe(`DELETE FROM ${owner.table} WHERE id = $1::uuid`, id);
      return { kind: 'deleted', runs: uses.runs, sweeps: uses.sweeps };
    });
  }

  deleteRun(id: string): Promise<DeleteOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const [run] = await tx.$queryRawUnsafe<{ active: boolean; sweepRunning: boolean }[]>(
        `SELECT r.${ACTIVE_RUN} AS active, coalesce(s.status = 'RUNNING', false) AS "sweepRunning"
           FROM runs r LEFT JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = $1::uuid FOR UPDATE OF r`,
        id,
      );
      if (!run) return { kind: 'missing' };
      if (run.active || run.sweepRunning)
        return { kind: 'busy', activeRuns: run.active ? 1 : 0, runningSweeps: run.sweepRunning ? 1 : 0 };
      await tx.$executeRawUnsafe(`DELETE FROM runs WHERE id = $1::uuid`, id);
      return { kind: 'deleted', runs: 1, sweeps: 0 };
    });
  }

  deleteSweep(id: string): Promise<DeleteOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const [sweep] = await tx.$queryRawUnsafe<{ running: boolean }[]>(
        `SELECT status = 'RUNNING' AS running FROM sweeps WHERE id = $1::uuid FOR UPDATE`,
        id,
      );
      if (!sweep) return { kind: 'missing' };
      const [{ activeRuns, runs }] = await tx.$queryRawUnsafe<{ activeRuns: number; runs: number }[]>(
        `SELECT count(*) FILTER (WHERE ${ACTIVE_RUN})::int AS "activeRuns", count(*)::int AS runs
           FROM runs WHERE sweep_id = $1::uuid`,
        id,
      );
      if (sweep.running || activeRuns > 0) return { kind: 'busy', activeRuns, runningSweeps: sweep.running ? 1 : 0 };
      await tx.$executeRawUnsafe(`DELETE FROM runs WHERE sweep_id = $1::uuid`, id);
      await tx.$executeRawUnsafe(`DELETE FROM sweeps WHERE id = $1::uuid`, id);
      return { kind: 'deleted', runs, sweeps: 1 };
    });
  }
}
