import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import { ApiKeyMiddleware } from './api-key.middleware.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysResolver } from './api-keys.resolver.js';
import { ApiKeysService } from './api-keys.service.js';
import { RolesGuard } from './roles.guard.js';

@Global()
@Module({
  providers: [
    ApiKeysService,
    ApiKeysRepository,
    ApiKeysResolver,
    ApiKeyMiddleware,
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [ApiKeysService, ApiKeyMiddleware],
})
export class AuthModule {}
