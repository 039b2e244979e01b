import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { DatasetsService } from './datasets.service.js';
import { Dataset } from './dto/dataset.type.js';

@Resolver(() => Dataset)
export class DatasetsResolver {
  constructor(private readonly service: DatasetsService) {}

  @Query(() => [Dataset])
  datasets(): Promise<Dataset[]> {
    return this.service.list();
  }

  @Query(() => Dataset, { nullable: true })
  dataset(@Args('id', { type: () => ID }) id: string): Promise<Dataset | null> {
    return this.service.find(id);
  }
}
