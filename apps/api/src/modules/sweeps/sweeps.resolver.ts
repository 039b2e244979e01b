import { Args, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';

import { RunStatus } from '#libs/core/graphql';
import { JSONScalar } from '#libs/core/graphql';
import { Run, RunPage } from '#libs/domain/runs';
import { RunsService } from '#libs/domain/runs';
import { CreateSweepInput, Sweep, SweepPage } from '#libs/domain/sweeps';
import { SweepsService } from '#libs/domain/sweeps';

@Resolver(() => Sweep)
export class SweepsResolver {
  constructor(
    private readonly service: SweepsService,
    private readonly runsService: RunsService,
  ) {}

  @Query(() => [Sweep])
  sweeps(): Promise<Sweep[]> {
    return this.service.list();
  }

  @Query(() => SweepPage)
  sweepsPage(
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<SweepPage> {
    return this.service.page(first, after);
  }

  @Query(() => Sweep, { nullable: true })
  sweep(@Args('id', { type: () => ID }) id: string): Promise<Sweep | null> {
    return this.service.find(id);
  }

  @Mutation(() => Sweep)
  createSweep(@Args('input', { type: () => CreateSweepInput }) input: CreateSweepInput): Promise<Sweep> {
    return this.service.create(input);
  }

  @Mutation(() => Sweep)
  cancelSweep(@Args('id', { type: () => ID }) id: string): Promise<Sweep> {
    return this.service.cancel(id);
  }

  @ResolveField('runs', () => [Run])
  runs(@Parent() sweep: Sweep): Promise<Run[]> {
    return this.service.runs(sweep.id);
  }

  @ResolveField('runsPage', () => RunPage)
  runsPage(
    @Parent() sweep: Sweep,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('status', { type: () => RunStatus, nullable: true }) status?: RunStatus | null,
  ): Promise<RunPage> {
    return this.runsService.page({ sweepId: sweep.id, status: status ?? undefined }, first, after);
  }

  @ResolveField('importance', () => JSONScalar, {
    nullable: true,
    description: '{"param": share} summing to 1 (PED-ANOVA over finished trials); null below 10 finished trials',
  })
  importance(@Parent() sweep: Sweep): Promise<Record<string, number> | null> {
    return this.service.importance(sweep);
  }

  @ResolveField('bestRun', () => Run, { nullable: true })
  bestRun(@Parent() sweep: Sweep): Promise<Run | null> {
    return this.service.bestRun(sweep);
  }
}

/** Run.sweep lives here so the runs module does not depend on sweeps. */
@Resolver(() => Run)
export class RunSweepResolver {
  constructor(private readonly service: SweepsService) {}

  @ResolveField('sweep', () => Sweep, { nullable: true })
  sweep(@Parent() run: Run): Promise<Sweep | null> {
    return run.sweepId ? this.service.find(run.sweepId) : Promise.resolve(null);
  }
}
