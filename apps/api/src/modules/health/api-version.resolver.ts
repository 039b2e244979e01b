import { Int, Query, Resolver } from '@nestjs/graphql';

import { CONTRACT_VERSION } from '#libs/core/config';

@Resolver()
export class ApiVersionResolver {
  /** The contract version this service implements, so a client can tell what it may rely on. */
  @Query(() => Int, { description: 'The version of the public API contract this service implements.' })
  apiVersion(): number {
    return CONTRACT_VERSION;
  }
}
