import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';

import { ApiKeysService } from './api-keys.service.js';
import { ApiKey, ApiKeyRoleName, CreateApiKeyArgs, CreatedApiKey } from './dto/api-key.type.js';

@Resolver(() => ApiKey)
export class ApiKeysResolver {
  constructor(private readonly service: ApiKeysService) {}

  @Query(() => [ApiKey])
  apiKeys(): Promise<ApiKey[]> {
    return this.service.list();
  }

  @Mutation(() => CreatedApiKey)
  createApiKey(@Args() { name, role }: CreateApiKeyArgs): Promise<CreatedApiKey> {
    return this.service.create(name, role ?? ApiKeyRoleName.READ);
  }

  @Mutation(() => Boolean)
  revokeApiKey(@Args('id', { type: () => ID }) id: string): Promise<boolean> {
    return this.service.revoke(id);
  }
}
