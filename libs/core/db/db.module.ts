import { Global, Module } from '@nestjs/common';

import { PrismaService } from './prisma.service.js';
import { RunEventsRepository } from './run-events.repository.js';

@Global()
@Module({ providers: [PrismaService, RunEventsRepository], exports: [PrismaService, RunEventsRepository] })
export class DbModule {}
