import { Injectable } from '@nestjs/common';

import { AppError, isUuid } from '#libs/core/errors';
import { DatasetsService } from '#libs/domain/datasets';

import { type DeleteOutcome, DeletionsRepository } from './deletions.repository.js';

/** The rule for every delete: refused (CONFLICT) while a run is queued or running or a sweep is running. */
@Injectable()
export class DeletionsService {
  constructor(
    private readonly deletions: DeletionsRepository,
    private readonly datasets: DatasetsService,
  ) {}

  async deleteDataset(id: string, force: boolean): Promise<boolean> {
    if (!isUuid(id)) throw AppError.notFound('dataset', id);
    this.check('dataset', id, await this.deletions.deleteDataset(id, force));
    await this.datasets.discardStoredFile(id);
    return true;
  }

  async deleteModel(id: string, force: boolean): Promise<boolean> {
    if (!isUuid(id)) throw AppError.notFound('model', id);
    this.check('model', id, await this.deletions.deleteModel(id, force));
    return true;
  }

  async deleteRun(id: string): Promise<boolean> {
    if (!isUuid(id)) throw AppError.notFound('run', id);
    this.check('run', id, await this.deletions.deleteRun(id));
    return true;
  }

  async deleteSweep(id: string): Promise<boolean> {
    if (!isUuid(id)) throw AppError.notFound('sweep', id);
    this.check('sweep', id, await this.deletions.deleteSweep(id));
    return true;
  }

  private check(kind: string, id: string, outcome: DeleteOutcome): void {
    if (outcome.kind === 'missing') throw AppError.notFound(kind, id);
    if (outcome.kind === 'busy') {
      throw AppError.conflict(
        `${kind} "${id}" cannot be deleted while work on it goes on (${outcome.activeRuns} run(s) queued or running, ` +
          `${outcome.runningSweeps} sweep(s) running): cancel them first`,
      );
    }
    if (outcome.kind === 'used') {
      throw AppError.conflict(
        `${kind} "${id}" is used by ${outcome.runs} run(s) and ${outcome.sweeps} sweep(s); ` +
          'pass force: true to delete them with it (their metrics and checkpoints too)',
      );
    }
  }
}
