import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';

import { DatasetsService } from '#libs/domain/datasets';
import { Dataset, DatasetPage } from '#libs/domain/datasets';

@Resolver(() => Dataset)
export class DatasetsResolver {
  constructor(private readonly service: DatasetsService) {}

  @Query(() => [Dataset])
  datasets(): Promise<Dataset[]> {
    return this.service.list();
  }

  @Query(() => DatasetPage)
  datasetsPage(
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<DatasetPage> {
    return this.service.page(first, after);
  }

  @Query(() => Dataset, { nullable: true })
  dataset(@Args('id', { type: () => ID }) id: string): Promise<Dataset | null> {
    return this.service.find(id);
  }
}
