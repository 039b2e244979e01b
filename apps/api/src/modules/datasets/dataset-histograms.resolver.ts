import { Args, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { JSONScalar } from '../../platform/json.scalar.js';
import { type ColumnHistogram, DatasetHistogramsService } from './dataset-histograms.service.js';
import { Dataset } from './dto/dataset.type.js';

@Resolver(() => Dataset)
export class DatasetHistogramsResolver {
  constructor(private readonly histograms: DatasetHistogramsService) {}

  @ResolveField('histograms', () => JSONScalar, {
    nullable: true,
    description:
      'per column: {"kind": "numeric", "edges": [bins + 1], "counts": [bins]} between min and max, or ' +
      '{"kind": "categorical", "values": [...], "counts": [...], "other": n} for the most frequent values; ' +
      'null while processing or for a format read otherwise (images)',
  })
  datasetHistograms(
    @Parent() dataset: Dataset,
    @Args('bins', { type: () => Int, nullable: true, defaultValue: 20 }) bins: number,
  ): Promise<Record<string, ColumnHistogram> | null> {
    return this.histograms.histograms(dataset, bins);
  }
}
