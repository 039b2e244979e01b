import { Args, ID, Mutation, Resolver } from '@nestjs/graphql';

import { DeletionsService } from '#libs/domain/deletions';

const FORCE = {
  type: () => Boolean,
  nullable: true,
  defaultValue: false,
  description: 'also delete the finished runs and sweeps that use it',
};

/** Deletes (admin keys only, see auth/roles.ts). */
@Resolver()
export class DeletionsResolver {
  constructor(private readonly deletions: DeletionsService) {}

  @Mutation(() => Boolean)
  deleteDataset(@Args('id', { type: () => ID }) id: string, @Args('force', FORCE) force: boolean): Promise<boolean> {
    return this.deletions.deleteDataset(id, force ?? false);
  }

  @Mutation(() => Boolean)
  deleteModel(@Args('id', { type: () => ID }) id: string, @Args('force', FORCE) force: boolean): Promise<boolean> {
    return this.deletions.deleteModel(id, force ?? false);
  }

  @Mutation(() => Boolean, { description: 'a finished run, with its metrics and checkpoints' })
  deleteRun(@Args('id', { type: () => ID }) id: string): Promise<boolean> {
    return this.deletions.deleteRun(id);
  }

  @Mutation(() => Boolean, { description: 'a finished sweep, with its runs' })
  deleteSweep(@Args('id', { type: () => ID }) id: string): Promise<boolean> {
    return this.deletions.deleteSweep(id);
  }
}
