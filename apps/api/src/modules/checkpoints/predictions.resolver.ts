import { Args, Context, ID, Query, Resolver } from '@nestjs/graphql';

import { JSONScalar } from '#libs/core/graphql';
import { PredictionsService } from '#libs/domain/runs';

/** The GraphQL context (one per request or socket operation) counts the rows asked for so far. */
interface PredictRowsTally {
  predictRows?: number;
}

@Resolver()
export class PredictionsResolver {
  constructor(private readonly predictions: PredictionsService) {}

  @Query(() => [JSONScalar], { description: "Inference with a run's best checkpoint" })
  predict(
    @Args('runId', { type: () => ID }) runId: string,
    @Args('rows', { type: () => [JSONScalar] }) rows: unknown[],
    @Context() context: PredictRowsTally,
  ): Promise<unknown[]> {
    // MAX_PREDICT_ROWS holds for the whole request, all aliases together: counted before any of them runs.
    context.predictRows = (context.predictRows ?? 0) + rows.length;
    this.predictions.checkRowsPerRequest(context.predictRows, rows.length);
    return this.predictions.predict(runId, rows);
  }
}
