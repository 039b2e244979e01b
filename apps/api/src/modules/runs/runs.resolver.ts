import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';

import { RunStatus } from '#libs/core/graphql';
import { DatasetsService } from '#libs/domain/datasets';
import { Dataset } from '#libs/domain/datasets';
import { ModelDefinition } from '#libs/domain/models';
import { ModelsService } from '#libs/domain/models';
import { Checkpoint, MetricPoint, MetricsArgs, MetricSeries, Run, RunPage, StartRunInput } from '#libs/domain/runs';
import { RunsService } from '#libs/domain/runs';

import { metricTopic, RunEventsBridge, runTopic } from './run-events.bridge.js';

@Resolver(() => Run)
export class RunsResolver {
  constructor(
    private readonly service: RunsService,
    private readonly datasets: DatasetsService,
    private readonly models: ModelsService,
    private readonly events: RunEventsBridge,
  ) {}

  @Query(() => [Run])
  runs(
    @Args('status', { type: () => RunStatus, nullable: true }) status?: RunStatus,
    @Args('sweepId', { type: () => ID, nullable: true }) sweepId?: string,
  ): Promise<Run[]> {
    return this.service.list({ status: status ?? undefined, sweepId: sweepId ?? undefined });
  }

  @Query(() => RunPage)
  runsPage(
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('status', { type: () => RunStatus, nullable: true }) status?: RunStatus | null,
    @Args('sweepId', { type: () => ID, nullable: true }) sweepId?: string | null,
  ): Promise<RunPage> {
    return this.service.page({ status: status ?? undefined, sweepId: sweepId ?? undefined }, first, after);
  }

  @Query(() => Run, { nullable: true })
  run(@Args('id', { type: () => ID }) id: string): Promise<Run | null> {
    return this.service.find(id);
  }

  @Mutation(() => Run)
  startRun(@Args('input', { type: () => StartRunInput }) input: StartRunInput): Promise<Run> {
    return this.service.start(input);
  }

  @Mutation(() => Run)
  cancelRun(@Args('id', { type: () => ID }) id: string): Promise<Run> {
    return this.service.cancel(id);
  }

  @ResolveField('dataset', () => Dataset)
  dataset(@Parent() run: Run): Promise<Dataset> {
    return this.datasets.get(run.datasetId);
  }

  @ResolveField('model', () => ModelDefinition)
  model(@Parent() run: Run): Promise<ModelDefinition> {
    return this.models.get(run.modelId);
  }

  @ResolveField('metrics', () => [MetricSeries])
  metrics(@Parent() run: Run, @Args() { names, maxPoints }: MetricsArgs): Promise<MetricSeries[]> {
    return this.service.metrics(run.id, names ?? undefined, maxPoints ?? undefined);
  }

  @ResolveField('checkpoints', () => [Checkpoint])
  checkpoints(@Parent() run: Run): Promise<Checkpoint[]> {
    return this.service.checkpoints(run.id);
  }

  @ResolveField('bestCheckpoint', () => Checkpoint, { nullable: true })
  bestCheckpoint(@Parent() run: Run): Promise<Checkpoint | null> {
    return this.service.bestCheckpoint(run);
  }

  @Subscription(() => Run, { resolve: (run: Run) => run })
  runUpdated(@Args('id', { type: () => ID }) id: string) {
    return this.events.pubSub.asyncIterableIterator(runTopic(id));
  }

  @Subscription(() => MetricPoint, { resolve: (point: MetricPoint) => point })
  metricLogged(@Args('runId', { type: () => ID }) runId: string) {
    return this.events.pubSub.asyncIterableIterator(metricTopic(runId));
  }
}
