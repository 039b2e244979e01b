import { Parent, ResolveField, Resolver } from '@nestjs/graphql';

import { JSONScalar } from '#libs/core/graphql';
import { Run } from '#libs/domain/runs';
import { type ConfusionMatrix, ConfusionMatrixService } from '#libs/domain/runs';

/** Fields of a run that need its model evaluated, beside the run's own resolver. */
@Resolver(() => Run)
export class RunEvaluationResolver {
  constructor(private readonly confusion: ConfusionMatrixService) {}

  @ResolveField('confusionMatrix', () => JSONScalar, {
    nullable: true,
    description:
      "classification only: the best checkpoint's confusion matrix on the run's validation split, " +
      '{"labels": [...], "matrix": [[count]] (row = true class, column = predicted), "rows", "validationRows", ' +
      '"accuracy", "checkpointId", "epoch"}; null for regression, an image dataset, or before the first checkpoint',
  })
  confusionMatrix(@Parent() run: Run): Promise<ConfusionMatrix | null> {
    return this.confusion.forRun(run);
  }
}
