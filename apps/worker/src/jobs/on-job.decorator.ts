import { SetMetadata } from '@nestjs/common';

import type { JobName } from '#libs/core/queue';

export const JOB_HANDLER = Symbol('JOB_HANDLER');

/** Marks the method that runs a job; JobDispatcher finds it at start and checks each job has exactly one. */
export const OnJob = (name: JobName): MethodDecorator => SetMetadata(JOB_HANDLER, name);
