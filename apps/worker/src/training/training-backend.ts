import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '#libs/core/config';
import { selectBackend } from '#libs/pure/training';

/** The TF.js backend this worker trains on, picked once at start (TRAINING_BACKEND forces one). */
@Injectable()
export class TrainingBackend implements OnModuleInit {
  private readonly logger = new Logger(TrainingBackend.name);
  device = 'unknown';

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    const { backend, wasmNativeKernels, wasmThreads } = this.config.worker;
    const selected = await selectBackend(backend, { nativeKernels: wasmNativeKernels, threads: wasmThreads });
    this.device = selected.device;
    this.logger.log(
      `training backend: ${selected.device}${selected.detail ? `, ${selected.detail}` : ''} (tried ` +
        `${selected.tried.join(', ')})`,
    );
  }
}
