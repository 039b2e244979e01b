import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { JSONScalar } from '../../platform/json.scalar.js';
import { PredictionsService } from './predictions.service.js';

@Resolver()
export class PredictionsResolver {
  constructor(private readonly predictions: PredictionsService) {}

  @Query(() => [JSONScalar], { description: "Inference with a run's best checkpoint" })
  predict(@Args('runId', { type: () => ID }) runId: string, @Args('rows', { type: () => [JSONScalar] }) rows: unknown[]): Promise<unknown[]> {
    return this.predictions.predict(runId, rows);
  }
}
