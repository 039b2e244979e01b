import { Module } from '@nestjs/common';

import { RunLifecycle } from './run-lifecycle.js';
import { RunLifecycleRepository } from './run-lifecycle.repository.js';

/** RunLifecycle for the API, the worker and the sweep scheduler; its repository stays inside. */
@Module({ providers: [RunLifecycle, RunLifecycleRepository], exports: [RunLifecycle] })
export class RunLifecycleModule {}
