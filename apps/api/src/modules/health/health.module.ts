import { Module } from '@nestjs/common';

import { ApiVersionResolver } from './api-version.resolver.js';
import { HealthController } from './health.controller.js';

@Module({ controllers: [HealthController], providers: [ApiVersionResolver] })
export class HealthModule {}
