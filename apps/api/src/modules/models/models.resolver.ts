import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';

import { CreateModelInput, ModelDefinition, ModelPage } from '#libs/domain/models';
import { ModelsService } from '#libs/domain/models';

@Resolver(() => ModelDefinition)
export class ModelsResolver {
  constructor(private readonly service: ModelsService) {}

  @Query(() => [ModelDefinition])
  models(): Promise<ModelDefinition[]> {
    return this.service.list();
  }

  @Query(() => ModelPage)
  modelsPage(
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<ModelPage> {
    return this.service.page(first, after);
  }

  @Query(() => ModelDefinition, { nullable: true })
  model(@Args('id', { type: () => ID }) id: string): Promise<ModelDefinition | null> {
    return this.service.find(id);
  }

  @Mutation(() => ModelDefinition)
  createModel(@Args('input', { type: () => CreateModelInput }) input: CreateModelInput): Promise<ModelDefinition> {
    return this.service.create(input.name, input.spec);
  }
}
