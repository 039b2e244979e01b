import { Args, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';

import { JSONScalar } from '#libs/core/graphql';
import { type ColumnHistogram, DatasetHistogramsService } from '#libs/domain/datasets';
import { Dataset } from '#libs/domain/datasets';
import { type ImageSamples, ImageSamplesService } from '#libs/domain/datasets';

/** What the dashboard shows of a dataset beyond its statistics: histograms, image classes and samples. */
@Resolver(() => Dataset)
export class DatasetViewsResolver {
  constructor(
    private readonly histograms: DatasetHistogramsService,
    private readonly images: ImageSamplesService,
  ) {}

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

  @ResolveField('imageSamples', () => JSONScalar, {
    nullable: true,
    description:
      'an images dataset: {"classes": [{"label", "count"}] most frequent first, "samples": [{"label", "file", ' +
      '"thumbnail": "data:image/png;base64,..."}] (the first perClass images of each class)}; null for other formats',
  })
  imageSamples(
    @Parent() dataset: Dataset,
    @Args('perClass', { type: () => Int, nullable: true, defaultValue: 4 }) perClass: number,
  ): Promise<ImageSamples | null> {
    return this.images.samples(dataset, perClass);
  }
}
