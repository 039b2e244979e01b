import { Module } from '@nestjs/common';
import { SweepScheduler } from './sweep-scheduler.service.js';

@Module({ providers: [SweepScheduler], exports: [SweepScheduler] })
export class SweepSchedulerModule {}
