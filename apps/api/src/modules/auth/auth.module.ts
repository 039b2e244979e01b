import { Global, Module } from '@nestjs/common';
import { ApiKeyMiddleware } from './api-key.middleware.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysResolver } from './api-keys.resolver.js';
import { ApiKeysService } from './api-keys.service.js';

@Global()
@Module({
  providers: [ApiKeysService, ApiKeysRepository, ApiKeysResolver, ApiKeyMiddleware],
  exports: [ApiKeysService, ApiKeyMiddleware],
})
export class AuthModule {}
