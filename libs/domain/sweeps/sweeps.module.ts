import { Module } from '@nestjs/common';

import { RunLifecycleModule, SweepAdvancer } from '#libs/domain/runs';

import { SweepScheduler } from './sweep-scheduler.service.js';

@Module({
  imports: [RunLifecycleModule],
  providers: [SweepScheduler, { provide: SweepAdvancer, useExisting: SweepScheduler }],
  exports: [SweepScheduler, SweepAdvancer],
})
export class SweepSchedulerModule {}
