import { Inject, Injectable } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { AppError, isUuid } from '#libs/core/errors';
import { type Page, pageQuery, toPage } from '#libs/core/pagination';
import { validateModelSpec } from '#libs/pure/training';

import type { ModelDefinition } from './dto/model-definition.type.js';
import { ModelsRepository } from './models.repository.js';

@Injectable()
export class ModelsService {
  constructor(
    private readonly models: ModelsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * `name` is checked by CreateModelInput's rules. The spec is checked with "$name" references standing for any
   * value; startRun checks again with the values.
   */
  async create(name: string, spec: unknown): Promise<ModelDefinition> {
    validateModelSpec(spec, { allowReferences: true });
    return this.models.createVersion(name.trim(), spec);
  }

  async get(id: string): Promise<ModelDefinition> {
    const row = isUuid(id) ? await this.models.findById(id) : null;
    if (!row) throw AppError.notFound('model', id);
    return row;
  }

  async find(id: string): Promise<ModelDefinition | null> {
    return isUuid(id) ? this.models.findById(id) : null;
  }

  /** The newest model versions, at most MAX_LIST_ITEMS of them: modelsPage pages through all. */
  list(): Promise<ModelDefinition[]> {
    return this.models.findAll(this.config.limits.maxListItems);
  }

  async page(first?: number | null, after?: string | null): Promise<Page<ModelDefinition>> {
    const query = pageQuery(first, after);
    return toPage(
      await this.models.page(query),
      query,
      () => this.models.count(),
      (row) => row,
    );
  }
}
